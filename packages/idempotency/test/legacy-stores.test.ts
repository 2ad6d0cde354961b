// Stores built by the released code (its migrations, copied in fixtures/legacy-schemas.json), and
// stores at schema 6 made by this code's own first six migrations (before kinds), open with this
// code on both drivers: migrated to the numbered files (PostgreSQL's old numbering translated
// once), their tasks kept with their old `type` as their kind, the queued and the recovered ones
// run to completion.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  everyTask,
  MAX_COUNT_CAP,
  SCHEMA_VERSION,
  SQLITE_MIGRATIONS,
  SqliteTaskStore,
  statusTotals,
  type TaskStoreDriver,
} from "../src/index.js";
import { PG_MIGRATIONS, PgTaskStore } from "../src/postgres.js";
import { MIGRATION_NAMES } from "../src/sql/migrations.js";
import { deadPid, tempDb } from "./helpers.js";

/** The released code's migrations, frozen as data (fixtures/legacy-schemas.json). */
const legacy = JSON.parse(
  readFileSync(new URL("./fixtures/legacy-schemas.json", import.meta.url), "utf8"),
) as {
  readonly sqlite: { readonly migrations: readonly string[] };
  readonly postgres: { readonly migrations: readonly string[] };
};
const LEGACY_SQLITE_MIGRATIONS = legacy.sqlite.migrations;
const LEGACY_PG_MIGRATIONS = legacy.postgres.migrations;

/**
 * Seven tasks as the released code left them: two queued, one running on an expired lease, one
 * running for a dead local process, one succeeded, one failed with its dead letter, and a handler
 * task (type `task`) that succeeded. `t` is a table name prefix (a schema on PostgreSQL).
 */
function legacyRows(t: string): string[] {
  const dead = `${hostname()}:${deadPid()}:x`;
  const now = Date.now();
  const row = (n: number, status: string, rest: string, type = "image") =>
    `INSERT INTO ${t}tasks (id, idempotency_key, type, payload, status, max_attempts, created_at, updated_at,
       next_run_at, attempts, started_at, finished_at, lease_owner, lease_expires_at, output_key)
     VALUES ('t-${n}', 'k-${n}', '${type}', '{"n":${n}}', '${status}', 3, ${now - 1000 + n}, ${now}, 0, ${rest})`;
  return [
    row(1, "queued", "0, NULL, NULL, NULL, NULL, NULL"),
    row(2, "queued", "0, NULL, NULL, NULL, NULL, NULL"),
    row(3, "running", `1, ${now}, NULL, 'other-host:1:x', 1, NULL`),
    row(4, "running", `1, ${now}, NULL, '${dead}', ${now + 3_600_000}, NULL`),
    row(5, "succeeded", `1, ${now}, ${now}, NULL, NULL, 'out-5'`),
    row(6, "failed", `3, ${now}, ${now}, NULL, NULL, NULL`),
    row(7, "succeeded", `1, ${now}, ${now}, NULL, NULL, 'out-7'`, "task"),
    `INSERT INTO ${t}dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
     SELECT seq, id, idempotency_key, payload, 'permanent', 'corrupt image', 3, ${now} FROM ${t}tasks WHERE id = 't-6'`,
  ];
}

/** Opens a legacy store with this code and runs everything runnable to completion. */
async function runToCompletion(store: TaskStoreDriver): Promise<void> {
  expect(store.recoveredOnOpen).toBe(2);
  const opened = await store.statusCounts(MAX_COUNT_CAP);
  expect(statusTotals(opened)).toMatchObject({ running: 0, succeeded: 2, failed: 1, cancelled: 0 });
  expect(statusTotals(opened).queued + statusTotals(opened).scheduled).toBe(4);
  expect(opened.deadLetters).toBe(1);
  // each task's old type is its kind; keys are now unique per kind
  expect((await everyTask(store)).map((r) => r.kind)).toEqual([
    "image",
    "image",
    "image",
    "image",
    "image",
    "image",
    "task",
  ]);
  const dup = await store.claim({ id: "t-5", idempotencyKey: "k-5", kind: "image", payload: {} });
  expect(dup.created === false && dup.record).toMatchObject({ status: "succeeded", outputKey: "out-5" });
  const handlerDup = await store.claim({ id: "t-7", idempotencyKey: "k-7", kind: "task", payload: {} });
  expect(handlerDup.created === false && handlerDup.record).toMatchObject({ outputKey: "out-7" });
  const other = await store.claim({ id: "t-8", idempotencyKey: "k-5", kind: "task", payload: {} });
  expect(other).toMatchObject({ created: true, status: "queued" });
  const [eighth] = await store.takeNext(1, ["task"]);
  expect(eighth).toMatchObject({ id: "t-8", kind: "task" });
  await store.succeed(eighth!.seq, eighth!.version);
  const taken = await store.takeNext(10);
  expect(taken.map((r) => r.id)).toEqual(["t-1", "t-2", "t-3", "t-4"]);
  for (const r of taken) await store.succeed(r.seq, r.version, { outputKey: `out-${r.id}` });
  expect(await store.redriveTasks((await store.getById("t-6")).map((r) => r.seq))).toBe(1);
  const [redriven] = await store.takeNext(10);
  expect(redriven).toMatchObject({ id: "t-6", attempts: 1 });
  await store.succeed(redriven!.seq, redriven!.version);
  const ran = await store.statusCounts(MAX_COUNT_CAP);
  expect(statusTotals(ran)).toMatchObject({ queued: 0, scheduled: 0, running: 0, succeeded: 8, failed: 0 });
  expect(ran.deadLetters).toBe(0);
  // migration 006 ran: the new tables answer
  expect(await store.tryRunMaintenance("retention", 1000)).toBe(true);
  await store.reportWorker({ threads: 1, slots: 1, executing: 0, leased: 0 });
  expect((await store.workers()).map((m) => m.owner)).toEqual([store.owner]);
}

