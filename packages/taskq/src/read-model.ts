// The store's read model, the one read side: what monitor, `taskq status`, `/metrics`,
// `/healthz` and the dashboard show of a store, read through the task store contract's bounded
// calls (each through an index, flat in cost at 10 million tasks) and judged by one clock, the
// store's.
import {
  COUNTED_STATUSES,
  type CountedStatus,
  type KindLimitState,
  type KindStatusCounts,
  MAX_SAMPLES,
  type ScheduleRecord,
  statusTotals,
  type TaskStoreDriver,
} from "@taskq/idempotency";
import { labelValue } from "@taskq/metrics";
import { BUILT_IN_KINDS } from "./kinds.js";
import { WORKER_STALE_MS } from "./maintenance/worker-report.js";

/**
 * How many tasks of each status a reading counts at most (each through its partial index): a
 * status that reaches it is shown as a lower bound (`capped`).
 * @default 10_000
 */
export const DEFAULT_COUNT_CAP = 10_000;
/** The window throughput is measured over, when not given. */
export const DEFAULT_WINDOW_MS = 5_000;

/**
 * A worker (a process that runs tasks): the tasks leased to it in the store, and what its latest
 * report says. Every process that reported itself or holds leases is listed, a silent one as
 * `stale`.
 */
export interface WorkerReading {
  readonly owner: string;
  /** Its first report, epoch ms by the store's clock; null when it never reported (it only holds leases). */
  readonly startedAt: number | null;
  /** Its latest report, epoch ms by the store's clock; null when it never reported. */
  readonly heartbeatAt: number | null;
  /** No report for WORKER_STALE_MS by the store's clock: it has probably stopped. */
  readonly stale: boolean;
  /** Tasks leased to it (`running` in the store): executing, or waiting in it for a slot. */
  readonly leased: number;
  /** When its latest lease runs out, epoch ms by the store's clock; null when it holds none. */
  readonly leaseExpiresAt: number | null;
  /** From its latest fresh report (null when stale): attempts executing now, its threads, slots and kinds. */
  readonly executing: number | null;
  readonly threads: number | null;
  /** Its child processes (kinds isolated in processes), from the same report: 0 without; null when stale. */
  readonly processes: number | null;
  readonly slots: number | null;
  readonly kinds: readonly string[];
  /** Its name from its latest report (the host name unless it was given one); null when it never said. */
  readonly name: string | null;
  /** What was wrong with its stored report, when something was (the sound fields are shown). */
  readonly malformed?: string;
}

/** Tasks finished over a recent window, by the store's clock. */
export interface ThroughputReading {
  /** The store's clock when read (epoch ms). */
  readonly now: number;
  readonly windowMs: number;
  /** Tasks that succeeded per second over the window. */
  readonly succeededPerSec: number;
  /** Tasks that failed for good (dead-lettered) per second over the window. */
  readonly failedPerSec: number;
  /** p95 of the run time (start to finish) of the window's latest successes, ms; null without any. */
  readonly p95RunMs: number | null;
  /** p95 of the time from due to finish of the window's latest successes, ms; null without any. */
  readonly p95TotalMs: number | null;
}

/** One look at the store: bounded counts, throughput, workers, limits and schedules. */
export interface StoreReading {
  /** The store's clock when read (epoch ms): every age and staleness below is judged by it. */
  readonly now: number;
  /** Tasks by status over every kind (`queued`: due now; `scheduled`: queued, due later). */
  readonly totals: Readonly<Record<CountedStatus, number>>;
  /** The same by kind, in code-point order (a kind with queued tasks and no worker shows here). */
  readonly byKind: readonly KindStatusCounts[];
  /** The statuses whose count reached `cap`: their numbers are lower bounds. */
  readonly capped: readonly CountedStatus[];
  readonly cap: number;
  /** About how many tasks the store holds (see StatusCounts.totalEstimate). */
  readonly totalEstimate: number;
  /** Open dead letters (at most `cap`; `deadLettersCapped` when it reached it). */
  readonly deadLetters: number;
  readonly deadLettersCapped: boolean;
  /** The longest wait of a due task since it became due, ms; null when none is due. */
  readonly oldestDueAgeMs: number | null;
  /** Of the `running` tasks: attempts executing now, by the fresh reports. */
  readonly executing: number;
  /** Of the `running` tasks: leased to a worker and waiting there for a slot (or a report). */
  readonly waiting: number;
  readonly throughput: ThroughputReading;
  readonly workers: readonly WorkerReading[];
  /**
   * The kinds with due tasks that no live worker serves (by the kinds in the fresh reports), in
   * code-point order: their tasks wait until a worker for them starts. Empty while a live worker
   * has not said which kinds it runs.
   */
  readonly unservedKinds: readonly string[];
  /** The kinds with limits across the fleet, and what each holds back now. */
  readonly limits: readonly KindLimitState[];
  /** The recurring tasks, by name. */
  readonly schedules: readonly ScheduleRecord[];
}

