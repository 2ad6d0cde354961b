import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

export const bin = new URL("../dist/bin.js", import.meta.url).pathname;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh working directory (the CLI keeps its defaults under ./.taskq). */
export function workdir(): string {
  return mkdtempSync(join(tmpdir(), "taskq-cli-"));
}

/** Runs the built `taskq` binary in `cwd` and resolves with its exit code and output. */
export function taskq(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd,
        env: { ...process.env, LOG_LEVEL: "warn", BASE_LATENCY_MS: "1", ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Starts `taskq` without waiting; for signals and concurrent processes. */
export function startTaskq(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: "warn", BASE_LATENCY_MS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<Result>((resolve) => {
    child.on("exit", (code, signal) =>
      resolve({ code: code ?? (signal === "SIGKILL" ? 137 : 1), stdout, stderr }),
    );
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Output objects under `storage/derived`, as key → md5. */
export function outputs(storage: string): Map<string, string> {
  const base = join(storage, "derived");
  const result = new Map<string, string>();
  for (const entry of readdirSync(base, { recursive: true }).map(String)) {
    if (entry.endsWith(".ppm"))
      result.set(
        entry,
        createHash("md5")
          .update(readFileSync(join(base, entry)))
          .digest("hex"),
      );
  }
  return result;
}

/** A generated workload run by one process on SQLite: what every other run of it must produce, byte for byte. */
export async function cleanOutputs(count: number, seed: number): Promise<Map<string, string>> {
  const dir = workdir();
  await taskq(dir, ["generate", "--count", String(count), "--seed", String(seed), "--out", "tasks.json"]);
  const run = await taskq(dir, ["run", "--tasks", "tasks.json", "--store", "tasks.db"]);
  expect(run.code).toBe(0);
  return outputs(join(dir, ".taskq", "objects"));
}

/** Waits for a condition another process makes true, checking every 10 ms (no blind sleep). */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The figures a reading shows: tasks by status, and the open dead letters. */
type ReadStatus = "queued" | "scheduled" | "running" | "succeeded" | "failed" | "cancelled" | "dead-letters";

/**
 * Fills a store with tasks in every state a reading counts (succeeded, failed with dead letters,
 * due, delayed, cancelled), then reads it through `taskq monitor --export json` and through the
 * overview page of `taskq dashboard`: the two sides of the one read model, as separate processes.
 * Returns both readings' figures, by status.
 */
export async function monitorAndDashboard(
  dir: string,
  store: readonly string[],
): Promise<{ monitor: Record<ReadStatus, number>; dashboard: Record<ReadStatus, number> }> {
  expect((await taskq(dir, ["submit", "--random", "--count", "10", "--seed", "2", ...store])).code).toBe(0);
  expect((await taskq(dir, ["serve", "--exit-when-idle", "--threads", "1", ...store])).code).toBe(0);
  const compute = (value: number, extra: string[] = []) =>
    taskq(dir, [
      "submit",
      "--payload",
      JSON.stringify({ type: "compute", operation: "factorial", value }),
      ...extra,
      ...store,
    ]);
  const due = await Promise.all([3, 4, 5].map((v) => compute(v)));
  await Promise.all([6, 7].map((v) => compute(v, ["--delay-ms", "3600000"])));
  expect((await taskq(dir, ["cancel", due[0]?.stdout.trim() as string, ...store])).code).toBe(0);

  const reading = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json", ...store])).stdout);
  const board = startTaskq(dir, ["dashboard", "--port", "0", ...store]);
  try {
    const port = () => Number(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(board.output().stderr)?.[1]);
    await until(() => port() > 0, "taskq dashboard to listen");
    const page = await (await fetch(`http://127.0.0.1:${port()}/`)).text();
    const shown = (name: string) => Number(new RegExp(`data-count="${name}">([^<]*)<`).exec(page)?.[1]);
    const statuses = ["queued", "scheduled", "running", "succeeded", "failed", "cancelled"] as const;
    const of = (value: (s: ReadStatus) => number) =>
      Object.fromEntries([...statuses, "dead-letters" as const].map((s) => [s, value(s)])) as Record<
        ReadStatus,
        number
      >;
    return {
      monitor: of((s) => (s === "dead-letters" ? reading.dead_letters : reading[s])),
      dashboard: of(shown),
    };
  } finally {
    board.child.kill("SIGTERM");
    await board.exited;
  }
}

const upperHandler = new URL("./fixtures/upper.mjs", import.meta.url).pathname;

/**
 * A mistyped kind on a store (`store`: its flags), for both stores: refused with --strict and
 * nothing stored; said in one line on stderr without it, naming the known kinds, and stored; known
 * once a worker serves it, a task has it, or a schedule does (readKnownKinds).
 */
export async function mistypedKinds(dir: string, store: readonly string[]): Promise<void> {
  const BUILT_IN = "compute, fail, http_request, image, noop, sleep";
  const submit = (kind: string, extra: string[] = []) =>
    taskq(dir, ["submit", "--kind", kind, "--payload", JSON.stringify({ text: kind }), ...extra, ...store]);
  const kinds = async () =>
    (JSON.parse((await taskq(dir, ["list", "--json", ...store])).stdout) as { kind: string }[])
      .map((t) => t.kind)
      .sort();
  // a built-in task type is always known
  expect(await submit("noop", ["--strict"])).toMatchObject({ code: 0, stderr: "" });

  const refused = await submit("emial", ["--strict"]);
  expect(refused).toEqual({
    code: 2,
    stdout: "",
    stderr: `taskq: --kind emial is not a kind this store knows (no worker has served it, no schedule, limit, pause or task has it); known kinds: ${BUILT_IN} (refused: --strict)\n`,
  });
  expect(await kinds()).toEqual(["noop"]);

  // a live worker serving it: known before any task has it (its report names its kinds)
  const worker = startTaskq(dir, ["serve", "--handler", `email=${upperHandler}`, "--threads", "1", ...store]);
  try {
    await until(async () => {
      const reading = JSON.parse(
        (await taskq(dir, ["monitor", "--once", "--export", "json", ...store])).stdout,
      );
      return reading.workers.some((w: { kinds: string[] }) => w.kinds.includes("email"));
    }, "the worker's report");
    expect(await submit("email", ["--strict"])).toMatchObject({ code: 0, stderr: "" });
  } finally {
    worker.child.kill("SIGTERM");
    await worker.exited;
  }

  // without --strict: one line on stderr, with the likely kind, and the task is stored
  const warned = await submit("emial");
  expect(warned.code).toBe(0);
  expect(warned.stdout).toMatch(/^task-\S+\n$/);
  expect(warned.stderr).toBe(
    `taskq: warning: --kind emial is not a kind this store knows (no worker has served it, no schedule, limit, pause or task has it); did you mean email? known kinds: compute, email, fail, http_request, image, noop, sleep (stored anyway; --strict refuses it)\n`,
  );
  expect(await kinds()).toEqual(["email", "emial", "noop"]);
  // now a task has it: known (the worker that served email has closed; its task keeps it known)
  expect(await submit("emial", ["--strict"])).toMatchObject({ code: 0, stderr: "" });

  // schedule add: the same check, and a schedule makes its kind known
  const schedule = (kind: string, extra: string[] = []) =>
    taskq(dir, ["schedule", "add", "nightly", "--cron", "0 3 * * *", "--kind", kind, ...extra, ...store]);
  expect(await schedule("reprot", ["--strict"])).toMatchObject({
    code: 2,
    stdout: "",
    stderr: expect.stringMatching(
      /^taskq: --kind reprot is not a kind this store knows .*\(refused: --strict\)\n$/,
    ),
  });
  expect((await taskq(dir, ["schedule", "list", ...store])).stdout).toMatch(/^no schedules in /);
  const scheduled = await schedule("reprot");
  expect(scheduled.code).toBe(0);
  expect(scheduled.stderr).toMatch(/^taskq: warning: --kind reprot is not a kind this store knows .*\n$/);
  expect(await submit("reprot", ["--strict"])).toMatchObject({ code: 0, stderr: "" });
}
