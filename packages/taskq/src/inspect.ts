// The store's read model: what monitoring shows of a store (the CLI's monitor and /metrics, and
// the dashboard reads its own bounded counts), read through the task store contract, in one place.
import {
  type KindCounts,
  type KindLimitState,
  type ScheduleRecord,
  type StoreStats,
  TASK_STATUSES,
  type TaskStoreDriver,
} from "@taskq/idempotency";
import { labelValue } from "@taskq/metrics";
import { MANAGER_STALE_MS } from "./maintenance/manager-report.js";

/** A manager: the tasks leased to it in the store, and what its latest report says it runs. */
export interface ManagerReading {
  readonly owner: string;
  /** Tasks leased to it (`running` in the store): executing, or waiting in it for a slot. */
  readonly leased: number;
  /** When its latest lease runs out, epoch ms; null when it holds none. */
  readonly leaseExpiresAt: number | null;
  /** From its latest report (null without a fresh one): attempts executing now, its threads and slots. */
  readonly executing: number | null;
  readonly threads: number | null;
  readonly slots: number | null;
  /** Its latest report, epoch ms by the store's clock; null without a fresh one. */
  readonly heartbeatAt: number | null;
}

/** One look at the store: counts, throughput, and the managers with what they run. */
export interface StoreReading extends StoreStats {
  /** When it was read, ISO 8601. */
  readonly timestamp: string;
  /** Tasks that succeeded per second over the interval asked for. */
  readonly throughputTps: number;
  /** Of the `running` tasks: attempts executing now, by the managers' reports. */
  readonly executing: number;
  /** Of the `running` tasks: leased to a manager and waiting there for a slot (or a report). */
  readonly waiting: number;
  readonly managers: readonly ManagerReading[];
  /** Counts by kind (a kind with queued tasks and no worker shows here, waiting). */
  readonly kinds: readonly KindCounts[];
  /** The recurring tasks, by name. */
  readonly schedules: readonly ScheduleRecord[];
  /** The kinds with limits across the fleet, and what each holds back now. */
  readonly limits: readonly KindLimitState[];
}

/**
 * Reads the store once: counts, throughput over the last `intervalS` seconds, and the managers:
 * every process that holds leases or reported itself in the last MANAGER_STALE_MS.
 */
export async function readStore(store: TaskStoreDriver, intervalS: number): Promise<StoreReading> {
  const [stats, succeeded, holders, reports, kinds, schedules, limits, storeNow] = await Promise.all([
    store.stats(),
    store.succeededWithin(intervalS * 1000),
    store.leaseHolders(),
    store.managers(),
    store.countsByKind(),
    store.schedules(),
    store.kindLimits(),
    store.now(),
  ]);
  const now = Date.now();
  // staleness by the store's clock, as the dashboard judges it (the reports are stamped by it)
  const fresh = new Map(
    reports.filter((r) => storeNow - r.heartbeatAt <= MANAGER_STALE_MS).map((r) => [r.owner, r]),
  );
  const owners = [...new Set([...holders.map((h) => h.owner), ...fresh.keys()])].sort();
  const managers = owners.map((owner): ManagerReading => {
    const lease = holders.find((h) => h.owner === owner);
    const report = fresh.get(owner);
    return {
      owner,
      leased: lease?.running ?? 0,
      leaseExpiresAt: lease?.leaseExpiresAt ?? null,
      executing: report ? Math.min(report.info.executing, lease?.running ?? 0) : null,
      threads: report?.info.threads ?? null,
      slots: report?.info.slots ?? null,
      heartbeatAt: report?.heartbeatAt ?? null,
    };
  });
  const executing = managers.reduce((sum, m) => sum + (m.executing ?? 0), 0);
  return {
    ...stats,
    timestamp: new Date(now).toISOString(),
    throughputTps: succeeded / intervalS,
    executing,
    waiting: Math.max(0, stats.running - executing),
    managers,
    kinds,
    schedules,
    limits,
  };
}

export type ReadingJson = ReturnType<typeof readingJson>;

