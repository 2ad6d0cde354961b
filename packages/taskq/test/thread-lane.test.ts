// The lanes to the handler threads (thread-lane.ts), through the executor createQueue builds: the
// attempts posted in one turn reach a thread in one message, spread evenly over the threads; a
// thread that dies fails only the attempts on it and is replaced; an uncaught exception on a thread
// fails the attempts in flight there and the thread lives on; an idle lane ends its session (a
// tinypool task, which keeps the process alive); destroy ends what runs.
// (A thread stuck past its timeout: create-queue.test.ts, on the same executor.)
import type { AttemptOutcome } from "@taskq/queue";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../src/handler.js";
import { type HandlerExecutor, handlerExecutor } from "../src/handler-runtime.js";
import { LANE_IDLE_MS, ThreadLanes } from "../src/thread-lane.js";

const url = new URL("./fixtures/thread.mjs", import.meta.url).href;
type Lanes = ThreadLanes<unknown, string | null>;

const open: HandlerExecutor[] = [];
function lanes(threads: number, concurrency: number): Lanes {
  const executor = handlerExecutor({
    kinds: [{ kind: "thread", url, handler: async () => null }],
    threads,
    concurrency,
    objects: undefined,
    objectsRoot: undefined,
    handlerOptions: undefined,
    logLevel: "error",
    timeoutMs: 0,
    logger: silentLogger,
  });
  open.push(executor);
  expect(executor).toBeInstanceOf(ThreadLanes);
  return executor as unknown as Lanes;
}
afterEach(async () => {
  for (const executor of open.splice(0)) await executor.destroy();
});

let keys = 0;
/** Runs these payloads, all posted in this turn. */
function runAll(executor: Lanes, payloads: readonly unknown[]): Promise<AttemptOutcome<string | null>[]> {
  return Promise.all(
    payloads.map((payload) => {
      const key = `k${keys++}`;
      return executor.run({ payload, id: key, key, kind: "thread" }, 1);
    }),
  );
}
const threadOf = (outcome: AttemptOutcome<string | null>) =>
  outcome.ok ? (JSON.parse(outcome.output as string) as { threadId: number }).threadId : undefined;
const byThread = (outcomes: AttemptOutcome<string | null>[]) => {
  const counts = new Map<number | undefined, number>();
  for (const outcome of outcomes) counts.set(threadOf(outcome), (counts.get(threadOf(outcome)) ?? 0) + 1);
  return counts;
};

