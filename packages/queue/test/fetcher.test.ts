// The fetch loop over a real SQLite store and an orchestrator on the main thread: attempts are
// released by a latch, and every wait is on an event (a settle, an abort), never on the clock.
import { SqliteSyncStore, SqliteTaskStore } from "@taskq/idempotency";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DurableQueuePort, Fetcher, InlineExecutor, Orchestrator } from "../src/index.js";
import { countsOf } from "./store-reads.js";

/** A whole hour: a test that waited for this poll interval would time out instead. */
const NEVER_MS = 3_600_000;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function byId(raw: unknown) {
  const task = raw as { id: string };
  return { task, id: task.id, idempotencyKey: task.id, kind: "test", payload: task };
}

/** A store with `count` queued tasks and an orchestrator whose attempts wait for `release()`. */
function setup(count: number, concurrency: number) {
  const sync = new SqliteSyncStore({ path: ":memory:" });
  const store = new SqliteTaskStore(sync);
  for (let i = 0; i < count; i++)
    sync.claim({ id: `t${i}`, idempotencyKey: `t${i}`, kind: "test", payload: { id: `t${i}` } });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const ran: string[] = [];
  const executor = new InlineExecutor<{ id: string }, { result: string }>(async (task) => {
    await gate;
    ran.push(task.id);
    return { ok: true, output: { result: task.id }, runMs: 0 };
  }, concurrency);
  const runner = new Orchestrator({ prepare: byId, store, executor });
  closers.push(async () => {
    await runner.close({ drain: false });
    await store.close();
  });
  return { sync, store, runner, ran, release: () => release() };
}

/** The store with its takeNext replaced (fault injection). */
function withTakeNext(store: SqliteTaskStore, takeNext: DurableQueuePort["takeNext"]): DurableQueuePort {
  return {
    takeNext,
    nextDueIn: (kinds) => store.nextDueIn(kinds),
    waitForWork: (timeoutMs, signal) => store.waitForWork(timeoutMs, signal),
    listTasks: (query) => store.listTasks(query),
  };
}

