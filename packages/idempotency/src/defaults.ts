/** Attempts in all, the first included, before a task is dead-lettered, when neither the task nor the store says. */
export const DEFAULT_ATTEMPTS = 3;
/** How long a running task stays leased to its owner without a heartbeat, in ms. */
export const DEFAULT_LEASE_MS = 30_000;
