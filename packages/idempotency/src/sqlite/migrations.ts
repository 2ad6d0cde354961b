// The SQLite schema as numbered migration files (migrations/00N_<what>.sql, the same numbers as
// PostgreSQL's); `PRAGMA user_version` holds how many have run.
import { loadMigrations, type Migration } from "../sql/migrations.js";
import m001 from "./migrations/001_tasks.sql";
import m002 from "./migrations/002_scheduling_leases.sql";
import m003 from "./migrations/003_partial_indexes.sql";
import m004 from "./migrations/004_dead_letter_indexes.sql";
import m005 from "./migrations/005_failed_index.sql";
import m006 from "./migrations/006_maintenance_managers.sql";
import m007 from "./migrations/007_kinds_cancel.sql";
import m008 from "./migrations/008_time_priority_schedules.sql";
import m009 from "./migrations/009_kind_in_failed_cancelled_indexes.sql";
import m010 from "./migrations/010_due_index_apart.sql";
import m011 from "./migrations/011_queued_positive_index.sql";

export const SQLITE_MIGRATIONS: readonly Migration[] = loadMigrations([
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
]);
