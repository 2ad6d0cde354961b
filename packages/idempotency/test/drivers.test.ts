import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { SqliteTaskStore, type TaskStoreDriver } from "../src/index.js";
import { PgTaskStore } from "../src/postgres.js";
import { type MakeOptions, testDriver } from "./driver-suite.js";
import { testAttemptsContract } from "./driver-suite-attempts.js";
import { testBreakerContract } from "./driver-suite-breaker.js";
import { testCorrelationContract } from "./driver-suite-correlation.js";
import { testDashboardContract } from "./driver-suite-dashboard.js";
import { testFlowsContract } from "./driver-suite-flows.js";
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
testFlowsContract("SQLite", sqlite);
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
testDriver("PostgreSQL", postgres);
testTimeContract("PostgreSQL", postgres);
testAttemptsContract("PostgreSQL", postgres);
testBreakerContract("PostgreSQL", postgres);
testDashboardContract("PostgreSQL", postgres);
testCorrelationContract("PostgreSQL", postgres);
testFlowsContract("PostgreSQL", postgres);
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
