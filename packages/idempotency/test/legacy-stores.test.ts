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
