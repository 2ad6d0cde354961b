// A store made by the current release (schema 17, before workflows) opened by this code: migrated
// to 018 with its tasks untouched (every column they had reads back the same; the new ones are
// NULL), and then a flow runs after its tasks: a child after one of its succeeded tasks is due at
// once, one after its queued task waits and is released when that task succeeds.
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { SQLITE_MIGRATIONS, SqliteTaskStore, type TaskRecord, type TaskStoreDriver } from "../src/index.js";
import { PG_MIGRATIONS, PgTaskStore } from "../src/postgres.js";
import { tempDb } from "./helpers.js";

const open: TaskStoreDriver[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** Tasks of the release: one queued, one succeeded with a result, one failed. */
function releaseRows(t: string, now: number): string[] {
  const row = (n: number, status: string, extra: string, values: string) =>
    `INSERT INTO ${t}tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at, next_run_at, priority, rank_at, version${extra}) VALUES ('r-${n}', 'rk-${n}', 'rel', '{"n":${n}}', '${status}', 1, 3, ${now}, ${now}, ${now}, 0, ${now}, 2${values})`;
  return [
    row(1, "queued", "", ""),
    row(2, "succeeded", ", result, finished_at", `, '"two"', ${now}`),
    row(3, "failed", ", error_class, error_message, finished_at", `, 'permanent', 'bad', ${now}`),
  ];
}

/** Every field the release's tasks had, as this code reads them. */
const asBefore = (r: TaskRecord | undefined) => {
  const { waitingFor, hasChildren, parents, ...rest } = r as TaskRecord;
  return { rest, flow: { waitingFor, hasChildren, parents } };
};

async function migratedAndRuns(store: TaskStoreDriver, before: ReturnType<typeof asBefore>["rest"][]) {
  const after = await Promise.all(
    ["r-1", "r-2", "r-3"].map(async (id) => asBefore((await store.getById(id))[0])),
  );
  expect(after.map((a) => a.rest)).toEqual(before);
  for (const a of after) expect(a.flow).toEqual({ waitingFor: null, hasChildren: false, parents: undefined });
  const [now, later] = await store.enqueueFlow([
    { id: "c-1", idempotencyKey: "c-1", kind: "rel", payload: {}, after: [{ parent: "r-2" }] },
    { id: "c-2", idempotencyKey: "c-2", kind: "rel", payload: {}, after: [{ parent: "r-1" }] },
  ]);
  expect(now?.created && (await store.get(now.seq))).toMatchObject({ status: "queued", waitingFor: 0 });
  expect(later?.created && (await store.get(later.seq))).toMatchObject({ status: "queued", waitingFor: 1 });
  const taken = await store.takeNext(10, ["rel"]);
  expect(taken.map((t) => t.id).sort()).toEqual(["c-1", "r-1"]);
  expect(taken.find((t) => t.id === "c-1")?.parents?.map((p) => [p.id, p.result])).toEqual([
    ["r-2", '"two"'],
  ]);
  for (const t of taken) await store.succeed(t.seq, t.version);
  expect((await store.takeNext(10, ["rel"])).map((t) => t.id)).toEqual(["c-2"]);
}

describe("a store of the current release (schema 17) migrates to workflows (018)", () => {
  it("SQLite: its tasks untouched, then a flow runs after them", async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of SQLITE_MIGRATIONS.slice(0, 17)) db.exec(m.sql);
    db.pragma("user_version = 17");
    for (const sql of releaseRows("", Date.now() - 1000)) db.exec(sql);
    db.close();
    // read as the release's columns by this code's mapping, before the migration adds any
    const raw = new Database(path, { readonly: true });
    const rows = raw.prepare("SELECT * FROM tasks ORDER BY seq").all() as Record<string, unknown>[];
    raw.close();
    const { toRecord } = await import("../src/record.js");
    const before = rows.map((r) => asBefore(toRecord(r as never)).rest);
    const store = SqliteTaskStore.open({ path });
    open.push(store);
    await migratedAndRuns(store, before);
  });

  it("PostgreSQL: its tasks untouched, then a flow runs after them", async () => {
    const url = inject("pgUrl");
    const schema = `seventeen_${process.pid}`;
    const q = `"${schema}"`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        [
          `CREATE SCHEMA ${q}`,
          `SET search_path TO ${q}`,
          `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
          ...PG_MIGRATIONS.slice(0, 17).map((m) => m.sql),
          ...PG_MIGRATIONS.slice(0, 17).map(
            (m) => `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name}')`,
          ),
          ...releaseRows(`${q}.`, Date.now() - 1000),
          `INSERT INTO ${q}.task_ready (seq, kind, rank_at, next_run_at, priority) SELECT seq, kind, rank_at, next_run_at, priority FROM ${q}.tasks WHERE status = 'queued'`,
          `INSERT INTO ${q}.task_done (seq, kind, status, finished_at) SELECT seq, kind, status, finished_at FROM ${q}.tasks WHERE status IN ('succeeded', 'failed')`,
        ].join(";\n"),
      );
      const { rows } = await client.query(`SELECT * FROM ${q}.tasks ORDER BY seq`);
      const { toRecord } = await import("../src/record.js");
      const before = rows.map(
        (r) =>
          asBefore(
            toRecord({
              ...r,
              seq: Number(r.seq),
              created_at: Number(r.created_at),
              updated_at: Number(r.updated_at),
              next_run_at: Number(r.next_run_at),
              finished_at: r.finished_at === null ? null : Number(r.finished_at),
            } as never),
          ).rest,
      );
      const store = await PgTaskStore.open({ url, schema });
      open.push(store);
      await migratedAndRuns(store, before);
      expect(await store.stateMismatches()).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
