import { afterAll, inject } from "vitest";
import { SqliteTaskStore, type TaskStoreDriver } from "../src/index.js";
import { PgTaskStore } from "../src/postgres.js";
import { type MakeOptions, testDriver } from "./driver-suite.js";
import { tempDb } from "./helpers.js";

const paths = new WeakMap<TaskStoreDriver, string>();

testDriver("SQLite", async (options: MakeOptions = {}) => {
  const { sameAs, ...rest } = options;
  const path = sameAs ? (paths.get(sameAs) as string) : tempDb();
  const store = SqliteTaskStore.open({ path, ...rest });
  paths.set(store, path);
  return store;
});

let schemas = 0;
const schemaOf = new WeakMap<TaskStoreDriver, string>();
const url = inject("pgUrl");

testDriver("PostgreSQL", async (options: MakeOptions = {}) => {
  const { sameAs, ...rest } = options;
  const schema = sameAs ? (schemaOf.get(sameAs) as string) : `contract_${process.pid}_${++schemas}`;
  const store = await PgTaskStore.open({ url, schema, ...rest });
  schemaOf.set(store, schema);
  return store;
});

afterAll(() => undefined);