export interface ReadOptions {
  /**
   * Tasks counted per status at most (1 to 1,000,000).
   * @default DEFAULT_COUNT_CAP (10,000)
   */
  readonly cap?: number;
  /**
   * The throughput window, ms.
   * @default DEFAULT_WINDOW_MS (5,000)
   */
  readonly windowMs?: number;
}

/** Successes whose run times a throughput reading samples for its percentiles. */
const SAMPLE_LIMIT = 2000;

function p95(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? null;
}

/** Throughput and latency over the last `windowMs` by the store's clock (one range of two indexes). */
export async function readThroughput(
  store: TaskStoreDriver,
  windowMs: number,
  /** The store's clock when the caller read it already (readStore's counts carry it): no second round trip. */
  storeNow?: number,
): Promise<ThroughputReading> {
  const now = storeNow ?? (await store.now());
  const recent = await store.recentFinished(now - windowMs, SAMPLE_LIMIT);
  const seconds = windowMs / 1000;
  return {
    now: recent.now,
    windowMs,
    succeededPerSec: recent.succeeded / seconds,
    failedPerSec: recent.failed / seconds,
    p95RunMs: p95(recent.samples.map((s) => s.runMs)),
    p95TotalMs: p95(recent.samples.map((s) => s.totalMs)),
  };
}

/** How far back the charts' history reaches when not told: ten minutes. */
export const DEFAULT_HISTORY_MS = 600_000;
/**
 * Tasks counted per bucket of a history at most (each of successes and dead letters): a bucket
 * that reaches it is estimated from the time its first HISTORY_COUNT_CAP took.
 */
export const HISTORY_COUNT_CAP = 200;
/** Successes per bucket of a history whose times the p95s are taken over (the first of each bucket). */
export const HISTORY_SAMPLES = 20;

export interface HistoryOptions {
  /**
   * How far back, ms (a whole number of buckets, at most 1,000).
   * @default DEFAULT_HISTORY_MS (ten minutes)
   */
  readonly spanMs?: number;
  /**
   * Each reading's window, ms.
   * @default DEFAULT_WINDOW_MS (5,000: the live readings' window)
   */
  readonly bucketMs?: number;
}

/** A rate from a count up to a cap: when it reached the cap, from the time the counted ones took. */
function perSecond(count: number, until: number | null, start: number, bucketMs: number): number {
  if (until === null) return count / (bucketMs / 1000);
  return count / (Math.max(1, until - start + 1) / 1000);
}

/**
 * The throughput over the last `spanMs` from the store (finishedHistory), as readings of one
 * bucket each, oldest first: `now` is the bucket's end and `windowMs` its length, so a chart
 * draws them as it draws live readings of the same window. Bounded whatever the store's size or
 * rate: each bucket counts its successes and dead letters up to HISTORY_COUNT_CAP (a busier one
 * is estimated from the time those took) and takes its p95s over its first HISTORY_SAMPLES
 * successes.
 */
export async function readThroughputHistory(
  store: TaskStoreDriver,
  options: HistoryOptions = {},
): Promise<ThroughputReading[]> {
  const bucketMs = options.bucketMs ?? DEFAULT_WINDOW_MS;
  const buckets = Math.max(1, Math.round((options.spanMs ?? DEFAULT_HISTORY_MS) / bucketMs));
  const history = await store.finishedHistory({
    bucketMs,
    buckets,
    countCap: HISTORY_COUNT_CAP,
    sampleLimit: Math.min(HISTORY_SAMPLES, Math.floor(MAX_SAMPLES / buckets)),
  });
  return history.buckets.map((b) => ({
    now: b.start + bucketMs,
    windowMs: bucketMs,
    succeededPerSec: perSecond(b.succeeded, b.succeededUntil, b.start, bucketMs),
    failedPerSec: perSecond(b.failed, b.failedUntil, b.start, bucketMs),
    p95RunMs: p95(b.samples.map((s) => s.runMs)),
    p95TotalMs: p95(b.samples.map((s) => s.totalMs)),
  }));
}

