// The PostgreSQL schema as numbered migration files (migrations/00N_<what>.sql, the same numbers
// as SQLite's), and the runner that applies them: `<schema>.migrations` records each version
// applied, with its file name.
import type pg from "pg";
import { StoreError } from "../errors.js";
import { PG_MIGRATION_FILES } from "../sql/generated/postgres-migrations.js";
import { loadMigrations, type Migration, pendingMigrations } from "../sql/migrations.js";
import { checkOut } from "./connection.js";

/** The migrations/ folder's files (sql/generated/postgres-migrations.ts, written by scripts/gen-sql.ts). */
export const PG_MIGRATIONS: readonly Migration[] = loadMigrations(PG_MIGRATION_FILES);

/**
 * The legacy numbering, translated once. Until the migrations became files, PostgreSQL had its
 * own numbers: its version 1 created at once what SQLite's 1-3 do (tables, scheduling and lease
 * columns, partial indexes), 2 was SQLite's 4 (dead-letter indexes) and 3 SQLite's 5 (the failed
 * index). Those rows have no `name`; a store whose rows all lack one is renumbered here, in the
 * migrating transaction, and its rows rewritten with names, so it is never translated twice.
 */
const LEGACY_VERSIONS: Readonly<Record<number, number>> = { 1: 3, 2: 4, 3: 5 };

async function translateLegacy(client: pg.PoolClient, q: string, store: string): Promise<void> {
  const { rows } = await client.query<{ legacy: number; named: number; v: number | null }>(
    `SELECT count(*) FILTER (WHERE name IS NULL)::int AS legacy, count(*) FILTER (WHERE name IS NOT NULL)::int AS named,
       max(version) AS v FROM ${q}.migrations`,
  );
  const { legacy, named, v } = rows[0] as { legacy: number; named: number; v: number | null };
  if (legacy === 0 || named > 0 || v === null) return;
  const version = LEGACY_VERSIONS[v];
  if (version === undefined)
    throw new StoreError(
      "ERR_SCHEMA_TOO_NEW",
      `${store} has legacy schema version ${v}, newer than this taskq understands; upgrade taskq`,
    );
  await client.query(`DELETE FROM ${q}.migrations`);
  for (const migration of PG_MIGRATIONS.slice(0, version))
    await client.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ]);
}

/**
 * Creates or migrates a store's schema in one transaction, one migrator at a time whatever the
 * number of nodes starting together; refuses a store newer than this code (ERR_SCHEMA_TOO_NEW)
 * and, without `create`, a missing one (ERR_NOT_FOUND).
 */
export async function migrate(
  pool: pg.Pool,
  options: { readonly schema: string; readonly location: string; readonly create: boolean },
): Promise<void> {
  const q = `"${options.schema}"`;
  const store = `task store at ${options.location} (schema ${options.schema})`;
  const { client, release } = await checkOut(pool);
  let broken = false;
  try {
    if (!options.create) {
      const found = await client.query("SELECT to_regclass($1) AS t", [`${q}.migrations`]);
      if (found.rows[0]?.t === null)
        throw new StoreError(
          "ERR_NOT_FOUND",
          `no task store (schema ${options.schema}) at ${options.location}`,
        );
    }
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`taskq:${options.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(`SET LOCAL search_path TO ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.migrations (version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(`ALTER TABLE ${q}.migrations ADD COLUMN IF NOT EXISTS name text`);
    await translateLegacy(client, q, store);
    const { rows } = await client.query(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${q}.migrations`);
    for (const migration of pendingMigrations(PG_MIGRATIONS, Number(rows[0]?.v ?? 0), store)) {
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    release(broken);
  }
}
