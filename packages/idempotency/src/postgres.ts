// `@taskq/idempotency/postgres`: the PostgreSQL driver. Its own entry, so that a user of the
// SQLite store alone never loads (or installs) the `pg` client. Re-exports only, by name.
export { fromPg, isTransient, redactUrl } from "./postgres/errors.js";
export { PG_MIGRATIONS } from "./postgres/migrate.js";
export { type PgQueryable, PgTaskStore, type PgTaskStoreOptions } from "./postgres/pg-task-store.js";
