// Numbered migrations, the same numbering for every dialect: `<dialect>/migrations/00N_<what>.sql`,
// applied in order. Each driver records the versions applied its own way (SQLite: PRAGMA
// user_version; PostgreSQL: its `migrations` table) but plans them here.

import { StoreError } from "../errors.js";

/**
 * The schema version this code writes: the number of migrations of each dialect (both have the
 * same numbers). A store with a higher version is refused (ERR_SCHEMA_TOO_NEW).
 */
export const SCHEMA_VERSION = 6;

/** One migration file. */
export interface Migration {
  /** 1 for `001_tasks.sql`. */
  readonly version: number;
  /** The file name without `.sql`, e.g. `001_tasks`. */
  readonly name: string;
  readonly sql: string;
}

/**
 * Orders a dialect's migration files (file name → text) and checks them: numbered 001, 002, ...
 * without a gap, ending at SCHEMA_VERSION.
 */
export function loadMigrations(files: Record<string, string>): readonly Migration[] {
  const migrations = Object.entries(files)
    .map(([file, sql]) => {
      const match = /^(\d{3})_[a-z0-9_]+\.sql$/.exec(file);
      if (!match) throw new Error(`migration file ${file} is not named 00N_<what>.sql`);
      return { version: Number(match[1]), name: file.replace(/\.sql$/, ""), sql };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name}: expected number ${i + 1}`);
  });
  if (migrations.length !== SCHEMA_VERSION)
    throw new Error(`${migrations.length} migrations, expected ${SCHEMA_VERSION}`);
  return migrations;
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