/**
 * The workers: every process that reported itself (stale when silent for WORKER_STALE_MS by
 * the store's clock `now`) or holds leases (a process that stopped reporting shows here too).
 */
export async function readWorkers(store: TaskStoreDriver, now?: number): Promise<WorkerReading[]> {
  const [reports, holders, storeNow] = await Promise.all([
    store.workers(),
    store.leaseHolders(),
    now === undefined ? store.now() : Promise.resolve(now),
  ]);
  const reported = new Map(reports.map((r) => [r.owner, r]));
  const held = new Map(holders.map((h) => [h.owner, h]));
  const owners = [...new Set([...reported.keys(), ...held.keys()])].sort();
  return owners.map((owner): WorkerReading => {
    const lease = held.get(owner);
    const report = reported.get(owner);
    const stale = report === undefined || storeNow - report.heartbeatAt > WORKER_STALE_MS;
    const fresh = stale ? undefined : report;
    return {
      owner,
      startedAt: report?.startedAt ?? null,
      heartbeatAt: report?.heartbeatAt ?? null,
      stale,
      leased: lease?.running ?? 0,
      leaseExpiresAt: lease?.leaseExpiresAt ?? null,
      executing: fresh ? Math.min(fresh.info.executing, lease?.running ?? 0) : null,
      threads: fresh?.info.threads ?? null,
      processes: fresh ? (fresh.info.processes ?? 0) : null,
      slots: fresh?.info.slots ?? null,
      kinds: report?.info.kinds ?? [],
      name: report?.info.name ?? null,
      ...(report?.malformed === undefined ? {} : { malformed: report.malformed }),
    };
  });
}

/** How a store knows a kind (readKnownKinds). */
export type KindSource = "built-in" | "worker" | "schedule" | "limits" | "tasks";

/** A kind a store knows, and how it knows it. */
export interface KnownKind {
  readonly kind: string;
  /** In the order of KindSource: `built-in`, `worker`, `schedule`, `limits`, `tasks`. */
  readonly sources: readonly KindSource[];
}

/**
 * The kinds a store knows, in code-point order: the built-in task types (a `taskq serve` without
 * handlers runs them); the kinds the workers in its registry serve (the live ones, and one that
 * was killed until another worker's report clears it, WORKER_STALE_MS after its last; a worker
 * that closes leaves at once); the kinds of its schedules; the kinds with limits or paused (set on
 * purpose, for a kind its workers will serve); and the kinds of the tasks it holds, in any status
 * (until retention prunes them). A kind outside these is most likely mistyped: no worker runs it,
 * so its tasks would wait for ever. Four small reads: the registry, the schedules, the limits, and
 * one index probe per kind of task (`kinds()`).
 */
