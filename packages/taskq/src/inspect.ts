// The store's read model: what monitoring shows of a store (the CLI's monitor and /metrics, and
// the dashboard next), read through the task store contract, in one place.
import type { LeaseHolder, StoreStats, TaskStoreDriver } from "@taskq/idempotency";
import { labelValue } from "@taskq/metrics";

/** One look at the store: counts, throughput, and the managers holding leases. */
export interface StoreReading extends StoreStats {
  /** When it was read, ISO 8601. */
  readonly timestamp: string;
  /** Tasks that succeeded per second over the interval asked for. */
  readonly throughputTps: number;
  readonly managers: readonly LeaseHolder[];
}

/** Reads the store once: counts, throughput over the last `intervalS` seconds, lease holders. */
export async function readStore(store: TaskStoreDriver, intervalS: number): Promise<StoreReading> {
  const [stats, succeeded, managers] = await Promise.all([
    store.stats(),
    store.succeededWithin(intervalS * 1000),
    store.leaseHolders(),
  ]);
  return {
    ...stats,
    timestamp: new Date().toISOString(),
    throughputTps: succeeded / intervalS,
    managers,
  };
}

export type ReadingJson = ReturnType<typeof readingJson>;

/** A reading as JSON, with the snake_case field names of the CLI's other JSON output. */
export function readingJson(r: StoreReading) {
  return {
    timestamp: r.timestamp,
    queued: r.queued,
    running: r.running,
    succeeded: r.succeeded,
    failed: r.failed,
    total: r.total,
    dead_letters: r.deadLetters,
    oldest_queued_age_ms: r.oldestQueuedAgeMs,
    throughput_tps: Number(r.throughputTps.toFixed(2)),
    managers: r.managers.map((m) => ({
      owner: m.owner,
      running: m.running,
      lease_expires_at: new Date(m.leaseExpiresAt).toISOString(),
    })),
  };
}

/** The store's state in the Prometheus text format. */
export function storePrometheus(r: StoreReading): string {
  const owner = (name: string) => `{owner="${labelValue(name)}"}`;
  const lines = [
    "# HELP taskq_store_tasks Task records by status.",
    "# TYPE taskq_store_tasks gauge",
    ...(["queued", "running", "succeeded", "failed"] as const).map(
      (s) => `taskq_store_tasks{status="${s}"} ${r[s]}`,
    ),
    "# HELP taskq_store_dead_letters Dead letters not re-driven.",
    "# TYPE taskq_store_dead_letters gauge",
    `taskq_store_dead_letters ${r.deadLetters}`,
    "# HELP taskq_store_oldest_queued_age_seconds Age of the oldest queued task.",
    "# TYPE taskq_store_oldest_queued_age_seconds gauge",
    `taskq_store_oldest_queued_age_seconds ${(r.oldestQueuedAgeMs ?? 0) / 1000}`,
    "# HELP taskq_store_throughput_tasks_per_second Tasks that succeeded per second over the last interval.",
    "# TYPE taskq_store_throughput_tasks_per_second gauge",
    `taskq_store_throughput_tasks_per_second ${r.throughputTps}`,
    "# HELP taskq_store_manager_running_tasks Running tasks leased to each manager.",
    "# TYPE taskq_store_manager_running_tasks gauge",
    ...r.managers.map((m) => `taskq_store_manager_running_tasks${owner(m.owner)} ${m.running}`),
  ];
  return `${lines.join("\n")}\n`;
}
