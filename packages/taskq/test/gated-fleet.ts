// What the tests of producers and workers with gated handlers share (limits, promises under
// load): both stores (a SQLite file per test, this file's own database on the test run's
// PostgreSQL), a producer and workers closed after each test (the gate opened first), unique
// kinds, and a latch on lifecycle events.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, inject } from "vitest";
import { type Client, connect, createWorker, type TaskEvent, type Worker } from "../src/index.js";
import { openGate, reset } from "./fixtures/gate.mjs";
import { freshDatabase } from "./fresh-database.js";

/** The gate handler (inline handlers only: the test imports the same module). */
export const gate = new URL("./fixtures/gate.mjs", import.meta.url).pathname;

/**
 * Registers the hooks (gate reset before each test; gate opened and everything closed after) and
 * returns the stores to run each test on, the PostgreSQL one a database named `database`.
 */
export function gatedFleet(database: string, defaults: Partial<Parameters<typeof createWorker>[0]>) {
  const closers: (() => Promise<void>)[] = [];
  let pgStore = "";
  beforeAll(async () => {
    pgStore = await freshDatabase(inject("pgUrl"), database);
  });
  beforeEach(() => reset());
  afterEach(async () => {
    openGate();
    for (const close of closers.splice(0).reverse()) await close();
  });
  return {
    stores: [
      ["SQLite", () => join(mkdtempSync(join(tmpdir(), `${database}-`)), "tasks.db")],
      ["PostgreSQL", () => pgStore],
    ] as [string, () => string][],
    kindOf: (name: string) => `${name}_${randomUUID().slice(0, 8)}`,
    async producer(store: string): Promise<Client> {
      const client = await connect({ store });
      closers.push(() => client.close());
      return client;
    },
    async worker(options: Parameters<typeof createWorker>[0]): Promise<Worker> {
      const w = await createWorker({ threads: 0, ...defaults, ...options });
      closers.push(() => w.close());
      return w;
    },
  };
}

/** Resolves `reached` once `count` events were pushed (a lifecycle hook), with the events seen. */
export function latch(count: number) {
  const seen: TaskEvent[] = [];
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (release = resolve));
  return {
    seen,
    reached,
    push: (e: TaskEvent) => {
      seen.push(e);
      if (seen.length === count) release();
    },
  };
}

/** Enqueues payloads `{ n: 1 }` to `{ n: count }` of `kind`; their ids, in order. */
export async function enqueueNumbered(client: Client, kind: string, count: number): Promise<string[]> {
  const payloads = Array.from({ length: count }, (_, i) => ({ n: i + 1 }));
  return (await client.enqueueMany(kind, payloads)).map((e) => e.id);
}
