// Numbered migrations, the same numbering for every dialect: `<dialect>/migrations/00N_<what>.sql`,
// applied in order. Each driver records the versions applied its own way (SQLite: PRAGMA
// user_version; PostgreSQL: its `migrations` table) but plans them here.

import { StoreError } from "../errors.js";

/**
 * The migrations, the same for every dialect: `<dialect>/migrations/<name>.sql`, applied in this
 * order. To add one, add its name here and a file of that name for each dialect (and import it in
 * sqlite/migrations.ts and postgres/migrate.ts).
 */
export const MIGRATION_NAMES = [
  "001_tasks",
  "002_scheduling_leases",
  "003_partial_indexes",
  "004_dead_letter_indexes",
  "005_failed_index",
  "006_maintenance_managers",
  "007_kinds_cancel",
  "008_time_priority_schedules",
  "009_kind_in_failed_cancelled_indexes",
  "010_due_index_apart",
  "011_queued_positive_index",
] as const;

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

/** A dialect's migration files, their texts in the order of MIGRATION_NAMES. */
export function loadMigrations(
  texts: readonly string[] & { readonly length: typeof SCHEMA_VERSION },
): readonly Migration[] {
  return MIGRATION_NAMES.map((name, i) => ({ version: i + 1, name, sql: texts[i] as string }));
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
