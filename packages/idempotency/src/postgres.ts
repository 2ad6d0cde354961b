// `@taskq/idempotency/postgres`: the PostgreSQL driver. Its own entry, so that a user of the
// SQLite store alone never loads (or installs) the `pg` client.
export { fromPg, isTransient, redactUrl } from "./postgres/errors.js";
export { PgTaskStore, type PgTaskStoreOptions } from "./postgres/pg-task-store.js";
export { PG_MIGRATIONS, PG_SCHEMA_VERSION } from "./postgres/schema.js";
