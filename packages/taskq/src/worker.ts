// The worker side of a runtime: the loop that takes tasks from the durable queue and runs them
// (`taskq serve`, and a library user's worker process).
import { Fetcher } from "@taskq/queue";
import type { Runtime } from "./runtime.js";

/** Options of `serve`. */
export interface ServeOptions {
  /**
   * How often an idle worker looks for new tasks, in ms, when nothing wakes it earlier.
   * @default 200 on SQLite; 2000 on PostgreSQL, which wakes idle workers with LISTEN/NOTIFY
   */
  readonly pollMs?: number;
  /**
   * Return once nothing is queued or running anywhere in the store.
   * @default false
   */
  readonly exitWhenIdle?: boolean;
  /** Stops taking tasks (what was taken keeps running until the runtime closes). */
  readonly signal?: AbortSignal;
  /** A store error worth retrying (an unreachable server): reported, and the loop tries again. @default ignored */
  readonly onRetryableError?: (error: Error) => void;
}

/** The poll interval a worker uses on a store when none is given. */
export function defaultPollMs(dialect: "sqlite" | "postgres"): number {
  return dialect === "postgres" ? 2000 : 200;
}

/**
 * Takes tasks from the runtime's store and runs them on its orchestrator until `signal` aborts
 * (or, with `exitWhenIdle`, until the store is idle). It holds at most as many tasks as it has
 * slots plus its queue's capacity; each is leased to this process and renewed by its heartbeat.
 * Resolves with the number of tasks taken. Close the runtime afterwards to drain them.
 */
export function serve(runtime: Runtime, options: ServeOptions = {}): Promise<number> {
  const fetcher = new Fetcher({
    store: runtime.store,
    runner: runtime.orchestrator,
    capacity: runtime.executor.concurrency + runtime.config.queueSize,
    pollMs: options.pollMs ?? defaultPollMs(runtime.store.dialect),
    ...(options.exitWhenIdle === undefined ? {} : { exitWhenIdle: options.exitWhenIdle }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onRetryableError ? { onRetryableError: options.onRetryableError } : {}),
  });
  return fetcher.run();
}
