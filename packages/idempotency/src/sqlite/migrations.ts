// The SQLite schema as numbered migration files (migrations/00N_<what>.sql, the same numbers as
// PostgreSQL's), imported by sql/generated/sqlite-migrations.ts (written from the folder by
// scripts/gen-sql.ts); `PRAGMA user_version` holds how many have run.
import { SQLITE_MIGRATION_FILES } from "../sql/generated/sqlite-migrations.js";
import { loadMigrations, type Migration } from "../sql/migrations.js";

export const SQLITE_MIGRATIONS: readonly Migration[] = loadMigrations(SQLITE_MIGRATION_FILES);
