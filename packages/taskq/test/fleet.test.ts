// A fleet on a real PostgreSQL, as separate processes: a producer enqueues 300 tasks of three kinds
// without waiting; worker A serves kinds 1 and 2, worker B kinds 2 and 3. A is SIGKILLed while it
// runs tasks: B finishes every task of its kinds (A's leased kind-2 tasks after their lease runs
// out), and A's kind 1 waits for a worker that has its handler; a new A finishes them. Every task
// succeeds once, on a worker that has its kind, and every result is read back by id.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";
import { connect } from "../src/index.js";
import { fleet, startWorker } from "./fleet-processes.js";
import { freshDatabase } from "./fresh-database.js";

it("three kinds over two workers: each task runs to success on a worker with its handler, also after one is SIGKILLed", {
  timeout: 120_000,
}, async () => {
  const store = await freshDatabase(inject("pgUrl"), "taskq_fleet");
  const run = randomUUID().slice(0, 6);
  const [k1, k2, k3] = [`one_${run}`, `two_${run}`, `three_${run}`];
  const client = await connect({ store });
  try {
    const a = await startWorker(store, "A", [k1, k2]);
    await startWorker(store, "B", [k2, k3]);
    const { stdout } = await promisify(execFile)(process.execPath, [
      fleet("producer"),
      store,
      "300",
      `${k1},${k2},${k3}`,
    ]);
    const tasks = JSON.parse(stdout) as { kind: string; n: number; id: string }[];
    expect(tasks).toHaveLength(300);

    // A is killed as soon as it has finished its first task (only A runs kind 1): it holds many
    // more, leased to it, in flight or waiting for a slot
    await client.result(tasks.find((t) => t.kind === k1)?.id as string, { timeoutMs: 60_000 });
    a.kill("SIGKILL");

    // B finishes its kinds, A's leased kind-2 tasks included once their lease expires
    for (const t of tasks.filter((t) => t.kind !== k1))
      expect(await client.result(t.id, { timeoutMs: 60_000 })).toMatchObject({ kind: t.kind, n: t.n });
    // kind 1 has no worker now: it waits, queued (or leased to the dead A), never run by B
    const waiting = await Promise.all(tasks.filter((t) => t.kind === k1).map((t) => client.get(t.id)));
    for (const info of waiting) {
      if (info?.status === "succeeded") expect((info.result as { worker: string }).worker).toBe("A");
      else expect(["queued", "running"]).toContain(info?.status);
    }
    await startWorker(store, "A2", [k1]);
    for (const t of tasks)
      expect(await client.result(t.id, { timeoutMs: 60_000 })).toMatchObject({ kind: t.kind, n: t.n });

    // every task once, on a worker with its kind
    const allowed: Record<string, string[]> = { [k1]: ["A", "A2"], [k2]: ["A", "B"], [k3]: ["B"] };
    for (const t of tasks) {
      const info = await client.get(t.id);
      expect(info).toMatchObject({ kind: t.kind, status: "succeeded" });
      expect(allowed[t.kind]).toContain((info?.result as { worker: string } | undefined)?.worker);
    }
  } finally {
    await client.close();
  }
});
