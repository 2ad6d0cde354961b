// Isolation per kind, with real threads and real child processes: what a handler does to its thread
// or process (exit, an exception outside its attempt, running out of memory, a native abort, a hang
// past the timeout) ends that attempt only; the task is retried, then dead-lettered with an error
// that says what happened; the kind and the others go on, and nothing is lost or run twice.
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../src/handler.js";
import { HandlerProcesses } from "../src/handler-processes.js";
import { type Client, ConfigError, connect, createQueue, createWorker, type Worker } from "../src/index.js";
import { KindRouter } from "../src/isolation.js";
import type { Ran } from "./fixtures/crash.mjs";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;
const store = () => join(mkdtempSync(join(tmpdir(), "taskq-isolation-")), "tasks.db");

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

/** A worker of two kinds, `crash` (isolated as asked) and `echo`, and a client on its store. */
async function workerAndClient(
  isolation: Parameters<typeof createWorker>[0]["isolation"],
  options: { timeoutMs?: number; threads?: number; concurrency?: number } = {},
): Promise<{ worker: Worker; client: Client }> {
  const location = store();
  const worker = await createWorker({
    store: location,
    handlers: { crash: fixture("crash"), echo: fixture("echo") },
    ...(isolation === undefined ? {} : { isolation }),
    threads: options.threads ?? 1,
    concurrency: options.concurrency ?? 4,
    timeoutMs: options.timeoutMs ?? 0,
    attempts: 2,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    pollMs: 20,
  });
  const client = await connect({ store: location, attempts: 2 });
  closing.push(worker, client);
  return { worker, client };
}

/** Every attempt of a task as the store keeps it: outcome and error message. */
async function attemptsOf(client: Client, id: string) {
  const task = await client.get(id);
  return (task?.attemptHistory ?? []).map((a) => ({ outcome: a.outcome, error: a.errorMessage }));
}

/** Each crash, what it says as a thread's and as a process's failure (undefined: it cannot be isolated there). */
const CRASHES: Record<string, { thread: RegExp | undefined; process: RegExp; shared: RegExp | undefined }> = {
  exit: {
    thread: /process\.exit\(3\) called inside a worker task/,
    process: /the handler's process exited with code 3 during the attempt; a new process takes its place/,
    shared: /process\.exit\(3\) called inside a worker task/,
  },
  throw: {
    thread: /uncaught exception in worker thread: thrown outside the attempt/,
    process:
      /uncaught exception in the handler's process: Error: thrown outside the attempt; the process exited \(code 1\)/,
    shared: /uncaught exception in worker thread: thrown outside the attempt/,
  },
  oom: {
    thread: /out of memory \(memoryLimitMb 32\): an attempt on this thread went past its heap limit/,
    process:
      /out of memory \(memoryLimitMb 32\): the handler's process went past its heap limit and was ended/,
    shared: undefined, // the shared threads have V8's limit: apps/cli/test/isolation.test.ts reaches it with a small heap
  },
  abort: {
    thread: undefined, // process.abort() on a thread ends the whole process
    process:
      /the handler's process was killed by signal SIGABRT \(process\.abort\(\), or a native module's crash\)/,
    shared: undefined,
  },
  hang: {
    thread:
      /ran past timeoutMs \(200 ms\) and 1000 ms of grace without heeding ctx\.signal: the thread was terminated/,
    process:
      /the attempt ran past timeoutMs \(200 ms\) and 1000 ms of grace without heeding ctx\.signal: its process was killed and replaced/,
    shared:
      /ran past timeoutMs \(200 ms\) and 1000 ms of grace without heeding ctx\.signal: the thread was terminated/,
  },
};

const LEVELS = ["thread", "process", "shared"] as const;

