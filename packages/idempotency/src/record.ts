import { FLOW_WAITING_AT } from "./flows.js";
import type {
  AttemptRecord,
  ClaimResult,
  CountedStatus,
  DeadLetter,
  FinishedBucket,
  FinishedSample,
  KindStatusCounts,
  ScheduleRecord,
  StatusCounts,
  TaskRecord,
  TaskStatus,
  WorkerInfo,
  WorkerRecord,
} from "./types.js";
import { COUNTED_STATUSES } from "./types.js";

/** A `tasks` row as both drivers read it (PostgreSQL's bigints parsed to numbers). */
export interface Row {
  seq: number;
  id: string;
  idempotency_key: string;
  kind: string;
  payload: string;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  next_run_at: number;
  priority: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  output_key: string | null;
  etag: string | null;
  result: string | null;
  error_class: string | null;
  error_message: string | null;
  version: number;
  cancel_requested_at: number | null;
  /** A JSON array, or null without tags (migration 012). */
  tags: string | null;
  /** Null without one (migration 017). */
  correlation_id?: string | null;
  /** JSON, or null (migration 017). */
  trace_context?: string | null;
  /** JSON, or null (migration 020). */
  progress?: string | null;
  /** Parents not finished, null without parents (migration 018). */
  waiting_for?: number | null;
  /** 1/true once a task runs after it, else null (migration 018). */
  has_children?: number | boolean | null;
  /** Null without one (migration 019). */
  group_key?: string | null;
}

/**
 * The answer to a claim that inserted its task: version 0, and the status and attempts the insert
 * gave it (running with its first attempt counted when claimed with `start`). Both drivers answer
 * from what they inserted instead of reading the row back.
 */
export function createdClaim(seq: number, start: boolean): ClaimResult {
  return start
    ? { created: true, seq, version: 0, status: "running", attempts: 1 }
    : { created: true, seq, version: 0, status: "queued", attempts: 0 };
}

/** A `dead_letters` row. */
export interface DeadLetterRow {
  seq: number;
  task_seq: number | null;
  task_id: string;
  idempotency_key: string | null;
  payload: string | null;
  error_class: string;
  error_message: string;
  attempts: number;
  failed_at: number;
  redriven_at: number | null;
  /** Its task's kind, read by the page through task_seq (null: an invalid task). */
  kind: string | null;
}

export function toRecord(row: Row): TaskRecord {
  return {
    seq: row.seq,
    id: row.id,
    idempotencyKey: row.idempotency_key,
    kind: row.kind,
    payload: JSON.parse(row.payload),
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    // SQLite files a child waiting for its parents at FLOW_WAITING_AT: shown as PostgreSQL keeps
    // it, its enqueue time (also once cancelled while waiting)
    nextRunAt: row.next_run_at >= FLOW_WAITING_AT ? row.created_at : row.next_run_at,
    priority: row.priority,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    outputKey: row.output_key,
    etag: row.etag,
    result: row.result,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    version: row.version,
    cancelRequestedAt: row.cancel_requested_at ?? null,
    tags: row.tags == null ? NO_TAGS : JSON.parse(row.tags),
    correlationId: row.correlation_id ?? null,
    traceContext: row.trace_context == null ? null : JSON.parse(row.trace_context),
    progress: row.progress == null ? null : JSON.parse(row.progress),
    waitingFor: row.waiting_for ?? null,
    hasChildren: row.has_children === true || row.has_children === 1,
    group: row.group_key ?? null,
  };
}

/** The tags of a task without any (shared: nothing changes it). */
const NO_TAGS: readonly string[] = Object.freeze([]);

export function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    seq: r.seq,
    taskSeq: r.task_seq,
    taskId: r.task_id,
    idempotencyKey: r.idempotency_key,
    payload: r.payload === null ? null : JSON.parse(r.payload),
    errorClass: r.error_class,
    errorMessage: r.error_message,
    attempts: r.attempts,
    failedAt: r.failed_at,
    redrivenAt: r.redriven_at,
    kind: r.kind,
  };
}

/** A `task_attempts` row. */
export interface AttemptRow {
  seq: number;
  task_seq: number;
  attempt: number;
  started_at: number | null;
  finished_at: number;
  outcome: AttemptRecord["outcome"];
  error_class: string | null;
  error_message: string | null;
  error_stack: string | null;
  worker: string | null;
}

export function toAttempt(r: AttemptRow): AttemptRecord {
  return {
    seq: Number(r.seq),
    taskSeq: Number(r.task_seq),
    attempt: r.attempt,
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: Number(r.finished_at),
    outcome: r.outcome,
    errorClass: r.error_class,
    errorMessage: r.error_message,
    errorStack: r.error_stack,
    worker: r.worker,
  };
}

/** A `managers` row: the table holds the workers' reports (named before they were called workers). */
export interface WorkerRow {
  owner: string;
  started_at: number;
  heartbeat_at: number;
  info: string;
}

/**
 * A worker's row, read whatever its report holds: a report that is not a JSON object, or a field
 * of the wrong type (`kinds` not a list of strings, a count not a number of 0 or more), is read
 * as far as it is sound (a bad count as 0, bad kinds or name as unsaid) and the record says what
 * was wrong (`malformed`). One such row never fails the whole list.
 */
