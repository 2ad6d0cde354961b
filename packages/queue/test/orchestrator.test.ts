import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore } from "@taskq/idempotency";
import { MetricsRecorder } from "@taskq/metrics";
import { streamTaskFile, toWire, transformImage, type Variant } from "@taskq/processor";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  InlineExecutor,
  Orchestrator,
  OrchestratorClosedError,
  PoolClosedError,
  QueueFullError,
  runClients,
  TaskFailedError,
  type TaskResult,
  TinypoolExecutor,
} from "../src/index.js";
import { imageTasks, makeChain } from "./chain.js";
import { countsOf, lettersOf, tasksOf } from "./store-reads.js";

const closers: (() => Promise<void>)[] = [];

/** Tasks of the fault and shutdown tests: plain objects keyed by their id. */
function byId<T extends { id: string }>(raw: unknown) {
  const task = raw as T;
  return { task, id: task.id, idempotencyKey: task.id, kind: "test", payload: task };
}
afterEach(async () => {
  vi.useRealTimers();
  for (const close of closers.splice(0)) await close();
});

async function chain(options: Parameters<typeof makeChain>[0] = {}) {
  const c = await makeChain(options);
  closers.push(() => c.close());
  return c;
}

async function md5Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

describe("Orchestrator on the real chain (tinypool threads, SQLite file, storage-sim)", () => {
  it("100 concurrent clients: every task accounted for once, outputs byte-identical to a single-threaded run", async () => {
    const c = await chain({ threads: 2, perThread: 4, queueSize: 16 });
    await c.addImages(30);
    const tasks = imageTasks(300, 30).concat(imageTasks(30, 30).map((t, i) => ({ ...t, id: `dup-${i}` })));
    const results: TaskResult[] = [];
    const summary = await runClients({
      clients: 100,
      source: tasks,
      submit: (task) => c.orchestrator.submit(task),
      onSettled: (_task, outcome) => {
        if (outcome.status === "fulfilled") results.push(outcome.value);
      },
    });
    const snap = c.metrics.snapshot();
    expect(summary).toEqual({ submitted: 330, fulfilled: 330, rejected: 0 });
    expect(snap.succeeded + snap.failed + snap.duplicates).toBe(330);
    expect(snap.succeeded).toBe(90);
    expect(snap.duplicates).toBe(240);
    expect(snap.maxQueueDepth).toBeLessThanOrEqual(16);
    // 100 clients against 8 slots and 16 places: admissions waited, and each wait was counted
    expect(snap.blocked).toBeGreaterThan(0);
    expect(snap.blocked).toBe(c.orchestrator.blockedAdmissions);
    expect(countsOf(c.store)).toMatchObject({ succeeded: 90, queued: 0, running: 0, failed: 0 });

    for (const record of tasksOf(c.store)) {
      const { image_key, variant } = record.payload as { image_key: string; variant: Variant };
      const reference = await md5Of(transformImage(await c.objects.getObject("images", image_key), variant));
      expect(record.etag).toBe(reference);
      expect(await md5Of(await c.objects.getObject("derived", record.outputKey as string))).toBe(reference);
    }
    expect(await c.objects.temporaryFiles()).toEqual([]);
  });

  it("20% injected transient faults: retried, and every task still succeeds", async () => {
    const c = await chain({ faults: { errorProbability: 0.2, seed: 11 }, maxAttempts: 8 });
    await c.addImages(20);
    await runClients({ clients: 100, source: imageTasks(60, 20), submit: (t) => c.orchestrator.submit(t) });
    const snap = c.metrics.snapshot();
    expect(snap.succeeded).toBe(60);
    expect(snap.failed).toBe(0);
    expect(snap.retried).toBeGreaterThan(0);
    expect(snap.errorClassification["transient"]).toBe(snap.retried);
    const attempts = tasksOf(c.store).reduce((sum, r) => sum + r.attempts, 0);
    expect(attempts).toBe(60 + snap.retried);
  });

  // Storage faults are drawn per thread, so which attempts fail depends on scheduling: an attempt
  // succeeds with p ~ 0.65, and 16 attempts make "some task never succeeds" ~ 3e-6 per run.
  it("injected storage faults (request failures, ENOSPC part-way through a put) are transient and retried", async () => {
    const c = await chain({
      simulation: { faultProbability: 0.1, writeFaultProbability: 0.2, seed: 5 },
      maxAttempts: 16,
    });
    await c.addImages(20);
    await runClients({ clients: 50, source: imageTasks(60, 20), submit: (t) => c.orchestrator.submit(t) });
    const snap = c.metrics.snapshot();
    expect(snap).toMatchObject({ succeeded: 60, failed: 0 });
    expect(snap.retried).toBeGreaterThan(0);
    expect(Object.keys(snap.errorClassification)).toEqual(["transient"]);
    expect(await c.objects.temporaryFiles()).toEqual([]);
    for (const record of tasksOf(c.store)) {
      const { image_key, variant } = record.payload as { image_key: string; variant: Variant };
      expect(record.etag).toBe(
        await md5Of(transformImage(await c.objects.getObject("images", image_key), variant)),
      );
    }
  });

  it("permanent failures are not retried and land in the dead letters", async () => {
    const c = await chain();
    await c.addImages(2);
    const outcomes = await Promise.allSettled([
      c.orchestrator.submit({ id: "ok", image_key: "img-0.ppm", variant: "gray" }),
      c.orchestrator.submit({ id: "missing", image_key: "nope.ppm", variant: "gray" }),
      c.orchestrator.submit({ id: "f", type: "fail", error_message: "always" }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(TaskFailedError);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe(
      'task "f" failed (permanent, 1 attempt): always',
    );
    expect(
      lettersOf(c.store)
        .map((d) => [d.taskId, d.errorClass, d.attempts])
        .sort(),
    ).toEqual([
      ["f", "permanent", 1],
      ["missing", "not_found", 1],
    ]);
    expect(c.metrics.snapshot()).toMatchObject({ succeeded: 1, failed: 2, retried: 0 });
  });

  it("reject mode with a tiny queue turns tasks away and counts each rejection", async () => {
    const c = await chain({ threads: 1, perThread: 1, queueSize: 2, onFull: "reject" });
    await c.addImages(50, 200, 150);
    const summary = await runClients({
      clients: 50,
      source: imageTasks(50, 50),
      submit: (t) => c.orchestrator.submit(t),
    });
    const snap = c.metrics.snapshot();
    expect(summary.rejected).toBeGreaterThan(0);
    expect(snap.rejected).toBe(summary.rejected);
    expect(snap.succeeded).toBe(summary.fulfilled);
    expect(c.orchestrator.queue.rejections).toBe(summary.rejected);
    // rejected tasks stay queued in the durable store, to run later
    expect(countsOf(c.store).queued).toBe(summary.rejected);
  });

  it("shutdown mid-run leaves no task running in the store", async () => {
    const c = await chain({ threads: 2, perThread: 2 });
    await c.addImages(40, 120, 120);
    let done = 0;
    const run = runClients({
      clients: 20,
      source: imageTasks(120, 40),
      submit: (t) => c.orchestrator.submit(t),
      onSettled: () => {
        done++;
        if (done === 10) void c.orchestrator.close({ drain: false });
      },
    });
    const summary = await run;
    await c.orchestrator.close();
    expect(summary.rejected).toBeGreaterThan(0);
    const stats = countsOf(c.store);
    expect(stats.running).toBe(0);
    expect(stats.succeeded + stats.queued).toBe(stats.total);
    await expect(
      c.orchestrator.submit({ id: "late", image_key: "img-0.ppm", variant: "gray" }),
    ).rejects.toBeInstanceOf(OrchestratorClosedError);
  });

  it("a duplicate in flight joins the running task; a duplicate of a finished one is answered from the store", async () => {
    const c = await chain();
    await c.addImages(1);
    const [a, b] = await Promise.all([
      c.orchestrator.submit({ id: "a", image_key: "img-0.ppm", variant: "blur" }),
      c.orchestrator.submit({ id: "b", image_key: "img-0.ppm", variant: "blur" }),
    ]);
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    expect(b.etag).toBe(a.etag);
    const again = await c.orchestrator.submit({ id: "c", image_key: "img-0.ppm", variant: "blur" });
    expect(again).toMatchObject({
      duplicate: true,
      status: "succeeded",
      etag: a.etag,
      outputKey: "blur/img-0.ppm",
    });
    expect(tasksOf(c.store)).toHaveLength(1);
    expect(tasksOf(c.store)[0]?.attempts).toBe(1);
  });

  it("closed-loop clients can feed from a streamed task file (JSON Lines, read line by line)", async () => {
    const c = await chain();
    await c.addImages(5);
    const path = join(c.dir, "tasks.jsonl");
    await writeFile(
      path,
      `${imageTasks(15, 5)
        .map((t) => JSON.stringify(t))
        .join("\n")}\n{"id":"bad","type":"warp"}\n`,
    );
    const invalid: string[] = [];
    async function* source() {
      for await (const item of streamTaskFile(path)) {
        if ("task" in item) yield toWire(item.task);
        else invalid.push(item.invalid.message);
      }
    }
    const summary = await runClients({
      clients: 100,
      source: source(),
      submit: (t) => c.orchestrator.submit(t),
    });
    expect(summary).toEqual({ submitted: 15, fulfilled: 15, rejected: 0 });
    expect(invalid).toEqual([expect.stringContaining('field "type" has unknown value "warp"')]);
    expect(countsOf(c.store).succeeded).toBe(15);
  });

  it("bad input is refused before anything is stored", async () => {
    const c = await chain();
    await expect(
      c.orchestrator.submit({ id: "x", image_key: "../../etc/passwd", variant: "gray" }),
    ).rejects.toThrow('field "image_key"');
    expect(countsOf(c.store).total).toBe(0);
    expect(c.metrics.snapshot().errorClassification).toEqual({ validation: 1 });
  });
});

describe("thread faults cost only the attempt", () => {
  const fixture = new URL("./fixtures/fault-worker.mjs", import.meta.url);

  function faultOrchestrator(taskTimeoutMs = 0) {
    const dir = mkdtempSync(join(tmpdir(), "taskq-faults-"));
    const store = new SqliteSyncStore({ path: join(dir, "tasks.db") });
    const executor = new TinypoolExecutor<{ id: string; fault?: string }, { result: string }>({
      filename: fixture,
      threads: 2,
    });
    const metrics = new MetricsRecorder({ threads: 2 });
    const orchestrator = new Orchestrator({
      prepare: byId,
      store: new SqliteTaskStore(store),
      executor,
      metrics,
      taskTimeoutMs,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    closers.push(async () => {
      await orchestrator.close();
      store.close();
    });
    return { orchestrator, executor, metrics, store };
  }

  it.each([
    // the timeout only bounds a crash case; the hang case needs it to fire
    ["exit", "worker_crash", 60_000],
    ["throw", "worker_crash", 60_000],
    ["hang", "timeout", 2_000],
  ])(
    "a thread that fails (%s) costs that attempt only (%s, retried); the thread pool keeps its size",
    async (fault, errorClass, timeoutMs) => {
      const { orchestrator, executor, metrics } = faultOrchestrator(timeoutMs);
      // Both threads start and load the worker first, so "good"'s attempt does not count thread
      // start-up against the task timeout (under a loaded CI machine it once took over 1 s).
      await Promise.all([executor.run({ id: "warm-1" }, 1), executor.run({ id: "warm-2" }, 1)]);
      const results = await Promise.all([
        orchestrator.submit({ id: "bad", fault }),
        orchestrator.submit({ id: "good" }),
      ]);
      expect(metrics.snapshot().errorClassification).toEqual({ [errorClass]: 1 });
      expect(results.map((r) => r.result)).toEqual(["done bad on attempt 2", "done good on attempt 1"]);
      expect(executor.threadCount).toBe(2);
    },
  );
});

describe("a thread's slots", () => {
  it("a new thread takes as many queued attempts as it has slots, not one per finished attempt", async () => {
    const executor = new TinypoolExecutor<{ id: string; n: number }, { result: string }>({
      filename: new URL("./fixtures/barrier-worker.mjs", import.meta.url),
      threads: 1,
      concurrentTasksPerThread: 4,
    });
    closers.push(() => executor.destroy());
    // four attempts hold the thread; it fails (as a thread is ended past a task timeout), and
    // tinypool replaces it
    const held = [1, 2, 3, 4].map((i) => executor.run({ id: `h${i}`, n: 5 }, 1));
    await new Promise<void>((resolve) => setImmediate(resolve));
    executor.pool.threads[0]?.emit("error", new Error("ended past its timeout"));
    expect((await Promise.all(held)).map((o) => o.ok)).toEqual([false, false, false, false]);
    // sent while the new thread starts: all four wait in tinypool's queue, and the barrier opens
    // only with the four on the thread at once
    const outcomes = await Promise.all([1, 2, 3, 4].map((i) => executor.run({ id: `b${i}`, n: 4 }, 1)));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
  });

  it("concurrentTasksPerWorker, the option's old name, still sets them; a bad value names the name given", () => {
    const filename = new URL("./fixtures/barrier-worker.mjs", import.meta.url);
    const old = new TinypoolExecutor({ filename, threads: 2, concurrentTasksPerWorker: 3 });
    closers.push(() => old.destroy());
    expect(old.concurrency).toBe(6);
    expect(() => new TinypoolExecutor({ filename, concurrentTasksPerWorker: 0 })).toThrow(
      /^concurrentTasksPerWorker must be a positive integer, got 0$/,
    );
    expect(() => new TinypoolExecutor({ filename, concurrentTasksPerThread: 0 })).toThrow(
      /^concurrentTasksPerThread must be a positive integer, got 0$/,
    );
  });
});

describe("tinypool's errors outside any attempt", () => {
  it("are reported to onError, not thrown: the process lives and the executor runs on", async () => {
    const heard: Error[] = [];
    const executor = new TinypoolExecutor<{ id: string; fault?: string }, { result: string }>({
      filename: new URL("./fixtures/fault-worker.mjs", import.meta.url),
      threads: 1,
      onError: (error) => heard.push(error),
    });
    closers.push(() => executor.destroy());
    await executor.run({ id: "warm" }, 1);
    // Injected as tinypool raises it when a result comes after its attempt was aborted (a worker
    // process frozen past its task timeout wakes to both at once): an 'error' on the thread pool, which
    // ended the process when nothing listened (the history checker's frozen workers died of it).
    executor.pool.emit("error", new Error("Unexpected message from Worker: { taskId: 7 }"));
    expect(heard.map((e) => e.message)).toEqual(["Unexpected message from Worker: { taskId: 7 }"]);
    expect(await executor.run({ id: "after" }, 1)).toMatchObject({ ok: true });
  });
});

describe("an executor's output", () => {
  it("null or undefined (a task whose result is nothing) is a success the store keeps", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    const executor = new InlineExecutor<{ id: string }, null | undefined>(async (task) => ({
      ok: true,
      output: task.id === "none" ? undefined : null,
      runMs: 0,
    }));
    const orchestrator = new Orchestrator({ prepare: byId, store: new SqliteTaskStore(store), executor });
    for (const id of ["null", "none"])
      expect(await orchestrator.submit({ id })).toMatchObject({ id, attempts: 1, outputKey: null });
    await orchestrator.close();
    expect(tasksOf(store).map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    store.close();
  });
});

describe("backoff with fake timers", () => {
  it("a retried task waits its jittered delay outside any slot, then runs again", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = new SqliteSyncStore({ path: ":memory:" });
    const calls: number[] = [];
    let slotsBusy = 0;
    const executor = new InlineExecutor<{ id: string }, { result: string }>(async (_task, attempt) => {
      calls.push(attempt);
      slotsBusy++;
      slotsBusy--;
      return attempt < 3
        ? { ok: false, error: { errorClass: "transient", retryable: true, message: "flaky" }, runMs: 0 }
        : { ok: true, output: { result: "finally" }, runMs: 0 };
    });
    const orchestrator = new Orchestrator({
      prepare: (raw) => ({
        task: raw as { id: string },
        id: "t",
        idempotencyKey: "t",
        kind: "x",
        payload: raw,
      }),
      store: new SqliteTaskStore(store),
      executor,
      retry: { baseDelayMs: 1000, maxDelayMs: 60_000, random: () => 0.5 },
    });
    const result = orchestrator.submit({ id: "t" });
    await vi.waitFor(() => expect(calls).toEqual([1]));
    expect(slotsBusy).toBe(0);
    await vi.advanceTimersByTimeAsync(499);
    expect(calls).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(calls).toEqual([1, 2]));
    await vi.advanceTimersByTimeAsync(999); // second delay: 0.5 * 2000
    expect(calls).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toMatchObject({ result: "finally", attempts: 3 });
    await orchestrator.close();
    store.close();
  });
});

/** An inline executor whose attempts all wait until `release()`, then return the task's id. */
function gatedExecutor(concurrency: number) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const executor = new InlineExecutor<{ id: string }, { result: string }>(async (task) => {
    await gate;
    return { ok: true, output: { result: task.id }, runMs: 0 };
  }, concurrency);
  return { executor, release };
}

describe("orchestrator shutdown", () => {
  it("close() drains by default, is idempotent, and rejects new submits", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    const { executor, release } = gatedExecutor(2);
    const orchestrator = new Orchestrator({
      prepare: byId,
      store: new SqliteTaskStore(store),
      executor,
    });
    const submitted = ["a", "b", "c"].map((id) => orchestrator.submit({ id }));
    await vi.waitFor(() => expect(orchestrator.queue.size).toBe(1));
    const closing = orchestrator.close();
    expect(orchestrator.close()).toBe(closing);
    await expect(orchestrator.submit({ id: "late" })).rejects.toBeInstanceOf(OrchestratorClosedError);
    // its old name is the same class, and its code is the one callers already compare
    const late = await orchestrator.submit({ id: "later" }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(PoolClosedError);
    expect(late).toMatchObject({ name: "OrchestratorClosedError", code: "ERR_POOL_CLOSED" });
    release();
    await closing;
    expect((await Promise.all(submitted)).map((r) => r.result)).toEqual(["a", "b", "c"]);
    expect(countsOf(store)).toMatchObject({ succeeded: 3, running: 0 });
    store.close();
  });

  it("a second close with drain: false cuts a draining close short; running work is handed back", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    const executor = new InlineExecutor<{ id: string }, object>(
      (_task, _attempt) => new Promise(() => undefined), // never finishes on its own
      2,
    );
    const orchestrator = new Orchestrator({
      prepare: byId,
      store: new SqliteTaskStore(store),
      executor,
    });
    const submitted = ["a", "b"].map((id) => orchestrator.submit({ id }).catch((e: unknown) => e));
    await vi.waitFor(() => expect(countsOf(store).running).toBe(2));
    const draining = orchestrator.close({ drain: true, timeoutMs: 3_600_000 });
    expect(orchestrator.close({ drain: false })).toBe(draining);
    await draining;
    for (const outcome of await Promise.all(submitted))
      expect(outcome).toBeInstanceOf(OrchestratorClosedError);
    store.close();
  });

  it("a task submitted while a slot is free is stored running at once; one that has to wait is stored queued", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    const { executor, release } = gatedExecutor(1);
    const batched = new SqliteTaskStore(store);
    const orchestrator = new Orchestrator({ prepare: byId, store: batched, executor });
    const submitted = [orchestrator.submit({ id: "a" }), orchestrator.submit({ id: "b" })];
    await vi.waitFor(() => expect(orchestrator.queue.size).toBe(1));
    expect(store.getByKey("test", "a")).toMatchObject({
      status: "running",
      attempts: 1,
      leaseOwner: store.owner,
    });
    expect(store.getByKey("test", "b")).toMatchObject({ status: "queued", attempts: 0 });
    release();
    expect((await Promise.all(submitted)).map((r) => [r.result, r.attempts])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
    // a: claim (as running) + succeed; b: claim + start + succeed
    expect(batched.operations).toBe(5);
    await orchestrator.close();
    store.close();
  });

  it("submitPrepared runs a task the caller validated without validating it again", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    let prepares = 0;
    const executor = new InlineExecutor<{ id: string }, { result: string }>(
      async (task) => ({ ok: true, output: { result: task.id }, runMs: 0 }),
      1,
    );
    const orchestrator = new Orchestrator({
      prepare: (raw) => {
        prepares++;
        return byId<{ id: string }>(raw);
      },
      store: new SqliteTaskStore(store),
      executor,
    });
    expect(await orchestrator.submitPrepared(byId({ id: "p" }))).toMatchObject({
      result: "p",
      duplicate: false,
    });
    expect(await orchestrator.submit({ id: "q" })).toMatchObject({ result: "q" });
    expect(prepares).toBe(1);
    await orchestrator.close();
    await expect(orchestrator.submitPrepared(byId({ id: "late" }))).rejects.toBeInstanceOf(
      OrchestratorClosedError,
    );
    store.close();
  });

  it("a forced close hands tasks already running in the store but still in the queue back to queued", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    for (const id of ["a", "b"]) store.claim({ id, idempotencyKey: id, kind: "test", payload: { id } });
    const executor = new InlineExecutor<{ id: string }, object>(() => new Promise(() => undefined), 1);
    const orchestrator = new Orchestrator({ prepare: byId, store: new SqliteTaskStore(store), executor });
    const adopted = store.takeNext(2).map((record) => orchestrator.adopt(record).catch((e: unknown) => e));
    await vi.waitFor(() => expect(orchestrator.queue.size).toBe(1));
    await orchestrator.close({ drain: false });
    for (const outcome of await Promise.all(adopted)) expect(outcome).toBeInstanceOf(OrchestratorClosedError);
    expect(countsOf(store)).toMatchObject({ queued: 2, running: 0 });
    store.close();
  });

  it("a task taken again while its older job waits here (its lease ran out meanwhile) runs once, as the newer job", async () => {
    let t = 1_000_000;
    const store = new SqliteSyncStore({ path: ":memory:", now: () => t, leaseMs: 1000 });
    for (const id of ["a", "b"]) store.claim({ id, idempotencyKey: id, kind: "test", payload: { id } });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: string[] = [];
    const executor = new InlineExecutor<{ id: string }, { result: string }>(async (task) => {
      ran.push(task.id);
      await gate;
      return { ok: true, output: { result: task.id }, runMs: 0 };
    }, 1);
    const orchestrator = new Orchestrator({ prepare: byId, store: new SqliteTaskStore(store), executor });
    // a runs (held at the gate), b waits for the slot; then this process is "frozen" past the
    // leases, and its next take reclaims both and takes them again, at later versions
    const first = store.takeNext(2).map((record) => orchestrator.adopt(record).catch((e: unknown) => e));
    await vi.waitFor(() => expect(orchestrator.queue.size).toBe(1));
    t += 1001;
    const again = store.takeNext(2);
    expect(again.map((r) => r.id)).toEqual(["a", "b"]);
    const second = again.map((record) => orchestrator.adopt(record));
    release();
    expect((await Promise.all(second)).map((r) => r.result)).toEqual(["a", "b"]);
    await Promise.all(first);
    // a's first attempt had begun (fenced: its finish refused); b's older job never began
    expect(ran.filter((id) => id === "b")).toEqual(["b"]);
    expect(countsOf(store)).toMatchObject({ succeeded: 2, running: 0, queued: 0 });
    await orchestrator.close();
    store.close();
  });

  it("tasks adopted from the durable queue wait beyond the queue's size: never blocked, never rejected", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    for (let i = 0; i < 6; i++)
      store.claim({ id: `a${i}`, idempotencyKey: `a${i}`, kind: "test", payload: { id: `a${i}` } });
    const { executor, release } = gatedExecutor(1);
    const orchestrator = new Orchestrator({
      prepare: byId,
      store: new SqliteTaskStore(store),
      executor,
      queueSize: 2,
      onFull: "reject",
    });
    const adopted = store.takeNext(6).map((record) => orchestrator.adopt(record));
    // one running, five waiting in a queue of two: the fetcher that took them bounds them
    await vi.waitFor(() => expect(orchestrator.queue.size).toBe(5));
    expect(orchestrator.blockedAdmissions).toBe(0);
    release();
    expect((await Promise.all(adopted)).map((r) => r.result)).toEqual(["a0", "a1", "a2", "a3", "a4", "a5"]);
    await orchestrator.close();
    store.close();
  });

  it("queue-full rejection is a QueueFullError", async () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    const executor = new InlineExecutor<{ id: string }, object>(() => new Promise(() => undefined), 1);
    const orchestrator = new Orchestrator({
      prepare: byId,
      store: new SqliteTaskStore(store),
      executor,
      queueSize: 1,
      onFull: "reject",
    });
    const first = orchestrator.submit({ id: "1" });
    const second = orchestrator.submit({ id: "2" });
    await expect(orchestrator.submit({ id: "3" })).rejects.toBeInstanceOf(QueueFullError);
    void first.catch(() => undefined);
    void second.catch(() => undefined);
    store.close();
  });
});
