// Limits per kind (issue 22) through the library, on SQLite and on a real PostgreSQL: a worker's
// own per-kind limit, a kind's concurrency held across two workers, a kind's rate. Tasks are held
// in their handler by a gate the test opens (inline handlers: this process's module); a probe
// task of another kind, run by each worker, shows that each has looked for work again while the
// limit was reached. Waits are on events.
import { describe, expect, it } from "vitest";
import { ConfigError, createWorker, type TaskEvent } from "../src/index.js";
import { counts, openGate } from "./fixtures/gate.mjs";
import { gate, gatedFleet, latch } from "./gated-fleet.js";

const { stores, kindOf, producer, worker } = gatedFleet("taskq_limits", { concurrency: 8, pollMs: 20 });

describe.each(stores)("limits per kind on %s", (_name, storeOf) => {
  it("a worker's own per-kind limit: it holds no more of that kind, other kinds still run", async () => {
    const store = storeOf();
    const [limited, probe] = [kindOf("limited"), kindOf("probe")];
    const client = await producer(store);
    const started = latch(1);
    await worker({
      store,
      handlers: { [limited]: gate, [probe]: gate },
      kindConcurrency: { [limited]: 1 },
      hooks: { started: (e) => e.kind === limited && started.push(e) },
    });
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await client.enqueue(limited, { n })).id));
    await started.reached;
    expect(await client.result((await client.enqueue(probe, { probe: true })).id)).toEqual({ probe: true });
    expect(started.seen).toHaveLength(1);
    expect(counts.now).toBe(1);
    openGate();
    for (const id of ids) await client.result(id);
    expect(counts.max).toBe(1);
  });

  it("a kind's concurrency holds across two workers; held-back tasks stay queued and then run", async () => {
    const store = storeOf();
    const [limited, probe1, probe2] = [kindOf("limited"), kindOf("p1"), kindOf("p2")];
    const client = await producer(store);
    await client.setLimits(limited, { concurrency: 2 });
    const started = latch(2);
    const hooks = { started: (e: TaskEvent) => e.kind === limited && started.push(e) };
    await worker({ store, handlers: { [limited]: gate, [probe1]: gate }, hooks });
    await worker({ store, handlers: { [limited]: gate, [probe2]: gate }, hooks });
    const ids = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (n) => (await client.enqueue(limited, { n })).id),
    );
    await started.reached;
    // each worker takes work again (its probe) while the limit is reached: still two running
    await Promise.all(
      [probe1, probe2].map(async (kind) => client.result((await client.enqueue(kind, { probe: true })).id)),
    );
    expect(started.seen).toHaveLength(2);
    const [state] = await client.limits();
    expect(state).toMatchObject({ kind: limited, concurrency: 2, running: 2, heldBack: "concurrency" });
    const waiting = await Promise.all(ids.map((id) => client.get(id)));
    expect(waiting.filter((t) => t?.status === "queued").map((t) => t?.attempts)).toEqual([0, 0, 0, 0]);
    openGate();
    for (const id of ids) await client.result(id);
    expect(counts.max).toBe(2);
    expect(counts.ran).toBe(6);
  });

  it("a kind's rate: at most N starts per window, the rest wait (not failed, not retried)", async () => {
    const store = storeOf();
    const kind = kindOf("rated");
    const client = await producer(store);
    await client.setLimits(kind, { rate: { limit: 2, intervalMs: 300 } });
    openGate();
    const ids = await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await client.enqueue(kind, { n })).id));
    await worker({ store, handlers: { [kind]: gate } });
    for (const id of ids) await client.result(id);
    const tasks = await Promise.all(ids.map((id) => client.get(id)));
    expect(tasks.map((t) => t?.attempts)).toEqual([1, 1, 1, 1, 1]);
    // five starts, two a window: the fifth is at least two windows after the first (store clock)
    const starts = tasks.map((t) => t?.startedAt?.getTime() as number).sort((a, b) => a - b);
    expect((starts[4] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(300);
  });

  it("refuses bad limits in one line naming the option", async () => {
    const client = await producer(storeOf());
    const kind = kindOf("bad");
    await expect(client.setLimits(kind, {})).rejects.toThrow("setLimits needs concurrency, rate or perGroup");
    await expect(client.setLimits(kind, { concurrency: 1.5 })).rejects.toThrow(
      "concurrency must be a positive integer",
    );
    await expect(client.setLimits(kind, { concurrency: 0 })).rejects.toThrow(
      "concurrency must be a positive integer, got 0",
    );
    await expect(client.setLimits(kind, { rate: { limit: 0, intervalMs: 1000 } })).rejects.toThrow(
      "rate.limit must be a positive integer, got 0",
    );
    await expect(client.setLimits(kind, { rate: { limit: 1, intervalMs: 0 } })).rejects.toThrow(
      "rate.intervalMs must be a positive integer",
    );
    for (const bad of [0, 1.5, "2", null]) {
      const error = await client.setLimits(kind, { perGroup: { concurrency: bad as number } }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).toBe(
        `perGroup.concurrency must be a positive integer, got ${JSON.stringify(bad)}`,
      );
    }
    await expect(client.setLimits(kind, { perGroup: 2 } as never)).rejects.toThrow(
      "perGroup must be { concurrency }",
    );
    await expect(client.setLimits(kind, { perGroup: { concurency: 2 } } as never)).rejects.toThrow(
      'unknown option "perGroup.concurency": did you mean "perGroup.concurrency"?',
    );
    await expect(client.setLimits(kind, { concurency: 1 } as never)).rejects.toThrow(
      'did you mean "concurrency"',
    );
    await expect(
      createWorker({ store: storeOf(), handlers: { [kind]: gate }, kindConcurrency: { other: 1 } }),
    ).rejects.toBeInstanceOf(ConfigError);
    // nothing was stored
    expect((await client.limits()).filter((l) => l.kind === kind)).toEqual([]);
  });
});
