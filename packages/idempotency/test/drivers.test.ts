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
import { testGroupsContract } from "./driver-suite-groups.js";
import { testTagsContract } from "./driver-suite-tags.js";
import { testTimeContract } from "./driver-suite-time.js";
import { tempDb } from "./helpers.js";

const paths = new WeakMap<TaskStoreDriver, string>();

const sqlite = async (options: MakeOptions = {}) => {
  const { sameAs, ...rest } = options;
  const path = sameAs ? (paths.get(sameAs) as string) : tempDb();
  const store = SqliteTaskStore.open({ path, ...rest });
  paths.set(store, path);
  return store;
};
testDriver("SQLite", sqlite);
testTimeContract("SQLite", sqlite);
testAttemptsContract("SQLite", sqlite);
testBreakerContract("SQLite", sqlite);
testDashboardContract("SQLite", sqlite);
testCorrelationContract("SQLite", sqlite);
testTagsContract("SQLite", sqlite, async (store) => {
  const db = new Database(paths.get(store) as string, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM task_tags").get() as { n: number }).n;
  } finally {
    db.close();
  }
});

/** The current release's schema (17: migration 017 is its last), three tasks of kind "rel" in it. */
const RELEASE_SCHEMA = 17;
const releaseRows = (t: string, now: number) => [
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

testGroupsContract("SQLite", sqlite, async () => {
  const path = tempDb();
  const db = new Database(path);
  for (const m of SQLITE_MIGRATIONS.slice(0, RELEASE_SCHEMA)) db.exec(m.sql);
  db.pragma(`user_version = ${RELEASE_SCHEMA}`);
  for (const sql of releaseRows("", Date.now())) db.exec(sql);
  db.close();
  return SqliteTaskStore.open({ path });
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
testDriver("PostgreSQL", postgres);
testTimeContract("PostgreSQL", postgres);
testAttemptsContract("PostgreSQL", postgres);
testBreakerContract("PostgreSQL", postgres);
testDashboardContract("PostgreSQL", postgres);
testCorrelationContract("PostgreSQL", postgres);
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

testGroupsContract("PostgreSQL", postgres, async () => {
  const schema = `release_${process.pid}_${++schemas}`;
  const q = `"${schema}"`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    await client.query(
      [
        `CREATE SCHEMA ${q}`,
        `SET search_path TO ${q}`,
        `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
        ...PG_MIGRATIONS.slice(0, RELEASE_SCHEMA).map((m) => m.sql),
        ...PG_MIGRATIONS.slice(0, RELEASE_SCHEMA).map(
          (m) => `INSERT INTO ${q}.migrations (version, name) VALUES (${m.version}, '${m.name}')`,
        ),
        ...releaseRows(`${q}.`, now),
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
});

afterAll(() => undefined);
