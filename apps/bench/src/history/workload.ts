// The history run's workload: its kinds (each with the handler module that runs it), the
// worker settings every worker process gets, the limits and the schedule the producer sets.
// One place, read by the producer, the workers and the checker alike.
import type { WorkloadConfig } from "./model.js";

/** Kind → its handler module in dist/history/ (the built file's name). */
export const KIND_HANDLERS = {
  ok: "handler-ok.js",
  flaky: "handler-flaky.js",
  permanent: "handler-permanent.js",
  slow: "handler-slow.js",
  wait: "handler-wait.js",
  /** fleet concurrency 2 */
  limited: "handler-ok.js",
  /** a fleet rate limit */
  rated: "handler-ok.js",
  /** fleet concurrency 1: the priority bursts */
  prio: "handler-ok.js",
  /** enqueued by the schedule */
  cron: "handler-ok.js",
} as const;

export type HistoryKind = keyof typeof KIND_HANDLERS;

/** Settings of every worker process (createWorker's). */
export const WORKER_SETTINGS = {
  threads: 1,
  concurrency: 8,
  attempts: 3,
  backoffBaseMs: 50,
  backoffMaxMs: 400,
  /** short, so a SIGSTOP past it is cheap */
  leaseMs: 2000,
  timeoutMs: 1200,
} as const;

export const WORKLOAD: WorkloadConfig = {
  leaseMs: WORKER_SETTINGS.leaseMs,
  timeoutMs: WORKER_SETTINGS.timeoutMs,
  concurrency: { limited: 2, prio: 1 },
  rate: { rated: { limit: 4, intervalMs: 1000 } },
  cron: { name: "every-2s", kind: "cron", everyMs: 2000 },
  priorityKind: "prio",
  startLagMs: 250,
};

/** The schedule's cron: every 2 s (six fields, seconds first). */
export const CRON_EXPRESSION = "*/2 * * * * *";

/** The faults a run can inject; the last two need a PostgreSQL server the run started. */
export const FAULTS = ["kill-worker", "stop-worker", "kill-producer", "pg-terminate", "pg-restart"] as const;
export type FaultKind = (typeof FAULTS)[number];

/** The faults that apply to a store: SQLite has no server to terminate or restart. */
export function faultsFor(store: "sqlite" | "postgres", ownServer: boolean): FaultKind[] {
  if (store === "sqlite") return ["kill-worker", "stop-worker", "kill-producer"];
  return ownServer ? [...FAULTS] : FAULTS.filter((f) => f !== "pg-restart");
}
