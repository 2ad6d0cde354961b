// Time and limits in a fleet on a real PostgreSQL, as separate worker processes: a cron every
// second with three workers (one SIGKILLed) enqueues each occurrence once; a kind's concurrency
// of 3 holds across two workers (asserted on the start and finish events the tasks record, in the
// order they happened); a kind's rate holds in every window (asserted on the tasks' start times
// by the database's clock, replaying the limiter's windows).

import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { everyTask, MAX_COUNT_CAP } from "@taskq/idempotency";
import { beforeAll, expect, inject, it } from "vitest";
import { type Client, connect } from "../src/index.js";
import { occurrenceKey } from "../src/maintenance/scheduler.js";
import { startWorker } from "./fleet-processes.js";
import { freshDatabase } from "./fresh-database.js";

let store = "";
beforeAll(async () => {
  store = await freshDatabase(inject("pgUrl"), "taskq_fleet_time");
});

/** Waits (on the store's notifications of finished tasks) until `kind` has `count` succeeded. */
async function succeeded(client: Client, kind: string, count: number): Promise<void> {
  for (;;) {
    const counts = (await client.store.statusCounts(MAX_COUNT_CAP)).byKind.find((k) => k.kind === kind);
    if ((counts?.succeeded ?? 0) >= count) return;
    await client.store.waitForChange(1000);
  }
}

it("a cron every second with three workers: each occurrence enqueued once, also with one SIGKILLed", {
  timeout: 60_000,
}, async () => {
  const run = randomUUID().slice(0, 6);
  const [kind, name] = [`tick_${run}`, `ticker_${run}`];
  const client = await connect({ store });
  try {
    await startWorker(store, "A", [kind]);
    const b = await startWorker(store, "B", [kind]);
    await startWorker(store, "C", [kind]);
    await client.schedule(name, { cron: "* * * * * *", kind, payload: { n: 0 } });
    await succeeded(client, kind, 2);
    b.kill("SIGKILL");
    await succeeded(client, kind, 5);
    await client.unschedule(name);
    const tasks = await everyTask(client.store, { kind });
    const times = tasks
      .map((t) => Date.parse(t.idempotencyKey.slice(`schedule:${name}@`.length)))
      .sort((a, b) => a - b);
    // one task per occurrence, and no occurrence left out between the first and the last
    expect(tasks.map((t) => t.idempotencyKey).sort()).toEqual(times.map((t) => occurrenceKey(name, t)));
    expect(new Set(times).size).toBe(times.length);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(1000);
    // each due at its occurrence
    for (const t of tasks)
      expect(t.nextRunAt).toBe(Date.parse(t.idempotencyKey.slice(`schedule:${name}@`.length)));
  } finally {
    await client.close();
  }
});

it("a kind's concurrency of 3 across two workers: never more than 3 of it running at once", {
  timeout: 60_000,
}, async () => {
  const run = randomUUID().slice(0, 6);
  const kind = `limited_${run}`;
  const events = join(mkdtempSync(join(tmpdir(), "taskq-fleet-events-")), "events.log");
  const client = await connect({ store });
  try {
    await client.setLimits(kind, { concurrency: 3 });
    await startWorker(store, "A", [kind], events);
    await startWorker(store, "B", [kind], events);
    const enqueued = await client.enqueueMany(
      kind,
      Array.from({ length: 24 }, (_, n) => ({ n })),
    );
    for (const e of enqueued) await client.result(e.id, { timeoutMs: 30_000 });
    // replay the events in the order they happened
    let running = 0;
    let most = 0;
    const started = new Set<string>();
    const workers = new Set<string>();
    for (const line of readFileSync(events, "utf8").trim().split("\n")) {
      const [what, , id, worker] = line.split(" ");
      if (what === "start") {
        running++;
        started.add(id as string);
        workers.add(worker as string);
      } else running--;
      most = Math.max(most, running);
    }
    expect(started.size).toBe(24);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(0);
    expect(running).toBe(0);
  } finally {
    await client.close();
  }
});

it("a kind's rate across two workers: the starts counted in each window never exceed the limit", {
  timeout: 60_000,
}, async () => {
  const run = randomUUID().slice(0, 6);
  const kind = `rated_${run}`;
  const events = join(mkdtempSync(join(tmpdir(), "taskq-fleet-events-")), "events.log");
  const client = await connect({ store });
  try {
    const [limit, intervalMs] = [3, 400];
    await client.setLimits(kind, { rate: { limit, intervalMs } });
    await startWorker(store, "A", [kind], events);
    await startWorker(store, "B", [kind], events);
    const enqueued = await client.enqueueMany(
      kind,
      Array.from({ length: 12 }, (_, n) => ({ n })),
    );
    for (const e of enqueued) await client.result(e.id, { timeoutMs: 30_000 });
    const starts = (await Promise.all(enqueued.map((e) => client.get(e.id))))
      .map((t) => t?.startedAt?.getTime() as number)
      .sort((a, b) => a - b);
    // the limiter's windows: one opens at the first start after the last one closed
    const windows: number[] = [];
    let opened = Number.NEGATIVE_INFINITY;
    for (const t of starts) {
      if (t >= opened + intervalMs) {
        opened = t;
        windows.push(0);
      }
      windows[windows.length - 1] = (windows.at(-1) as number) + 1;
    }
    expect(windows.reduce((a, b) => a + b, 0)).toBe(12);
    for (const count of windows) expect(count).toBeLessThanOrEqual(limit);
    expect(windows.length).toBeGreaterThanOrEqual(4);
  } finally {
    await client.close();
  }
});