const open: TaskStoreDriver[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe("a SQLite store of the released code (user_version 5)", () => {
  it("migrates to the current schema and runs its queued and recovered tasks to completion", async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const sql of LEGACY_SQLITE_MIGRATIONS) db.exec(sql);
    db.pragma(`user_version = ${LEGACY_SQLITE_MIGRATIONS.length}`);
    for (const sql of legacyRows("")) db.exec(sql);
    db.close();
    const store = SqliteTaskStore.open({ path });
    open.push(store);
    const check = new Database(path, { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
    await runToCompletion(store);
  });
});

describe("a SQLite store at schema 6, made by this code before kinds", () => {
  it("migrates to the current schema and runs its tasks to completion", async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of SQLITE_MIGRATIONS.slice(0, 6)) db.exec(m.sql);
    db.pragma("user_version = 6");
    for (const sql of legacyRows("")) db.exec(sql);
    db.close();
    const store = SqliteTaskStore.open({ path });
    open.push(store);
    await runToCompletion(store);
  });
});

describe("a PostgreSQL store of the released code", () => {
  const url = inject("pgUrl");
  let schemas = 0;

  async function sql<R extends object>(text: string): Promise<R[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(text)).rows;
    } finally {
      await client.end();
    }
  }

  /** A schema built as the released code built it, at legacy version `version` (1-3). */
  async function legacySchema(version: number): Promise<string> {
    const schema = `legacy_${process.pid}_${++schemas}`;
    const q = `"${schema}"`;
    const statements = [
      `CREATE SCHEMA ${q}`,
      `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      ...LEGACY_PG_MIGRATIONS.slice(0, version).map((m) => m.replaceAll("$S", q)),
      ...LEGACY_PG_MIGRATIONS.slice(0, version).map(
        (_, i) => `INSERT INTO ${q}.migrations (version) VALUES (${i + 1})`,
      ),
      ...legacyRows(`${q}.`),
    ];
    await sql(statements.join(";\n"));
    return schema;
  }

  const versions = (schema: string) =>
    sql<{ version: number; name: string | null }>(
      `SELECT version, name FROM "${schema}".migrations ORDER BY version`,
    );

  it.each([1, 2, 3])(
    "at legacy version %i: renumbered once, migrated, its tasks run to completion",
    async (version) => {
      const schema = await legacySchema(version);
      const store = await PgTaskStore.open({ url, schema });
      open.push(store);
      const expected = PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));
      expect(await versions(schema)).toEqual(expected);
      expect(expected.at(-1)?.version).toBe(SCHEMA_VERSION);
      // the same indexes as a store this code creates
      const indexes = (s: string) =>
        sql<{ indexname: string }>(
          `SELECT indexname FROM pg_indexes WHERE schemaname = '${s}' ORDER BY indexname`,
        ).then((rows) => rows.map((r) => r.indexname));
      const fresh = await PgTaskStore.open({ url, schema: `${schema}_fresh` });
      await fresh.close();
      expect(await indexes(schema)).toEqual(await indexes(`${schema}_fresh`));
      await runToCompletion(store);
      // opened again: nothing translated or applied twice
      await store.close();
      open.push(await PgTaskStore.open({ url, schema }));
      expect(await versions(schema)).toEqual(expected);
    },
  );

  it("at schema 6, made by this code before kinds: migrated, its tasks run to completion", async () => {
    const schema = `six_${process.pid}_${++schemas}`;
    const q = `"${schema}"`;
    await sql(
      [
        `CREATE SCHEMA ${q}`,
        `SET search_path TO ${q}`,
        `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
        ...PG_MIGRATIONS.slice(0, 6).map((m) => m.sql),
        ...PG_MIGRATIONS.slice(0, 6).map(
          (m) => `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name}')`,
        ),
        ...legacyRows(`${q}.`),
      ].join(";\n"),
    );
    const store = await PgTaskStore.open({ url, schema });
    open.push(store);
    expect((await versions(schema)).at(-1)).toEqual({
      version: SCHEMA_VERSION,
      name: MIGRATION_NAMES.at(-1),
    });
    await runToCompletion(store);
  });

  it("a store newer than this code is still refused, untouched", async () => {
    const schema = await legacySchema(3);
    open.push(await PgTaskStore.open({ url, schema }));
    await sql(
      `INSERT INTO "${schema}".migrations (version, name) VALUES (${SCHEMA_VERSION + 1}, '008_future')`,
    );
    await expect(PgTaskStore.open({ url, schema })).rejects.toMatchObject({ code: "ERR_SCHEMA_TOO_NEW" });
    expect((await versions(schema)).at(-1)).toEqual({ version: SCHEMA_VERSION + 1, name: "008_future" });
  });
});