/** A reading as JSON, with the snake_case field names of the CLI's other JSON output. */
export function readingJson(r: StoreReading) {
  return {
    timestamp: r.timestamp,
    queued: r.queued,
    scheduled: r.scheduled,
    running: r.running,
    executing: r.executing,
    waiting: r.waiting,
    succeeded: r.succeeded,
    failed: r.failed,
    cancelled: r.cancelled,
    total: r.total,
    dead_letters: r.deadLetters,
    oldest_queued_age_ms: r.oldestQueuedAgeMs,
    throughput_tps: Number(r.throughputTps.toFixed(2)),
    managers: r.managers.map((m) => ({
      owner: m.owner,
      leased: m.leased,
      executing: m.executing,
      threads: m.threads,
      slots: m.slots,
      lease_expires_at: m.leaseExpiresAt === null ? null : new Date(m.leaseExpiresAt).toISOString(),
      heartbeat_at: m.heartbeatAt === null ? null : new Date(m.heartbeatAt).toISOString(),
    })),
    kinds: r.kinds,
    schedules: r.schedules.map((x) => ({
      name: x.name,
      cron: x.cron,
      timezone: x.timezone,
      kind: x.kind,
      paused: x.paused,
      next_run_at: new Date(x.nextRunAt).toISOString(),
      last_run_at: x.lastRunAt === null ? null : new Date(x.lastRunAt).toISOString(),
    })),
    limits: r.limits.map((l) => ({
      kind: l.kind,
      concurrency: l.concurrency,
      rate: l.rate,
      running: l.running,
      starts_in_window: l.startsInWindow,
      held_back: l.heldBack,
      open_again_at: l.openAgainAt === null ? null : new Date(l.openAgainAt).toISOString(),
    })),
  };
}

/** The store's state in the Prometheus text format. */
export function storePrometheus(r: StoreReading): string {
  const owner = (name: string) => `{owner="${labelValue(name)}"}`;
  const lines = [
    "# HELP taskq_store_tasks Task records by status.",
    "# TYPE taskq_store_tasks gauge",
    ...TASK_STATUSES.map((s) => `taskq_store_tasks{status="${s}"} ${r[s]}`),
    "# HELP taskq_store_kind_tasks Task records by kind and status.",
    "# TYPE taskq_store_kind_tasks gauge",
    ...r.kinds.flatMap((k) =>
      TASK_STATUSES.map((s) => `taskq_store_kind_tasks{kind="${labelValue(k.kind)}",status="${s}"} ${k[s]}`),
    ),
    "# HELP taskq_store_scheduled_tasks Queued tasks not due yet (delayed, or backing off before a retry).",
    "# TYPE taskq_store_scheduled_tasks gauge",
    `taskq_store_scheduled_tasks ${r.scheduled}`,
    "# HELP taskq_store_kind_held_back A kind's due tasks held back by its limits now (1), by reason.",
    "# TYPE taskq_store_kind_held_back gauge",
    ...r.limits.flatMap((l) =>
      (["concurrency", "rate"] as const).map(
        (why) =>
          `taskq_store_kind_held_back{kind="${labelValue(l.kind)}",reason="${why}"} ${l.heldBack === why ? 1 : 0}`,
      ),
    ),
    "# HELP taskq_store_dead_letters Dead letters not re-driven.",
    "# TYPE taskq_store_dead_letters gauge",
    `taskq_store_dead_letters ${r.deadLetters}`,
    "# HELP taskq_store_oldest_queued_age_seconds How long the longest-waiting due task has waited since it became due.",
    "# TYPE taskq_store_oldest_queued_age_seconds gauge",
    `taskq_store_oldest_queued_age_seconds ${(r.oldestQueuedAgeMs ?? 0) / 1000}`,
    "# HELP taskq_store_throughput_tasks_per_second Tasks that succeeded per second over the last interval.",
    "# TYPE taskq_store_throughput_tasks_per_second gauge",
    `taskq_store_throughput_tasks_per_second ${r.throughputTps}`,
    "# HELP taskq_store_executing_tasks Running tasks executing now, by the managers' reports.",
    "# TYPE taskq_store_executing_tasks gauge",
    `taskq_store_executing_tasks ${r.executing}`,
    "# HELP taskq_store_manager_running_tasks Running tasks leased to each manager.",
    "# TYPE taskq_store_manager_running_tasks gauge",
    ...r.managers.map((m) => `taskq_store_manager_running_tasks${owner(m.owner)} ${m.leased}`),
    "# HELP taskq_store_manager_executing_tasks Attempts each manager executes now (its latest report).",
    "# TYPE taskq_store_manager_executing_tasks gauge",
    ...r.managers.flatMap((m) =>
      m.executing === null ? [] : [`taskq_store_manager_executing_tasks${owner(m.owner)} ${m.executing}`],
    ),
  ];
  return `${lines.join("\n")}\n`;
}