export function toWorker(r: WorkerRow): WorkerRecord {
  const row = { owner: r.owner, startedAt: r.started_at, heartbeatAt: r.heartbeat_at };
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.info);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return {
      ...row,
      info: { threads: 0, slots: 0, executing: 0, leased: 0 },
      malformed: "its report is not a JSON object",
    };
  const report = parsed as Record<string, unknown>;
  const wrong: string[] = [];
  const count = (field: "threads" | "slots" | "executing" | "leased"): number => {
    const value = report[field];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
    wrong.push(`${field} is not a number of 0 or more`);
    return 0;
  };
  const info: { -readonly [K in keyof WorkerInfo]: WorkerInfo[K] } = {
    threads: count("threads"),
    slots: count("slots"),
    executing: count("executing"),
    leased: count("leased"),
  };
  const { kinds, name, processes } = report;
  if (typeof processes === "number" && Number.isFinite(processes) && processes >= 0) {
    if (processes > 0) info.processes = processes;
  } else if (processes !== undefined) wrong.push("processes is not a number of 0 or more");
  if (Array.isArray(kinds) && kinds.every((k) => typeof k === "string")) info.kinds = kinds;
  else if (kinds !== undefined) wrong.push("kinds is not a list of strings");
  if (typeof name === "string") info.name = name;
  else if (name !== undefined) wrong.push("name is not a string");
  return { ...row, info, ...(wrong.length === 0 ? {} : { malformed: wrong.join("; ") }) };
}

/** A worker's report as stored: its known fields only, as JSON text. */
export function workerInfoJson(info: WorkerInfo): string {
  const { threads, processes, slots, executing, leased, kinds, name } = info;
  return JSON.stringify({
    threads,
    ...(processes ? { processes } : {}),
    slots,
    executing,
    leased,
    ...(kinds === undefined ? {} : { kinds }),
    ...(name === undefined ? {} : { name: String(name).slice(0, 100) }),
  });
}

/** A `schedules` row (SQLite's `paused` is 0/1). */
export interface ScheduleRow {
  name: string;
  cron: string;
  timezone: string | null;
  kind: string;
  payload: string;
  options: string;
  paused: boolean | number;
  next_run_at: number;
  last_run_at: number | null;
  created_at: number;
  updated_at: number;
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    kind: row.kind,
    payload: JSON.parse(row.payload),
    options: JSON.parse(row.options),
    paused: row.paused === true || row.paused === 1,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A bounded count of one kind in one status, as both drivers read them (statusCounts). */
export interface StatusCountRow {
  status: CountedStatus;
  kind: string;
  n: number;
}

/**
 * statusCounts' answer from its rows: by kind (code-point order, whatever the database's
 * collation), and the statuses whose rows add up to `cap` (their bounded read hit it).
 */
export function toStatusCounts(
  cap: number,
  rows: readonly StatusCountRow[],
  read: {
    readonly now: number;
    readonly totalEstimate: number;
    readonly deadLetters: number;
    /** The earliest run time of a due queued task, or null. */
    readonly oldestDue: number | null;
  },
): StatusCounts {
  const kinds = new Map<string, Record<CountedStatus, number>>();
  const totals = Object.fromEntries(COUNTED_STATUSES.map((s) => [s, 0])) as Record<CountedStatus, number>;
  for (const row of rows) {
    if (row.n <= 0) continue;
    let counts = kinds.get(row.kind);
    if (!counts) {
      counts = Object.fromEntries(COUNTED_STATUSES.map((s) => [s, 0])) as Record<CountedStatus, number>;
      kinds.set(row.kind, counts);
    }
    counts[row.status] += row.n;
    totals[row.status] += row.n;
  }
  const byKind: KindStatusCounts[] = [...kinds.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([kind, c]) => ({ kind, ...c }));
  return {
    now: read.now,
    byKind,
    capped: COUNTED_STATUSES.filter((s) => totals[s] >= cap),
    // an estimate (PostgreSQL's planner statistics, stale before an ANALYZE) is never shown below
    // the tasks just counted
    totalEstimate: Math.max(
      Math.round(read.totalEstimate),
      COUNTED_STATUSES.reduce((sum, s) => sum + totals[s], 0),
    ),
    deadLetters: read.deadLetters,
    deadLettersCapped: read.deadLetters >= cap,
    oldestDueAgeMs: read.oldestDue === null ? null : Math.max(0, read.now - read.oldestDue),
  };
}

/** A succeeded task's times, as recentFinished reads them. */
export interface FinishedRow {
  created_at: number;
  started_at: number | null;
  finished_at: number;
  next_run_at: number;
  attempts: number;
}

/** See FinishedSample: a task that ran once was due at max(created, next run); one retried, at creation. */
export function toFinishedSample(r: FinishedRow): FinishedSample {
  const due = r.attempts <= 1 ? Math.max(r.created_at, r.next_run_at) : r.created_at;
  return {
    runMs: Math.max(0, r.finished_at - (r.started_at ?? r.created_at)),
    totalMs: Math.max(0, r.finished_at - due),
  };
}

/** A bucket of finishedHistory as both drivers read it (its samples as finished rows). */
export interface FinishedBucketRow {
  start: number;
  succeeded: number;
  succeeded_last: number | null;
  failed: number;
  failed_last: number | null;
  samples: readonly FinishedRow[];
}

/** A bucket, its last counted times kept only when its count reached the cap. */
export function toFinishedBucket(r: FinishedBucketRow, countCap: number): FinishedBucket {
  return {
    start: Number(r.start),
    succeeded: r.succeeded,
    succeededUntil: r.succeeded >= countCap ? Number(r.succeeded_last) : null,
    failed: r.failed,
    failedUntil: r.failed >= countCap ? Number(r.failed_last) : null,
    samples: r.samples.map(toFinishedSample),
  };
}
