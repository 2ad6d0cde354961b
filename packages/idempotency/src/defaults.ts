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

/**
 * A worker whose last report is older than this stopped without saying so (a SIGKILL): every
 * view shows it as stale, and once it holds no lease either (its tasks reclaimed) the next report
 * of any worker on the store removes its row. Several report intervals, so a busy event loop
 * does not make a live one stale.
 * @default 15000
 */
export const WORKER_STALE_MS = 15_000;

/** @deprecated Renamed WORKER_STALE_MS (a process that runs tasks is a worker). */
export const MANAGER_STALE_MS = WORKER_STALE_MS;

/**
 * What one point of priority is worth in waiting, in ms: a task ranks in the queue as if it had
 * become due this much earlier per point (`rank_at = next_run_at - priority * PRIORITY_AGING_MS`).
 * Among tasks that became due within an hour of each other the larger priority runs first; a
 * task that has waited an hour longer than one a point above it runs before it. So no steady
 * stream of higher priorities keeps a lower one waiting for more than an hour per point between
 * them. Every process on a store uses the same value (it is part of the stored order).
 * @default 3600000
 */
export const PRIORITY_AGING_MS = 3_600_000;