export async function readKnownKinds(store: TaskStoreDriver): Promise<KnownKind[]> {
  const [workers, schedules, limits, taskKinds] = await Promise.all([
    store.workers(),
    store.schedules(),
    store.kindLimits(),
    store.kinds(),
  ]);
  const sources = new Map<string, Set<KindSource>>();
  const add = (kinds: Iterable<string>, source: KindSource) => {
    for (const kind of kinds) {
      const known = sources.get(kind) ?? new Set<KindSource>();
      known.add(source);
      sources.set(kind, known);
    }
  };
  add(BUILT_IN_KINDS, "built-in");
  add(
    workers.flatMap((w) => w.info.kinds ?? []),
    "worker",
  );
  add(
    schedules.map((s) => s.kind),
    "schedule",
  );
  add(
    limits.map((l) => l.kind),
    "limits",
  );
  add(taskKinds, "tasks");
  const order: readonly KindSource[] = ["built-in", "worker", "schedule", "limits", "tasks"];
  return [...sources.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((kind) => ({ kind, sources: order.filter((s) => sources.get(kind)?.has(s)) }));
}

/** @deprecated Renamed WorkerReading (a process that runs tasks is a worker). */
export type ManagerReading = WorkerReading;
/** @deprecated Renamed readWorkers (a process that runs tasks is a worker). */
export const readManagers = readWorkers;

/** Reads the store once: bounded counts, throughput, workers, limits and schedules. */
export async function readStore(store: TaskStoreDriver, options: ReadOptions = {}): Promise<StoreReading> {
  const cap = options.cap ?? DEFAULT_COUNT_CAP;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const counts = await store.statusCounts(cap);
  const [throughput, workers, limits, schedules] = await Promise.all([
    readThroughput(store, windowMs, counts.now),
    readWorkers(store, counts.now),
    store.kindLimits(),
    store.schedules(),
  ]);
  const totals = statusTotals(counts);
  const executing = workers.reduce((sum, w) => sum + (w.executing ?? 0), 0);
  return {
    now: counts.now,
    totals,
    byKind: counts.byKind,
    capped: counts.capped,
    cap,
    totalEstimate: counts.totalEstimate,
    deadLetters: counts.deadLetters,
    deadLettersCapped: counts.deadLettersCapped,
    oldestDueAgeMs: counts.oldestDueAgeMs,
    executing,
    waiting: Math.max(0, totals.running - executing),
    throughput,
    workers,
    unservedKinds: unservedKinds(counts.byKind, workers),
    limits,
    schedules,
  };
}

/** See StoreReading.unservedKinds. */
export function unservedKinds(
  byKind: readonly KindStatusCounts[],
  workers: readonly WorkerReading[],
): string[] {
  const live = workers.filter((w) => !w.stale);
  if (live.some((w) => w.kinds.length === 0)) return [];
  const served = new Set(live.flatMap((w) => w.kinds));
  return byKind.filter((k) => k.queued > 0 && !served.has(k.kind)).map((k) => k.kind);
}

export type ReadingJson = ReturnType<typeof readingJson>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A reading as JSON, with the snake_case field names of the CLI's other JSON output. */
export function readingJson(r: StoreReading) {
  return {
    timestamp: new Date(r.now).toISOString(),
    ...Object.fromEntries(COUNTED_STATUSES.map((s) => [s, r.totals[s]])),
    capped: r.capped,
    cap: r.cap,
    executing: r.executing,
    waiting: r.waiting,
    total_estimate: r.totalEstimate,
    dead_letters: r.deadLetters,
    dead_letters_capped: r.deadLettersCapped,
    oldest_due_age_ms: r.oldestDueAgeMs,
    throughput_tps: Number(r.throughput.succeededPerSec.toFixed(2)),
    failed_per_sec: Number(r.throughput.failedPerSec.toFixed(2)),
    window_ms: r.throughput.windowMs,
    workers: r.workers.map((w) => ({
      owner: w.owner,
      name: w.name,
      stale: w.stale,
      leased: w.leased,
      executing: w.executing,
      threads: w.threads,
      processes: w.processes,
      slots: w.slots,
      kinds: w.kinds,
      lease_expires_at: iso(w.leaseExpiresAt),
      heartbeat_at: iso(w.heartbeatAt),
      started_at: iso(w.startedAt),
    })),
    kinds: r.byKind,
    schedules: r.schedules.map((x) => ({
      name: x.name,
      cron: x.cron,
      timezone: x.timezone,
      kind: x.kind,
      paused: x.paused,
      next_run_at: new Date(x.nextRunAt).toISOString(),
      last_run_at: iso(x.lastRunAt),
    })),
    limits: r.limits.map((l) => ({
      kind: l.kind,
      concurrency: l.concurrency,
      rate: l.rate,
      running: l.running,
      starts_in_window: l.startsInWindow,
      paused: l.paused,
      paused_at: iso(l.pausedAt),
      held_back: l.heldBack,
      open_again_at: iso(l.openAgainAt),
      breaker:
        l.breaker === null
          ? null
          : {
              state: l.breaker.state,
              failures: l.breaker.failures,
              window_ms: l.breaker.windowMs,
              cooldown_ms: l.breaker.cooldownMs,
              count_errors: l.breaker.countErrors,
              ratio: l.breaker.ratio,
              min_attempts: l.breaker.minAttempts,
              failures_in_window: l.breaker.failuresInWindow,
              attempts_in_window: l.breaker.attemptsInWindow,
              opened_at: iso(l.breaker.openedAt),
              half_open_at: iso(l.breaker.halfOpenAt),
              probe_seq: l.breaker.probeSeq,
            },
    })),
  };
}

/** The store's state in the Prometheus text format. */
export function storePrometheus(r: StoreReading): string {
  const owner = (name: string) => `{owner="${labelValue(name)}"}`;
  const lines = [
    `# HELP taskq_store_tasks Tasks by status (queued: due now; scheduled: due later), counted up to ${r.cap} each.`,
    "# TYPE taskq_store_tasks gauge",
    ...COUNTED_STATUSES.map((s) => `taskq_store_tasks{status="${s}"} ${r.totals[s]}`),
    "# HELP taskq_store_tasks_capped A status whose count reached the cap (1): its figures are lower bounds.",
    "# TYPE taskq_store_tasks_capped gauge",
    ...COUNTED_STATUSES.map((s) => `taskq_store_tasks_capped{status="${s}"} ${r.capped.includes(s) ? 1 : 0}`),
    "# HELP taskq_store_kind_tasks Tasks by kind and status, counted as taskq_store_tasks.",
    "# TYPE taskq_store_kind_tasks gauge",
    ...r.byKind.flatMap((k) =>
      COUNTED_STATUSES.map(
        (s) => `taskq_store_kind_tasks{kind="${labelValue(k.kind)}",status="${s}"} ${k[s]}`,
      ),
    ),
    "# HELP taskq_store_scheduled_tasks Queued tasks not due yet (delayed, or backing off before a retry).",
    "# TYPE taskq_store_scheduled_tasks gauge",
    `taskq_store_scheduled_tasks ${r.totals.scheduled}`,
    "# HELP taskq_store_kind_paused A kind paused across the fleet (1): no worker starts its tasks until it is resumed.",
    "# TYPE taskq_store_kind_paused gauge",
    ...r.limits.map((l) => `taskq_store_kind_paused{kind="${labelValue(l.kind)}"} ${l.paused ? 1 : 0}`),
    "# HELP taskq_store_breaker_state A kind's circuit breaker in this state now (1): closed, open (its tasks wait) or half-open (one probe runs).",
    "# TYPE taskq_store_breaker_state gauge",
    ...r.limits.flatMap((l) =>
      l.breaker === null
        ? []
        : (["closed", "open", "half-open"] as const).map(
            (state) =>
              `taskq_store_breaker_state{kind="${labelValue(l.kind)}",state="${state}"} ${l.breaker?.state === state ? 1 : 0}`,
          ),
    ),
    "# HELP taskq_store_kind_held_back A kind's due tasks held back by its limits, a pause or its breaker now (1), by reason.",
    "# TYPE taskq_store_kind_held_back gauge",
    ...r.limits.flatMap((l) =>
      (["paused", "concurrency", "breaker", "rate"] as const).map(
        (why) =>
          `taskq_store_kind_held_back{kind="${labelValue(l.kind)}",reason="${why}"} ${l.heldBack === why ? 1 : 0}`,
      ),
    ),
    "# HELP taskq_store_dead_letters Dead letters not re-driven, counted up to the cap.",
    "# TYPE taskq_store_dead_letters gauge",
    `taskq_store_dead_letters ${r.deadLetters}`,
    "# HELP taskq_store_oldest_queued_age_seconds How long the longest-waiting due task has waited since it became due.",
    "# TYPE taskq_store_oldest_queued_age_seconds gauge",
    `taskq_store_oldest_queued_age_seconds ${(r.oldestDueAgeMs ?? 0) / 1000}`,
    `# HELP taskq_store_throughput_tasks_per_second Tasks that succeeded per second over the last ${r.throughput.windowMs / 1000} s.`,
    "# TYPE taskq_store_throughput_tasks_per_second gauge",
    `taskq_store_throughput_tasks_per_second ${r.throughput.succeededPerSec}`,
    "# HELP taskq_store_executing_tasks Running tasks executing now, by the workers' reports.",
    "# TYPE taskq_store_executing_tasks gauge",
    `taskq_store_executing_tasks ${r.executing}`,
    "# HELP taskq_store_worker_running_tasks Running tasks leased to each worker.",
    "# TYPE taskq_store_worker_running_tasks gauge",
    ...r.workers.map((w) => `taskq_store_worker_running_tasks${owner(w.owner)} ${w.leased}`),
    "# HELP taskq_store_worker_executing_tasks Attempts each worker executes now (its latest report).",
    "# TYPE taskq_store_worker_executing_tasks gauge",
    ...r.workers.flatMap((w) =>
      w.executing === null ? [] : [`taskq_store_worker_executing_tasks${owner(w.owner)} ${w.executing}`],
    ),
  ];
  return `${lines.join("\n")}\n`;
}
