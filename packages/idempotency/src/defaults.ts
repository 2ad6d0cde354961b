// The store's defaults, stated once: both drivers and openTaskStore resolve an option left out to
// these.

/**
 * Attempts before a task is dead-lettered, when neither the task nor the store says.
 * @default 3
 */
export const DEFAULT_ATTEMPTS = 3;

/**
 * How long a running task stays leased to its owner without a heartbeat, in ms. The heartbeat
 * renews leases every third of it.
 * @default 30000
 */
export const DEFAULT_LEASE_MS = 30_000;

/**
 * Most calls committed together: SQLite, in one transaction; PostgreSQL, of one name (claims, or
 * one transition) in one turn statement.
 * @default 512
 */
export const DEFAULT_MAX_BATCH = 512;
