// Correlation ids from the producer to every log line of every attempt, on SQLite and on a real
// PostgreSQL, with the handler on the main thread (threads: 0; the threads' lines are checked
// through the CLI in apps/cli/test/correlation.test.ts): the handler's ctx.logger, the
// orchestrator's lines about the attempt (retrying, succeeded), the lifecycle hooks, get(id). No
// OpenTelemetry provider is registered in this process: nothing but the correlation id is stored.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@taskq/metrics";
import pg from "pg";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Client,
  ConfigError,
  connect,
  createWorker,
  type TaskEvent,
  type Worker,
} from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_correlation");
});

const stores: [string, () => string][] = [
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-correlation-")), "tasks.db")],
  ["PostgreSQL", () => pgStore],
];

/** A JSON-lines logger whose lines are kept, parsed. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    destination: {
      write(text: string) {
        for (const line of text.split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      },
    },
  });
  return { lines, logger };
}

describe.each(stores)("correlation ids on %s", (_name, storeOf) => {
  const kindOf = (name: string) => `${name}_${randomUUID().slice(0, 8)}`;

  it("every log line of every attempt (a retried task's too) carries the correlation id; get and the hooks have it", async () => {
    const store = storeOf();
    const kind = kindOf("traced");
    const { lines, logger } = capturedLogger();
    const events: [string, TaskEvent][] = [];
    const client: Client = await connect({ store });
    closers.push(() => client.close());
    const worker: Worker = await createWorker({
      store,
      handlers: { [kind]: fixture("traced") },
      threads: 0,
      pollMs: 20,
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      logger,
      hooks: {
        started: (e) => events.push(["started", e]),
        retrying: (e) => events.push(["retrying", e]),
        succeeded: (e) => events.push(["succeeded", e]),
      },
    });
    closers.push(() => worker.close());
    const correlated = await client.enqueue(kind, { failUntil: 3 }, { correlationId: "req-7f3a/42" });
    const plain = await client.enqueue(kind, { failUntil: 2 });
    expect(await client.result(correlated.id)).toEqual({ attempt: 3, correlationId: "req-7f3a/42" });
    expect(await client.result(plain.id)).toEqual({ attempt: 2, correlationId: null });
    // a result is visible once the store has it, before the worker logs the success and calls its
    // hook: closing the worker waits for every attempt's record to finish
    await worker.close();

    const mine = lines.filter((l) => l.task_id === correlated.id);
    // three attempts: the handler's lines (start, fail / done) and the orchestrator's (two retries, a success)
    const said = mine.map((l) => `${l.attempt}:${l.msg}`);
    for (const attempt of [1, 2, 3]) expect(said).toContain(`${attempt}:handler started`);
    expect(said).toEqual(
      expect.arrayContaining(["1:handler failing", "2:handler failing", "3:handler done"]),
    );
    expect(said).toEqual(
      expect.arrayContaining(["1:busy (attempt 1)", "2:busy (attempt 2)", "3:task succeeded"]),
    );
    expect(mine.length).toBe(9); // 6 of the handler, 2 retries and a success of the orchestrator
    expect(mine.filter((l) => l.correlation_id !== "req-7f3a/42")).toEqual([]);
    // a task without one: no correlation_id field at all
    const theirs = lines.filter((l) => l.task_id === plain.id);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.filter((l) => "correlation_id" in l)).toEqual([]);

    const ofCorrelated = events.filter(([, e]) => e.id === correlated.id);
    expect(ofCorrelated.map(([hook, e]) => `${hook}:${e.attempt}:${e.correlationId}`)).toEqual([
      "started:1:req-7f3a/42",
      "retrying:1:req-7f3a/42",
      "started:2:req-7f3a/42",
      "retrying:2:req-7f3a/42",
      "started:3:req-7f3a/42",
      "succeeded:3:req-7f3a/42",
    ]);
    expect(events.filter(([, e]) => e.id === plain.id).every(([, e]) => !("correlationId" in e))).toBe(true);

    // get: the correlation id; no OpenTelemetry provider here, so no trace context stored
    expect(await client.get(correlated.id)).toMatchObject({
      correlationId: "req-7f3a/42",
      traceparent: null,
    });
    expect(await client.get(plain.id)).toMatchObject({ correlationId: null, traceparent: null });
    const [record] = await client.store.getById(correlated.id);
    expect(record?.traceContext).toBeNull();
  });

  it("enqueueMany: one correlation id for all, or each task's own (perTask)", async () => {
    const store = storeOf();
    const kind = kindOf("many");
    const client = await connect({ store });
    closers.push(() => client.close());
    const [a, b] = await client.enqueueMany(kind, [{ n: 1 }, { n: 2 }], {
      correlationId: "batch-1",
      perTask: [undefined, { correlationId: "own-2" }],
    });
    expect((await client.get(a?.id as string))?.correlationId).toBe("batch-1");
    expect((await client.get(b?.id as string))?.correlationId).toBe("own-2");
    expect((await client.store.listTasks({ correlationId: "batch-1", limit: 10 })).map((t) => t.id)).toEqual([
      a?.id,
    ]);
  });

  it("a bad correlation id is refused in one line naming the option; nothing is stored", async () => {
    const store = storeOf();
    const kind = kindOf("bad");
    const client = await connect({ store });
    closers.push(() => client.close());
    for (const bad of ["", "two words", "x".repeat(201), 7]) {
      const error = await client.enqueue(kind, {}, { correlationId: bad as string }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe("correlationId");
      expect((error as Error).message).toMatch(/^correlationId /);
      expect((error as Error).message).not.toContain("\n");
    }
    await expect(
      client.enqueueMany(kind, [{}], { perTask: [{ correlationId: "a b" }] }),
    ).rejects.toMatchObject({ option: "perTask[0].correlationId" });
    expect(await client.store.listTasks({ kind, limit: 10 })).toEqual([]);
  });
});

describe("correlation ids in isolated kinds (SQLite)", () => {
  it.each(["thread", "process"] as const)(
    "a handler in a kind isolated in a %s reads its task's correlation id",
    async (isolatedIn) => {
      const store = join(mkdtempSync(join(tmpdir(), "taskq-correlation-")), "tasks.db");
      const kind = `isolated_${isolatedIn}`;
      const client = await connect({ store });
      closers.push(() => client.close());
      const worker = await createWorker({
        store,
        handlers: { [kind]: fixture("traced") },
        isolation: { [kind]: isolatedIn },
        pollMs: 20,
        backoffBaseMs: 0,
        backoffMaxMs: 0,
      });
      closers.push(() => worker.close());
      const task = await client.enqueue(kind, { failUntil: 2 }, { correlationId: `req-${isolatedIn}` });
      expect(await client.result(task.id)).toEqual({ attempt: 2, correlationId: `req-${isolatedIn}` });
    },
  );
});

describe("transactional enqueue on PostgreSQL", () => {
  it("a correlation id given with tx is stored when the transaction commits", async () => {
    const kind = `tx_${randomUUID().slice(0, 8)}`;
    const client = await connect({ store: pgStore });
    closers.push(() => client.close());
    const db = new pg.Client({ connectionString: pgStore });
    await db.connect();
    closers.push(() => db.end());
    await db.query("BEGIN");
    const one = await client.enqueue(kind, { n: 1 }, { tx: db, correlationId: "req-tx-1" });
    const [two] = await client.enqueueMany(kind, [{ n: 2 }], { tx: db, correlationId: "req-tx-2" });
    await db.query("COMMIT");
    expect(await client.get(one.id)).toMatchObject({ correlationId: "req-tx-1", traceparent: null });
    expect((await client.get(two?.id as string))?.correlationId).toBe("req-tx-2");
  });
});