describe("Fetcher", () => {
  it("takes no more than its capacity, then the rest as tasks settle, and exits when the store is idle", async () => {
    const { sync, store, runner, ran, release } = setup(10, 2);
    const fetcher = new Fetcher({ store, runner, capacity: 3, pollMs: NEVER_MS, exitWhenIdle: true });
    const done = fetcher.run();
    await vi.waitFor(() => expect(runner.executing).toBe(2));
    // 2 running on the executor, 1 admitted and waiting for a slot: 3 leased, 7 still queued
    expect(runner.pending).toBe(3);
    expect(countsOf(sync)).toMatchObject({ queued: 7, running: 3 });
    release();
    // the last task's settle ends the wait at once: a poll interval of an hour is never waited
    expect(await done).toBe(10);
    expect(ran.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`).sort());
    expect(countsOf(sync)).toMatchObject({ queued: 0, running: 0, succeeded: 10 });
  });

  it("an abort ends an idle wait at once; what was taken keeps running", async () => {
    const { store, runner, release } = setup(1, 1);
    const stop = new AbortController();
    const fetcher = new Fetcher({ store, runner, capacity: 4, pollMs: NEVER_MS, signal: stop.signal });
    const done = fetcher.run();
    await vi.waitFor(() => expect(runner.executing).toBe(1));
    stop.abort();
    expect(await done).toBe(1);
    expect(runner.pending).toBe(1);
    release();
    await runner.close();
    expect((await store.get(1))?.status).toBe("succeeded");
  });

  it("a retryable store error is reported and the loop goes on; any other error ends it", async () => {
    const { store, runner, release } = setup(2, 2);
    release();
    const take = store.takeNext.bind(store);
    let failures = 1;
    const flaky = withTakeNext(store, (limit) => {
      if (failures-- > 0)
        return Promise.reject(Object.assign(new Error("server restarting"), { retryable: true }));
      return take(limit);
    });
    const reported: string[] = [];
    const fetcher = new Fetcher({
      store: flaky,
      runner,
      capacity: 4,
      pollMs: 1, // after a failed look, the loop waits a poll interval before the next

      exitWhenIdle: true,
      onRetryableError: (error) => reported.push(error.message),
    });
    expect(await fetcher.run()).toBe(2);
    expect(reported).toEqual(["server restarting"]);

    const broken = withTakeNext(store, () => Promise.reject(new Error("schema is broken")));
    await expect(new Fetcher({ store: broken, runner, capacity: 1, pollMs: 1 }).run()).rejects.toThrow(
      "schema is broken",
    );
  });

  it("autoPrefetch: holds only its slots while they are busy, then takes more as they finish", async () => {
    const { sync, store, runner, release } = setup(200, 2);
    const limits: number[] = [];
    const counting = withTakeNext(store, (limit, kinds, options) => {
      limits.push(limit);
      return store.takeNext(limit, kinds, options);
    });
    // an hour's horizon: every settle of the test counts, whatever the machine's speed
    const fetcher = new Fetcher({
      store: counting,
      runner,
      capacity: 2,
      autoPrefetch: { horizonMs: 3_600_000, max: 50 },
      pollMs: NEVER_MS,
      exitWhenIdle: true,
    });
    const done = fetcher.run();
    await vi.waitFor(() => expect(runner.executing).toBe(2));
    // busy slots that finished nothing: it holds what it can start, the rest stays queued
    expect(fetcher.prefetch).toBe(0);
    expect(countsOf(sync)).toMatchObject({ running: 2, queued: 198 });
    release();
    expect(await done).toBe(200);
    expect(limits[0]).toBe(2);
    // as the slots finished tasks it held more, up to the cap beyond its slots, in bigger takes
    expect(Math.max(...limits)).toBe(52);
    expect(limits.length).toBeLessThan(200 / 2);
  });

  it("groups: a group's kinds together take no more than its capacity; the other kinds the rest", async () => {
    const sync = new SqliteSyncStore({ path: ":memory:" });
    const store = new SqliteTaskStore(sync);
    // the group's backlog is the oldest: one take over every kind would lease it first
    for (const [i, kind] of ["a", "a", "c", "a", "a", "b", "b"].entries())
      sync.claim({ id: `t${i}`, idempotencyKey: `t${i}`, kind, payload: { id: `t${i}`, kind } });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const executor = new InlineExecutor<{ id: string }, { result: string }>(async (task) => {
      await gate;
      return { ok: true, output: { result: task.id }, runMs: 0 };
    }, 4);
    const runner = new Orchestrator({
      prepare: (raw: unknown) => {
        const task = raw as { id: string; kind: string };
        return { task, id: task.id, idempotencyKey: task.id, kind: task.kind, payload: task };
      },
      store,
      executor,
    });
    closers.push(async () => {
      await runner.close({ drain: false });
      await store.close();
    });
    const fetcher = new Fetcher({
      store,
      runner,
      kinds: ["a", "b", "c"],
      capacity: 4,
      groups: [{ kinds: ["a", "c"], capacity: 2 }],
      pollMs: NEVER_MS,
      exitWhenIdle: true,
    });
    const done = fetcher.run();
    await vi.waitFor(() => expect(runner.executing).toBe(4));
    expect(runner.pendingOf("a") + runner.pendingOf("c")).toBe(2);
    expect(runner.pendingOf("b")).toBe(2);
    expect(countsOf(sync)).toMatchObject({ running: 4, queued: 3 });
    release();
    expect(await done).toBe(7);
    expect(countsOf(sync)).toMatchObject({ queued: 0, running: 0, succeeded: 7 });
    expect(() => new Fetcher({ store, runner, capacity: 1, pollMs: 10, groups: [] })).toThrow(
      "groups needs kinds",
    );
  });

  it("refuses a capacity or poll interval that cannot work", () => {
    const { store, runner } = setup(0, 1);
    expect(() => new Fetcher({ store, runner, capacity: 0, pollMs: 10 })).toThrow(
      "capacity must be a positive integer, got 0",
    );
    expect(() => new Fetcher({ store, runner, capacity: 1, pollMs: 0.5 })).toThrow(
      "pollMs must be a positive integer, got 0.5",
    );
  });
});