describe("thread lanes", () => {
  it("the attempts of one turn reach each thread in one message, and come back in few; spread evenly", async () => {
    const executor = lanes(2, 8);
    expect(executor.concurrency).toBe(16);
    const outcomes = await runAll(
      executor,
      Array.from({ length: 16 }, () => ({})),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // 8 attempts on each thread (concurrency per thread), one message to each
    expect([...byThread(outcomes).values()]).toEqual([8, 8]);
    expect(executor.counts).toMatchObject({ batches: 2, attempts: 16, outcomes: 16 });
    expect(executor.counts.replies).toBeLessThan(16);

    // a second turn: again one message per thread
    const again = await runAll(
      executor,
      Array.from({ length: 10 }, () => ({})),
    );
    expect(again.every((o) => o.ok)).toBe(true);
    expect(executor.counts).toMatchObject({ sessions: 2, batches: 4, attempts: 26, outcomes: 26 });
  });

  it("a lane idle for LANE_IDLE_MS ends its session; the next attempts open another", async () => {
    const executor = lanes(2, 2);
    await runAll(executor, [{}, {}]);
    await runAll(executor, [{}, {}]);
    expect(executor.counts.sessions).toBe(2);
    // a session is a tinypool task: both end once their lanes have idled for LANE_IDLE_MS
    await vi.waitUntil(() => executor.pool.completed === 2, { timeout: LANE_IDLE_MS * 30, interval: 20 });
    const outcomes = await runAll(executor, [{}, {}, {}, {}]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(executor.counts.sessions).toBe(4);
    expect(byThread(outcomes).size).toBe(2);
  });

  it("a thread that dies fails only the attempts on it, as retryable worker_crash; a new thread takes its lane", async () => {
    const executor = lanes(2, 4);
    const before = byThread(
      await runAll(
        executor,
        Array.from({ length: 8 }, () => ({})),
      ),
    );
    const running = runAll(
      executor,
      Array.from({ length: 8 }, () => ({ ms: 1000 })),
    );
    // all 8 posted, 4 to each thread (their second of 1,000 ms has hardly begun)
    await vi.waitUntil(() => executor.counts.attempts === 16, { timeout: 30_000, interval: 5 });
    const dying = executor.pool.threads[0];
    dying?.emit("error", new Error("the thread died"));
    const outcomes = await running;
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed).toHaveLength(4);
    for (const o of failed)
      expect(o).toMatchObject({ error: { errorClass: "worker_crash", retryable: true } });
    expect(failed[0]?.ok === false && failed[0].error.message).toContain("the thread died");
    expect(byThread(outcomes.filter((o) => o.ok)).size).toBe(1);

    // its replacement runs its share: two threads, one of them new
    const after = byThread(
      await runAll(
        executor,
        Array.from({ length: 8 }, () => ({})),
      ),
    );
    expect([...after.values()]).toEqual([4, 4]);
    expect(executor.threadCount).toBe(2);
    expect([...after.keys()].filter((id) => before.has(id))).toHaveLength(1);
  });

  it("a thread that exits plainly (no error tinypool hears) fails the attempts on it, saying its exit code; a new thread takes its lane", async () => {
    const executor = lanes(2, 2);
    // the lanes take turns: the 1st and 3rd attempts share a thread, the 2nd and 4th the other
    const outcomes = await runAll(executor, [{ exit: 3, ms: 300 }, { ms: 300 }, { ms: 300 }, { ms: 300 }]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true, false, true]);
    for (const o of [outcomes[0], outcomes[2]])
      expect(o).toMatchObject({
        error: {
          errorClass: "worker_crash",
          retryable: true,
          message: "the thread exited with code 3 while attempts ran on it; a new thread takes its place",
        },
      });
    expect(byThread(await runAll(executor, [{}, {}, {}, {}])).size).toBe(2);
    expect(executor.threadCount).toBe(2);
  });

  it("an exception thrown on a thread outside any attempt fails the attempts in flight there; the thread lives on", async () => {
    const executor = lanes(2, 2);
    // the lanes take turns: the 1st and 3rd attempts share a thread, the 2nd and 4th the other
    const outcomes = await runAll(executor, [
      { crash: true, ms: 200 },
      { ms: 200 },
      { ms: 200 },
      { ms: 200 },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true, false, true]);
    expect(outcomes[0]).toMatchObject({ error: { errorClass: "worker_crash", retryable: true } });
    const threads = new Set(executor.pool.threads.map((t) => t.threadId));
    expect(byThread(await runAll(executor, [{}, {}, {}, {}])).size).toBe(2);
    expect(new Set(executor.pool.threads.map((t) => t.threadId))).toEqual(threads);
  });

  it("destroy ends the threads; the attempts on them end as retryable worker_crash", async () => {
    const executor = lanes(1, 2);
    const running = runAll(executor, [{ ms: 5000 }, { ms: 5000 }]);
    await vi.waitUntil(() => executor.counts.attempts === 2, { timeout: 30_000, interval: 5 });
    await executor.destroy();
    for (const o of await running)
      expect(o).toMatchObject({ ok: false, error: { errorClass: "worker_crash" } });
    expect(await executor.run({ payload: {}, id: "x", key: "x", kind: "thread" }, 1)).toMatchObject({
      ok: false,
      error: { errorClass: "worker_crash" },
    });
  });
});
