import { afterAll, inject } from "vitest";
import { SqliteTaskStore, type TaskStoreDriver } from "../src/index.js";
import { PgTaskStore } from "../src/postgres.js";
import { type MakeOptions, testDriver } from "./driver-suite.js";
import { testDashboardContract } from "./driver-suite-dashboard.js";
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
testDashboardContract("SQLite", sqlite);

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
testDashboardContract("PostgreSQL", postgres);

afterAll(() => undefined);
