// Numbered migrations, the same numbering for every dialect: `<dialect>/migrations/00N_<what>.sql`,
// applied in order. Each driver records the versions applied its own way (SQLite: PRAGMA
// user_version; PostgreSQL: its `migrations` table) but plans them here. The list is the folders:
// scripts/gen-sql.ts reads them (the same names in both, numbered from 001 without a gap) into
// sql/generated/ (MIGRATION_NAMES, and each dialect's files imported as text).

import { StoreError } from "../errors.js";
import { MIGRATION_NAMES } from "./generated/migration-names.js";

/**
 * The migrations, the same for every dialect: `<dialect>/migrations/<name>.sql`, applied in this
 * order. To add one, add a file of the next number to both folders (and run gen:sql, as build and
 * typecheck do).
 */
export { MIGRATION_NAMES };

/** A migration's name: its file's, without `.sql`. */
export type MigrationName = (typeof MIGRATION_NAMES)[number];

/**
 * The schema version this code writes: the number of migrations. A store with a higher version
 * is refused (ERR_SCHEMA_TOO_NEW).
 */
export const SCHEMA_VERSION = MIGRATION_NAMES.length;

/** One migration file. */
export interface Migration {
  /** 1 for `001_tasks.sql`. */
  readonly version: number;
  /** The file name without `.sql`, e.g. `001_tasks`. */
  readonly name: string;
  readonly sql: string;
}

/** A dialect's migrations, in the order of MIGRATION_NAMES, from its files' texts by name (generated). */
export function loadMigrations(files: Readonly<Record<MigrationName, string>>): readonly Migration[] {
  return MIGRATION_NAMES.map((name, i) => ({ version: i + 1, name, sql: files[name] }));
}

/**
 * The migrations a store at version `current` still needs, in order; refuses a store newer than
 * this code. `store` names it in the error ("task store /path").
 */
export function pendingMigrations(
  migrations: readonly Migration[],
  current: number,
  store: string,
): readonly Migration[] {
  if (current > SCHEMA_VERSION)
    throw new StoreError(
      "ERR_SCHEMA_TOO_NEW",
      `${store} has schema version ${current}, newer than this taskq understands (${SCHEMA_VERSION}); upgrade taskq`,
    );
  return migrations.slice(current);
}
