// A kind paused across a fleet on a real PostgreSQL (issue 36), as separate processes: two workers
// serve kinds `paused` and `other`; with `paused` paused, its tasks (enqueued first, so every take
// in queue order meets them before the others) stay queued, attempts untouched, while both workers
// run every task of `other`; resumed, they run, on either worker, each once.
import { randomUUID } from "node:crypto";
import { expect, inject, it } from "vitest";
import { connect } from "../src/index.js";
import { startWorker } from "./fleet-processes.js";
import { freshDatabase } from "./fresh-database.js";

it("a paused kind's queued tasks stay queued while another kind runs on two workers; resumed, they run", {
  timeout: 120_000,
}, async () => {
  const store = await freshDatabase(inject("pgUrl"), "taskq_fleet_pause");
  const run = randomUUID().slice(0, 6);
  const [paused, other] = [`paused_${run}`, `other_${run}`];
  const client = await connect({ store });
  try {
    expect(await client.pauseKind(paused)).toBe(true);
    await startWorker(store, "A", [paused, other]);
    await startWorker(store, "B", [paused, other]);
    const held = await client.enqueueMany(
      paused,
      Array.from({ length: 40 }, (_, n) => ({ n })),
    );
    const ran = await client.enqueueMany(
      other,
      Array.from({ length: 40 }, (_, n) => ({ n })),
    );
    for (const t of ran)
      expect(await client.result(t.id, { timeoutMs: 60_000 })).toMatchObject({ n: expect.any(Number) });
    // a take after the others ran: still none of the paused kind
    const last = await client.enqueue(other, { n: 40 });
    await client.result(last.id, { timeoutMs: 60_000 });
    const waiting = await Promise.all(held.map((t) => client.get(t.id)));
    expect(waiting.map((t) => [t?.status, t?.attempts])).toEqual(held.map(() => ["queued", 0]));
    expect((await client.limits()).find((l) => l.kind === paused)).toMatchObject({
      paused: true,
      heldBack: "paused",
      running: 0,
    });
    expect(await client.pauseKind(paused)).toBe(false);

    expect(await client.resumeKind(paused)).toBe(true);
    const workers = new Set<string>();
    for (const t of held) {
      const result = (await client.result(t.id, { timeoutMs: 60_000 })) as { worker: string };
      workers.add(result.worker);
    }
    expect([...workers].every((w) => w === "A" || w === "B")).toBe(true);
    const done = await Promise.all(held.map((t) => client.get(t.id)));
    expect(done.map((t) => [t?.status, t?.attempts])).toEqual(held.map(() => ["succeeded", 1]));
    expect((await client.limits()).find((l) => l.kind === paused)).toBeUndefined();
  } finally {
    await client.close();
  }
});
