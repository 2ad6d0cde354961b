import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, expect, inject } from "vitest";
import { SQLITE_MIGRATIONS, SqliteTaskStore, type TaskStoreDriver } from "../src/index.js";
import { PG_MIGRATIONS, PgTaskStore } from "../src/postgres.js";
import { type MakeOptions, testDriver } from "./driver-suite.js";
import { testAttemptsContract } from "./driver-suite-attempts.js";
import { testBreakerContract } from "./driver-suite-breaker.js";
import { testCorrelationContract } from "./driver-suite-correlation.js";
import { testDashboardContract } from "./driver-suite-dashboard.js";
import { testFlowsContract } from "./driver-suite-flows.js";
import { testGroupsContract } from "./driver-suite-groups.js";
import { testProgressContract } from "./driver-suite-progress.js";
import { testTagsContract } from "./driver-suite-tags.js";
import { testTimeContract } from "./driver-suite-time.js";
import { tempDb } from "./helpers.js";

/** The schema of the current release (main before issue 35's migrations: 017 is its last). */
const RELEASE_SCHEMA = 17;

/** `task(1)` queued and `task(2)` succeeded (result "2"), as the release stores them (`t`: a table prefix). */
function imageRows(t: string): string[] {
  const cols =
    "id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at, next_run_at, priority, rank_at, started_at, finished_at, result";
  return [
    `INSERT INTO ${t}tasks (${cols}) VALUES ('t-1', 'img-1.ppm#thumb', 'image', '{"id":"t-1"}', 'queued', 0, 3, 1, 1, 1, 0, 1, NULL, NULL, NULL)`,
    `INSERT INTO ${t}tasks (${cols}) VALUES ('t-2', 'img-2.ppm#thumb', 'image', '{"id":"t-2"}', 'succeeded', 1, 3, 1, 2, 1, 0, 1, 2, 2, '2')`,
  ];
}

/** Three tasks of kind "rel", queued (due), running (leased an hour) and succeeded (result 7), as of `now`. */
function relRows(t: string, now = Date.now()): string[] {
  return [
    `INSERT INTO ${t}tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at,
       next_run_at, priority, rank_at, version) VALUES ('rel-q', 'rel-q', 'rel', '{}', 'queued', 0, 3, ${now}, ${now},
       ${now - 1000}, 0, ${now - 1000}, 0)`,
    `INSERT INTO ${t}tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at,
       next_run_at, priority, rank_at, version, started_at, lease_owner, lease_expires_at) VALUES ('rel-r', 'rel-r',
       'rel', '{}', 'running', 1, 3, ${now}, ${now}, ${now}, 0, ${now}, 1, ${now}, 'live-host:1:x', ${now + 3_600_000})`,
    `INSERT INTO ${t}tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at,
       next_run_at, priority, rank_at, version, started_at, finished_at, result) VALUES ('rel-s', 'rel-s', 'rel', '{}',
       'succeeded', 1, 3, ${now}, ${now}, ${now}, 0, ${now}, 2, ${now}, ${now}, '7')`,
  ];
}

const paths = new WeakMap<TaskStoreDriver, string>();

const sqlite = async (options: MakeOptions = {}) => {
  const { sameAs, ...rest } = options;
  const path = sameAs ? (paths.get(sameAs) as string) : tempDb();
  const store = SqliteTaskStore.open({ path, ...rest });
  paths.set(store, path);
  return store;
};
/** A SQLite store made by the current release holding `rows`, opened (migrated) by this one. */
function sqliteRelease(rows: (t: string) => string[]) {
  return async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of SQLITE_MIGRATIONS.slice(0, RELEASE_SCHEMA)) db.exec(m.sql);
    db.pragma(`user_version = ${RELEASE_SCHEMA}`);
    for (const sql of rows("")) db.exec(sql);
    db.close();
    return SqliteTaskStore.open({ path });
  };
}
testDriver("SQLite", sqlite);
testTimeContract("SQLite", sqlite);
testAttemptsContract("SQLite", sqlite);
testBreakerContract("SQLite", sqlite);
testDashboardContract("SQLite", sqlite);
testCorrelationContract("SQLite", sqlite);
testProgressContract("SQLite", sqlite, sqliteRelease(imageRows));
testFlowsContract("SQLite", sqlite);
testGroupsContract("SQLite", sqlite, sqliteRelease(relRows));
testTagsContract("SQLite", sqlite, async (store) => {
  const db = new Database(paths.get(store) as string, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM task_tags").get() as { n: number }).n;
  } finally {
    db.close();
  }
});

let schemas = 0;
const schemaOf = new WeakMap<TaskStoreDriver, string>();
const url = inject("pgUrl");

const postgres = async (options: MakeOptions = {}) => {
  const { sameAs, ...rest } = options;
  const schema = sameAs ? (schemaOf.get(sameAs) as string) : `contract_${process.pid}_${++schemas}`;
  const store = await PgTaskStore.open({ url, schema, ...rest });
  schemaOf.set(store, schema);
  return store;
};
/**
 * A PostgreSQL schema made by the current release holding `rows` (with their state rows: ready,
 * leased, done), opened (migrated) by this one; its state tables agree with its tasks.
 */
function postgresRelease(rows: (t: string) => string[]) {
  return async () => {
    const schema = `release_${process.pid}_${++schemas}`;
    const q = `"${schema}"`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const migrations = PG_MIGRATIONS.slice(0, RELEASE_SCHEMA);
      await client.query(
        [
          `CREATE SCHEMA ${q}`,
          `SET search_path TO ${q}`,
          `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
          ...migrations.map((m) => m.sql),
          ...migrations.map(
            (m) => `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name}')`,
          ),
          ...rows(`${q}.`),
          `INSERT INTO ${q}.task_ready (seq, kind, rank_at, next_run_at, priority)
             SELECT seq, kind, rank_at, next_run_at, priority FROM ${q}.tasks WHERE status = 'queued'`,
          `INSERT INTO ${q}.task_leases (seq, kind, owner, expires_at)
             SELECT seq, kind, lease_owner, lease_expires_at FROM ${q}.tasks WHERE status = 'running'`,
          `INSERT INTO ${q}.task_done (seq, kind, status, finished_at)
             SELECT seq, kind, status, finished_at FROM ${q}.tasks WHERE status = 'succeeded'`,
        ].join(";\n"),
      );
    } finally {
      await client.end();
    }
    const store = await PgTaskStore.open({ url, schema });
    expect(await store.stateMismatches()).toEqual([]);
    return store;
  };
}
testDriver("PostgreSQL", postgres);
testTimeContract("PostgreSQL", postgres);
testAttemptsContract("PostgreSQL", postgres);
testBreakerContract("PostgreSQL", postgres);
testDashboardContract("PostgreSQL", postgres);
testCorrelationContract("PostgreSQL", postgres);
testProgressContract("PostgreSQL", postgres, postgresRelease(imageRows));
testFlowsContract("PostgreSQL", postgres);
testGroupsContract("PostgreSQL", postgres, postgresRelease(relRows));
testTagsContract("PostgreSQL", postgres, async (store) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schemaOf.get(store)}".task_tags`);
    return (rows[0] as { n: number }).n;
  } finally {
    await client.end();
  }
});

afterAll(() => undefined);