describe.each(LEVELS)("a crash in a %s", (level) => {
  const cases = Object.entries(CRASHES).filter(([, says]) => says[level] !== undefined);
  it.each(cases)(
    "%s ends that attempt only: retried, then dead-lettered saying so; the kinds go on, nothing lost or run twice",
    async (what, says) => {
      const { client } = await workerAndClient(
        level === "shared" ? undefined : { crash: { in: level, memoryLimitMb: 32, count: 1 } },
        { timeoutMs: what === "hang" ? 200 : 0 },
      );
      // beside it, an attempt of the other kind in flight: untouched, unless it shares the thread
      // (the shared threads: a thread ended with its attempts retries them, as many as it takes)
      const beside = await client.enqueue("echo", { n: 0 }, { maxAttempts: 5 });
      const crashed = await client.enqueue("crash", { do: what });
      const failure = await client.result(crashed.id).catch((error: unknown) => error);
      expect(failure).toMatchObject({ name: "TaskFailedError", attempts: 2 });
      const expected = says[level] as RegExp;
      expect((failure as Error).message).toMatch(expected);
      const attempts = await attemptsOf(client, crashed.id);
      expect(attempts.map((a) => a.outcome)).toEqual(["retried", "failed"]);
      for (const a of attempts) expect(a.error).toMatch(expected);
      expect((await client.get(crashed.id))?.error?.errorClass).toBe(
        what === "hang" ? "timeout" : "worker_crash",
      );
      // afterwards: the same kind (on a fresh thread or process) and the other kind run, once each
      const again = await client.enqueue("crash", { n: 1 });
      const other = await client.enqueue("echo", { n: 2 });
      const ran = (await client.result(again.id)) as Ran;
      expect(ran).toMatchObject({ n: 1, attempt: 1 });
      if (level === "process") expect(ran.pid).not.toBe(process.pid);
      else expect(ran.mainThread).toBe(false);
      expect(await client.result(other.id)).toMatchObject({ payload: { n: 2 }, attempt: 1 });
      for (const task of [again, other])
        expect(await attemptsOf(client, task.id)).toEqual([{ outcome: "succeeded", error: null }]);
      await client.result(beside.id);
      const besides = await attemptsOf(client, beside.id);
      if (level === "shared") {
        expect(besides.at(-1)).toEqual({ outcome: "succeeded", error: null });
        for (const a of besides.slice(0, -1))
          expect(a).toMatchObject({ outcome: "retried", error: expect.stringMatching(expected) });
      } else expect(besides).toEqual([{ outcome: "succeeded", error: null }]);
    },
    90_000, // a bound, not a claim: under a loaded CI run an out-of-memory thread and two forks took past 20 s
  );
});

