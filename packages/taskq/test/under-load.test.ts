// Promises under load (issue 33), features together as an application combines them, on SQLite
// and on a real PostgreSQL: a limited kind starts a task as soon as its limit allows, not at the
// next poll (the workers here poll once in ten minutes: only a wake-up moves them); a higher
// priority enqueued while a worker is busy runs next; a worker holds only what it can start, so
// work spreads across workers; a limit binds the next take at once. Handlers run inline, held by
// a gate the test opens; waits are on events (hooks, results), never on the clock.
import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../src/index.js";
import { counts, openGate } from "./fixtures/gate.mjs";
import { enqueueNumbered, gate, gatedFleet, latch } from "./gated-fleet.js";

/** Ten minutes: longer than any test here waits, so a test that needs the poll times out. */
const NEVER_POLL_MS = 600_000;

const { stores, kindOf, producer, worker } = gatedFleet("taskq_under_load", { pollMs: NEVER_POLL_MS });

describe.each(stores)("promises under load on %s", (_name, storeOf) => {
  /** A worker of one slot for `kind` that polls often (these tests do not wait for wake-ups). */
  const oneSlotWorker = (store: string, kind: string, started: (e: TaskEvent) => void) =>
    worker({ store, handlers: { [kind]: gate }, concurrency: 1, pollMs: 20, hooks: { started } });

  it("a limited kind starts its next task when a slot frees, not at the next poll", async () => {
    const store = storeOf();
    const kind = kindOf("email");
    const client = await producer(store);
    await client.setLimits(kind, { concurrency: 2 });
    openGate();
    // enqueued before the worker starts: on SQLite a producer's store object cannot wake a
    // worker's (its first look finds them)
    const ids = await enqueueNumbered(client, kind, 8);
    await worker({ store, handlers: { [kind]: gate }, concurrency: 8 });
    expect(await Promise.all(ids.map((id) => client.result(id)))).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ n })),
    );
    expect(counts.max).toBeLessThanOrEqual(2);
  });

  it("a kind's rate: the next window's starts come when it opens, not at the next poll", async () => {
    const store = storeOf();
    const kind = kindOf("rated");
    const client = await producer(store);
    await client.setLimits(kind, { rate: { limit: 2, intervalMs: 100 } });
    openGate();
    const ids = await enqueueNumbered(client, kind, 5);
    await worker({ store, handlers: { [kind]: gate }, concurrency: 8 });
    expect(await Promise.all(ids.map((id) => client.result(id)))).toHaveLength(5);
  });

  it("a higher priority enqueued while the worker is busy runs next", async () => {
    const store = storeOf();
    const kind = kindOf("prio");
    const client = await producer(store);
    const started = latch(1);
    const order: string[] = [];
    await oneSlotWorker(store, kind, (e) => {
      order.push(e.id);
      started.push(e);
    });
    const busy = await client.enqueue(kind, { n: "busy" });
    await started.reached;
    const low = [];
    for (let n = 0; n < 5; n++) low.push((await client.enqueue(kind, { n })).id);
    const high = (await client.enqueue(kind, { n: "high" }, { priority: 10 })).id;
    openGate();
    await Promise.all([busy.id, ...low, high].map((id) => client.result(id)));
    expect(order.slice(0, 2)).toEqual([busy.id, high]);
  });

  it("a worker holds only what it can start: the rest stays queued for any free slot", async () => {
    const store = storeOf();
    const kind = kindOf("spread");
    const client = await producer(store);
    const started = latch(2);
    const ran = new Map<string, number>();
    for (const n of [1, 2])
      await oneSlotWorker(store, kind, (e) => {
        ran.set(e.id, n);
        started.push(e);
      });
    const ids = await enqueueNumbered(client, kind, 6);
    await started.reached;
    const statuses = await Promise.all(ids.map(async (id) => (await client.get(id))?.status));
    expect(statuses.filter((s) => s === "running")).toHaveLength(2);
    expect(statuses.filter((s) => s === "queued")).toHaveLength(4);
    expect(new Set(ran.values())).toEqual(new Set([1, 2]));
    openGate();
    await Promise.all(ids.map((id) => client.result(id)));
  });

  it("a limit set while workers run binds their next take", async () => {
    const store = storeOf();
    const [kind, probe] = [kindOf("limited"), kindOf("probe")];
    const client = await producer(store);
    const started = latch(1);
    await worker({
      store,
      handlers: { [kind]: gate, [probe]: gate },
      concurrency: 8,
      pollMs: 20,
      hooks: { started: (e) => e.kind === kind && started.push(e) },
    });
    // the worker has just looked, and read no limits
    expect(await client.result((await client.enqueue(probe, { probe: 1 })).id)).toEqual({ probe: true });
    await client.setLimits(kind, { concurrency: 1 });
    const ids = await enqueueNumbered(client, kind, 4);
    await started.reached;
    // the worker has looked again since (a probe of another kind ran): still one of the kind
    expect(await client.result((await client.enqueue(probe, { probe: 2 })).id)).toEqual({ probe: true });
    expect(counts.now).toBe(1);
    openGate();
    await Promise.all(ids.map((id) => client.result(id)));
    expect(counts.max).toBe(1);
  });
});

// PostgreSQL only: two workers in separate store connections, woken by its notifications (on
// SQLite a slot freed in another store object is seen at the next poll).
describe("promises under load across workers on PostgreSQL", () => {
  const storeOf = stores.find(([name]) => name === "PostgreSQL")?.[1] as () => string;
  it("a slot freed on one worker starts the next task on another at once (the fleet's concurrency)", async () => {
    const store = storeOf();
    const kind = kindOf("fleet");
    const client = await producer(store);
    await client.setLimits(kind, { concurrency: 1 });
    const started = latch(1);
    const ran = new Map<number, number>();
    for (const n of [1, 2])
      await worker({
        store,
        handlers: { [kind]: gate },
        concurrency: 4,
        hooks: {
          started: (e) => {
            ran.set(n, (ran.get(n) ?? 0) + 1);
            started.push(e);
          },
        },
      });
    const ids = await enqueueNumbered(client, kind, 6);
    await started.reached;
    openGate();
    await Promise.all(ids.map((id) => client.result(id)));
    expect(counts.max).toBe(1);
    expect([...ran.values()].reduce((a, b) => a + b, 0)).toBe(6);
  });
});
