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
  const run = await taskq(dir, ["run", "--tasks", "tasks.json", "--db", "tasks.db"]);
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