describe("isolation", () => {
  it("runs an isolated kind in its own processes, each attempt in one; the other kinds stay on the shared threads", async () => {
    const { client } = await workerAndClient({ crash: { in: "process", count: 2 } }, { threads: 1 });
    const tasks = await Promise.all(
      Array.from({ length: 6 }, (_, n) => client.enqueue("crash", { n, ms: 50 }, { key: `k${n}` })),
    );
    const ran = (await Promise.all(tasks.map((t) => client.result(t.id)))) as Ran[];
    const pids = new Set(ran.map((r) => r.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    const echo = (await client.result((await client.enqueue("echo", { n: 9 })).id)) as {
      mainThread: boolean;
    };
    expect(echo.mainThread).toBe(false);
  });

  it("the worker reports its child processes beside its threads (none said without them)", async () => {
    const { worker } = await workerAndClient({ crash: { in: "process", count: 2 } }, { threads: 1 });
    await vi.waitFor(async () =>
      expect((await worker.store.workers())[0]?.info).toMatchObject({ threads: 1, processes: 2 }),
    );
    const { worker: plain } = await workerAndClient(undefined, { threads: 1 });
    await vi.waitFor(async () => expect((await plain.store.workers())[0]?.info.threads).toBe(1));
    expect((await plain.store.workers())[0]?.info.processes).toBeUndefined();
  });

  it("an isolated kind's backlog holds no slot of the others: the worker takes no more of it than its own slots", async () => {
    const location = store();
    const client = await connect({ store: location, attempts: 1 });
    closing.push(client);
    // the backlog first (the oldest tasks), more than the worker's slots (4 shared, 1 isolated)
    const backlog = await Promise.all(
      Array.from({ length: 8 }, (_, n) => client.enqueue("wait", { n }, { key: `wait${n}` })),
    );
    const echo = await client.enqueue("echo", { n: 9 });
    const worker = await createWorker({
      store: location,
      handlers: { wait: fixture("until-cancelled"), echo: fixture("echo") },
      isolation: { wait: { in: "process", count: 1 } },
      threads: 1,
      concurrency: 4,
      prefetch: 0,
      timeoutMs: 0,
      pollMs: 20,
    });
    // the echo runs while no wait ever ends: the waits took one slot, their own
    expect(await client.result(echo.id)).toMatchObject({ payload: { n: 9 }, mainThread: false });
    const statuses = await Promise.all(backlog.map(async (t) => (await client.get(t.id))?.status));
    expect(statuses.filter((s) => s === "running")).toHaveLength(1);
    expect(statuses.filter((s) => s === "queued")).toHaveLength(7);
    await worker.close({ drain: false });
  });

  it("a backlog of the shared kinds holds no slot of an isolated kind: the worker takes no more of them than the shared slots", async () => {
    const location = store();
    const client = await connect({ store: location, attempts: 1 });
    closing.push(client);
    // the backlog first (the oldest tasks: a single take would lease them before the echo)
    const backlog = await Promise.all(
      Array.from({ length: 6 }, (_, n) => client.enqueue("wait", { n }, { key: `wait${n}` })),
    );
    const echo = await client.enqueue("echo", { n: 9 });
    const worker = await createWorker({
      store: location,
      handlers: { wait: fixture("until-cancelled"), echo: fixture("echo") },
      isolation: { echo: { in: "thread", count: 1 } },
      threads: 1,
      concurrency: 2, // 2 shared slots, 1 of the echo's own: 3 in all
      prefetch: 0,
      timeoutMs: 0,
      pollMs: 20,
    });
    // before the fix the worker leased 3 waits (2 running, 1 waiting for a shared slot) and the
    // echo stayed queued until a wait ended: here none ever does
    expect(await client.result(echo.id)).toMatchObject({ payload: { n: 9 }, mainThread: false });
    const statuses = await Promise.all(backlog.map(async (t) => (await client.get(t.id))?.status));
    expect(statuses.filter((s) => s === "running")).toHaveLength(2);
    expect(statuses.filter((s) => s === "queued")).toHaveLength(4);
    await worker.close({ drain: false });
  });

  it("KindRouter gives each executor no more than its concurrency at once; the rest wait their turn, in order", async () => {
    const running = { a: 0, b: 0 };
    const peak = { a: 0, b: 0 };
    const order: number[] = [];
    const executor = (name: "a" | "b", concurrency: number) => ({
      concurrency,
      async run(task: { payload: unknown }) {
        running[name]++;
        peak[name] = Math.max(peak[name], running[name]);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running[name]--;
        order.push(task.payload as number);
        return { ok: true as const, output: null, runMs: 10 };
      },
      cancel: () => undefined,
      destroy: async () => undefined,
    });
    const router = new KindRouter(executor("a", 2), new Map([["b", executor("b", 1)]]));
    expect(router.concurrency).toBe(3);
    expect(router.slots).toEqual({ shared: 2, isolated: { b: 1 } });
    const task = (kind: string, n: number) => ({ kind, payload: n, id: `${n}`, key: `${n}` });
    await Promise.all([
      ...[1, 2, 3, 4].map((n) => router.run(task("b", n), 1)),
      ...[5, 6, 7].map((n) => router.run(task("other", n), 1)),
    ]);
    expect(peak).toEqual({ a: 2, b: 1 });
    expect(order.filter((n) => n <= 4)).toEqual([1, 2, 3, 4]);
    expect(new KindRouter(undefined, new Map([["b", executor("b", 1)]])).slots).toBeUndefined();
    expect(
      await new KindRouter(undefined, new Map([["b", executor("b", 1)]])).run(task("x", 1), 1),
    ).toMatchObject({
      ok: false,
      error: { errorClass: "unknown_kind" },
    });
  });

  it("a cancel reaches an attempt in a process (its ctx.signal): it ends cancelled; a timeout it heeds fails it as one", async () => {
    for (const timeoutMs of [0, 200]) {
      const location = store();
      let started: () => void = () => undefined;
      const running = new Promise<void>((resolve) => (started = resolve));
      const worker = await createWorker({
        store: location,
        handlers: { wait: fixture("until-cancelled") },
        isolation: { wait: "process" },
        timeoutMs,
        pollMs: 20,
        hooks: { started: () => started() },
      });
      const client = await connect({ store: location, attempts: 1 });
      closing.push(worker, client);
      const task = await client.enqueue("wait", { n: 1 });
      if (timeoutMs === 0) {
        await running;
        await client.cancel(task.id);
        await expect(client.result(task.id)).rejects.toMatchObject({ name: "TaskCancelledError" });
        expect(await client.get(task.id)).toMatchObject({ status: "cancelled", attempts: 1 });
      } else {
        // ctx.signal aborts at timeoutMs in the process too: the handler heeds it, as on a thread
        await expect(client.result(task.id)).rejects.toThrow(
          /attempt cancelled: stopped: ctx.signal aborted/,
        );
        expect((await client.get(task.id))?.error?.errorClass).toBe("timeout");
      }
    }
  });

  it("HandlerProcesses: an aborted attempt fails as `timeout` and the others on its process say it was aborted; destroy fails what is left once, before it resolves", async () => {
    const procs = new HandlerProcesses({
      kinds: [
        { kind: "wait", url: pathToFileURL(fixture("until-cancelled")).href, handler: undefined as never },
      ],
      count: 1,
      concurrency: 2,
      objectsRoot: undefined,
      handlerOptions: undefined,
      logLevel: "error",
      timeoutMs: 0,
      graceMs: 1000,
      logger: silentLogger,
    });
    closing.push({ close: () => procs.destroy() });
    const task = (n: number) => ({ kind: "wait", payload: { n }, id: `${n}`, key: `${n}` });
    const stop = new AbortController();
    const aborted = procs.run(task(1), 1, stop.signal);
    const beside = procs.run(task(2), 1); // the same process: concurrency 2, one process
    stop.abort(new Error("the orchestrator is closing"));
    expect(await aborted).toMatchObject({
      ok: false,
      error: { errorClass: "timeout", message: "attempt cancelled: the orchestrator is closing" },
    });
    expect(await beside).toMatchObject({
      ok: false,
      error: {
        errorClass: "worker_crash",
        message:
          "its process was killed: another attempt there was aborted (attempt cancelled: the orchestrator is closing)",
      },
    });
    // a fresh process for the next attempt; destroyed under it, the attempt has failed by then
    let ended: unknown;
    void procs.run(task(3), 1).then((outcome) => (ended = outcome));
    await procs.destroy();
    expect(ended).toMatchObject({ ok: false, error: { message: "the executor was destroyed" } });
  });

  it.runIf(process.platform === "linux")(
    "a handler's process held in a synchronous loop dies with its worker when the worker is killed (SIGKILL)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "taskq-orphan-"));
      const pidFile = join(dir, "pid");
      const parent = fork(fixture("orphan-parent"), [join(dir, "tasks.db"), pidFile], { stdio: "inherit" });
      const exited = new Promise((resolve) => parent.once("exit", resolve));
      try {
        await vi.waitFor(() => expect(existsSync(pidFile) && readFileSync(pidFile, "utf8")).toBeTruthy(), {
          timeout: 30_000,
          interval: 50,
        });
      } finally {
        parent.kill("SIGKILL");
      }
      await exited;
      const child = Number(readFileSync(pidFile, "utf8"));
      // gone, or a zombie waiting for whichever process adopted it to reap it
      const alive = () => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${child}/stat`, "utf8"));
        } catch {
          return false;
        }
      };
      try {
        await vi.waitFor(() => expect(alive()).toBe(false), { timeout: 15_000, interval: 50 });
      } finally {
        if (alive()) process.kill(child, "SIGKILL");
      }
    },
  );

  it("refuses a bad isolation with a ConfigError naming the option and the kind, before anything starts", async () => {
    const bad: [unknown, string, RegExp][] = [
      [
        { nope: "process" },
        "isolation.nope",
        /isolation names "nope", a kind this worker does not serve \(it serves crash\)/,
      ],
      [{ crash: "fork" }, "isolation.crash", /isolation\.crash must be "thread" or "process", got "fork"/],
      [{ crash: { in: "process", memoryLimitMb: 4 } }, "isolation.crash.memoryLimitMb", /from 16 to/],
      [
        { crash: { in: "thread", count: 0 } },
        "isolation.crash.count",
        /isolation\.crash\.count must be an integer from 1/,
      ],
      [
        { crash: { in: "thread", memoryLimit: 64 } },
        "isolation.crash.memoryLimit",
        /did you mean "isolation\.crash\.memoryLimitMb"/,
      ],
      [
        { crash: { memoryLimitMb: 64 } },
        "isolation.crash.in",
        /isolation\.crash\.in must be "thread" or "process", got undefined/,
      ],
      [["crash"], "isolation", /isolation must be an object/],
    ];
    for (const [isolation, option, message] of bad) {
      const error = await createWorker({
        store: ":memory:",
        handlers: { crash: fixture("crash") },
        isolation: isolation as never,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ option });
      expect((error as Error).message).toMatch(message);
    }
  });

  it("createQueue takes it too: its kind in a process, a crash there retried", async () => {
    const q = await createQueue<{ do?: string; n?: number }, Ran>({
      handler: fixture("crash"),
      store: store(),
      isolation: { crash: "process" },
      backoffBaseMs: 0,
      backoffMaxMs: 0,
    });
    closing.push(q);
    const ran = await q.submit({ n: 1 });
    expect(ran.pid).not.toBe(process.pid);
    await expect(q.submit({ do: "exit" }, { maxAttempts: 1 })).rejects.toThrow(/exited with code 3/);
    expect((await q.submit({ n: 2 })).pid).not.toBe(ran.pid);
  });
});