/**
 * A store at schema 12 (the release before the state tables, migration 013), as that release
 * leaves it, with tasks in every state: due at priorities 0, 5 and -1, delayed an hour, running
 * on a live lease (its cancel asked for) and on an expired one, succeeded a day ago and just now,
 * failed with its dead letter, cancelled, and a tagged one. Ranks as the release computes them
 * (an hour per point of priority).
 */
function releaseRows(t: string, now: number): string[] {
  const HOUR = 3_600_000;
  const row = (n: number, status: string, o: Record<string, string | number | null> = {}) => {
    const v: Record<string, string | number | null> = {
      id: `'r-${n}'`,
      idempotency_key: `'rk-${n}'`,
      kind: "'rel'",
      payload: `'{"n":${n}}'`,
      status: `'${status}'`,
      attempts: 0,
      max_attempts: 3,
      created_at: now - 10_000 + n,
      updated_at: now,
      next_run_at: now - 5000 + n,
      priority: 0,
      ...o,
    };
    if (!("rank_at" in o)) v.rank_at = Number(v.next_run_at) - Number(v.priority) * HOUR;
    const cols = Object.keys(v);
    return `INSERT INTO ${t}tasks (${cols.join(", ")}) VALUES (${cols.map((c) => v[c] ?? "NULL").join(", ")})`;
  };
  const live = `'live-host:1:x'`;
  return [
    row(1, "queued"),
    row(2, "queued", { priority: 5 }),
    row(3, "queued", { priority: -1 }),
    row(4, "queued", { next_run_at: now + HOUR }),
    row(5, "running", {
      attempts: 1,
      started_at: now,
      lease_owner: live,
      lease_expires_at: now + HOUR,
      cancel_requested_at: now,
    }),
    row(6, "running", {
      attempts: 1,
      started_at: now - 60_000,
      lease_owner: "'gone-host:1:x'",
      lease_expires_at: now - 1000,
    }),
    row(7, "succeeded", {
      attempts: 1,
      started_at: now - 2 * 24 * HOUR,
      finished_at: now - 2 * 24 * HOUR,
      result: "'7'",
    }),
    row(8, "succeeded", { attempts: 1, started_at: now, finished_at: now, result: "'8'" }),
    row(9, "failed", {
      attempts: 3,
      started_at: now,
      finished_at: now,
      error_class: "'permanent'",
      error_message: "'bad'",
    }),
    row(10, "cancelled", { finished_at: now }),
    row(11, "queued", { tags: `'["blue"]'` }),
    `INSERT INTO ${t}dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
     SELECT seq, id, idempotency_key, payload, 'permanent', 'bad', 3, ${now} FROM ${t}tasks WHERE id = 'r-9'`,
  ];
}

/** The release's store opened by this code: every state's task is found, counted, taken and kept as it was. */
async function everyStateKept(store: TaskStoreDriver): Promise<void> {
  expect(store.recoveredOnOpen).toBe(1); // the expired lease
  const totals = statusTotals(await store.statusCounts(MAX_COUNT_CAP));
  expect(totals).toMatchObject({
    queued: 5,
    scheduled: 1,
    running: 1,
    succeeded: 2,
    failed: 1,
    cancelled: 1,
  });
  const ids = async (status: "queued" | "running" | "succeeded" | "failed" | "cancelled") =>
    (await store.listTasks({ status, limit: 50 })).map((r) => r.id).sort();
  expect(await ids("queued")).toEqual(["r-1", "r-11", "r-2", "r-3", "r-4", "r-6"]);
  expect(await ids("running")).toEqual(["r-5"]);
  expect(await ids("succeeded")).toEqual(["r-7", "r-8"]);
  expect(await ids("failed")).toEqual(["r-9"]);
  expect(await ids("cancelled")).toEqual(["r-10"]);
  expect((await store.listTasks({ tag: "blue", limit: 10 })).map((r) => r.id)).toEqual(["r-11"]);
  expect((await store.leaseHolders()).map((h) => h.owner)).toEqual(["live-host:1:x"]);
  // a finished key is still answered with its result
  const dup = await store.claim({ id: "x", idempotencyKey: "rk-8", kind: "rel", payload: {} });
  expect(dup.created === false && dup.record).toMatchObject({ status: "succeeded", result: "8" });
  // the queue's order: priority 5, then by rank (the reclaimed one kept its own), the delayed
  // one not yet; the negative priority ranked an hour later, still due
  const taken = await store.takeNext(10, ["rel"]);
  expect(taken.map((r) => r.id)).toEqual(["r-2", "r-1", "r-6", "r-11", "r-3"]);
  for (const r of taken) await store.succeed(r.seq, r.version, { result: "null" });
  // the running one's cancel was asked for before: its worker ends it cancelled
  const [running] = await store.getById("r-5");
  await store.cancelRunning(running!.seq, running!.version);
  expect(await ids("cancelled")).toEqual(["r-10", "r-5"]);
  // retention: the day-old success goes, and its key may run again
  expect(await store.prune({ olderThanMs: 24 * 3_600_000 })).toBe(1);
  expect(await store.claim({ id: "r-7b", idempotencyKey: "rk-7", kind: "rel", payload: {} })).toMatchObject({
    created: true,
  });
  // the failed one re-driven runs again
  expect(await store.redriveTasks((await store.getById("r-9")).map((r) => r.seq))).toBe(1);
  const again = await store.takeNext(10, ["rel"]);
  expect(again.map((r) => r.id).sort()).toEqual(["r-7b", "r-9"]);
  for (const r of again) await store.succeed(r.seq, r.version);
  const after = statusTotals(await store.statusCounts(MAX_COUNT_CAP));
  expect(after).toMatchObject({ queued: 0, scheduled: 1, running: 0, succeeded: 8, failed: 0, cancelled: 2 });
  expect(await store.nextDueIn(["rel"])).toBeGreaterThan(3_500_000);
}

describe("a store made by the release before the state tables (schema 12), tasks in every state", () => {
  it("SQLite: opened by this code, every task found, counted and run as before", async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of SQLITE_MIGRATIONS.slice(0, 12)) db.exec(m.sql);
    db.pragma("user_version = 12");
    for (const sql of releaseRows("", Date.now())) db.exec(sql);
    db.exec(`INSERT INTO task_tags (tag, task_seq) SELECT 'blue', seq FROM tasks WHERE id = 'r-11'`);
    db.close();
    const store = SqliteTaskStore.open({ path });
    open.push(store);
    await everyStateKept(store);
  });

  it("PostgreSQL: migrated to the state tables, every task found, counted and run as before", async () => {
    const url = inject("pgUrl");
    const schema = `twelve_${process.pid}`;
    const q = `"${schema}"`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        [
          `CREATE SCHEMA ${q}`,
          `SET search_path TO ${q}`,
          `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
          ...PG_MIGRATIONS.slice(0, 12).map((m) => m.sql),
          ...PG_MIGRATIONS.slice(0, 12).map(
            (m) => `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name}')`,
          ),
          ...releaseRows(`${q}.`, Date.now()),
        ].join(";\n"),
      );
      const store = await PgTaskStore.open({ url, schema });
      open.push(store);
      // each state's table holds its tasks, and no status index is left on the task rows (the
      // correlation index of migration 017 and the group index of 019 hold only tasks with one:
      // none here)
      const count = async (table: string) =>
        Number((await client.query(`SELECT count(*) AS n FROM ${q}.${table}`)).rows[0].n);
      expect([await count("task_ready"), await count("task_leases"), await count("task_done")]).toEqual([
        6, 1, 4,
      ]);
      const { rows } = await client.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tasks'`,
        [schema],
      );
      expect(rows.map((r) => r.indexname).sort()).toEqual([
        "tasks_by_id",
        "tasks_correlation",
        "tasks_group",
        "tasks_kind_idempotency_key_key",
        "tasks_pkey",
      ]);
      expect((await everyTask(store)).every((t) => t.correlationId === null && t.traceContext === null)).toBe(
        true,
      );
      await everyStateKept(store);
      expect([await count("task_ready"), await count("task_leases")]).toEqual([1, 0]);
      expect(await store.stateMismatches()).toEqual([]);
      // the check sees a state row lost
      await client.query(`DELETE FROM ${q}.task_ready`);
      expect(await store.stateMismatches()).toEqual([
        expect.stringMatching(/ queued: 0 ready, 0 lease\(s\), done none$/),
      ]);
    } finally {
      await client.end();
    }
  });
});
