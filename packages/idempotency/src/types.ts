import type { LinkedTask } from "./flows.js";
/** Every status of a task record, in the order of its life. */
export const TASK_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
/** Status of a task record. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** What `claim` and `enqueue` store for a task. */
export interface ClaimInput {
  readonly id: string;
  /**
   * Unique within the task's kind: the same key under two kinds is two tasks.
   */
  readonly idempotencyKey: string;
  /**
   * The task's kind: which handler runs it. A short plain identifier
   * (`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`).
   */
  readonly kind: string;
  /** Any JSON-serialisable value (the task as submitted). */
  readonly payload: unknown;
  /**
   * Attempts before the task is dead-lettered.
   * @default the store's maxAttempts (3)
   */
  readonly maxAttempts?: number;
  /**
   * Insert the task as `running`, leased to this store's owner, with its first attempt counted:
   * for a caller that runs it at once (one statement instead of claim + start). A key that
   * exists is answered as without it.
   * @default false
   */
  readonly start?: boolean;
  /**
   * Larger runs first among the ready tasks of the kinds a worker serves; negative allowed. A
   * point is worth PRIORITY_AGING_MS (one hour) of waiting: a task that has waited that much
   * longer than one a point above it goes first, so no stream of higher priorities starves it.
   * @default 0
   */
  readonly priority?: number;
  /** Run no earlier than this time (epoch ms). Not with `delayMs` or `start`. @default now */
  readonly runAt?: number;
  /**
   * Run no earlier than this many ms from now, by the store's clock (the database's on
   * PostgreSQL). Not with `runAt` or `start`.
   * @default 0
   */
  readonly delayMs?: number;
  /**
   * Labels to find the task by (`listTasks({ tag })`), e.g. `["tenant:42", "import"]`: at most
   * MAX_TAGS (16), each 1 to 100 printable characters; a tag given twice is kept once.
   * @default []
   */
  readonly tags?: readonly string[];
  /**
   * The caller's id of what caused this task (a web request's id, say): 1 to 200 printable ASCII
   * characters without spaces. Stored with the task, on every log line of its attempts, and a
   * filter of listTasks. Not part of the key: a duplicate keeps the first task's.
   * @default none
   */
  readonly correlationId?: string;
  /**
   * Its group (a tenant, a customer, an account): 1 to 100 printable characters. In a kind with
   * per-group limits (`KindLimits.perGroup`) takes rotate between the groups with due tasks and
   * cap each group's running tasks; elsewhere it is a label, shown and filtered on. Not part of
   * the key: a duplicate keeps the first task's.
   * @default none
   */
  readonly group?: string;
  /**
   * The W3C trace context of the span that enqueued the task (`traceparent`, and `tracestate` if
   * any), as OpenTelemetry's propagator writes it: each attempt's span is its child. The client
   * fills it in when OpenTelemetry is loaded and a span is active.
   * @default none
   */
  readonly traceContext?: TraceCarrier;
}

/** A W3C trace context as carried between processes (the `traceparent` and `tracestate` headers). */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** One row of `tasks`, camel-cased; `payload` parsed. */
export interface TaskRecord {
  readonly seq: number;
  readonly id: string;
  readonly idempotencyKey: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly nextRunAt: number;
  /** Larger runs first (see ClaimInput.priority). */
  readonly priority: number;
  /**
   * The id of a worker (`host:pid:nonce` unless its store was given one). Running: the worker
   * that holds the lease. Finished (succeeded, failed, cancelled): the worker that ran its last
   * attempt. Queued: null.
   */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly outputKey: string | null;
  readonly etag: string | null;
  readonly result: string | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly version: number;
  /** When a cancel was requested while the task ran (epoch ms), else null. */
  readonly cancelRequestedAt: number | null;
  /** Its tags, as enqueued (empty without any). */
  readonly tags: readonly string[];
  /** Its correlation id, as enqueued, or null without one. */
  readonly correlationId: string | null;
  /** Its group, as enqueued, or null without one. */
  readonly group: string | null;
  /** The W3C trace context it was enqueued in, or null (none given, or no OpenTelemetry). */
  readonly traceContext: TraceCarrier | null;
  /**
   * The last progress its handler reported (`ctx.progress(value)`, any attempt; a JSON value),
   * or null when it never did.
   */
  readonly progress: unknown;
  /**
   * Its parents not finished yet (issue 35): null for a task enqueued without `after`, 0 once
   * every parent is done (it was released), n while it waits (queued, never taken).
   */
  readonly waitingFor: number | null;
  /** Whether some task runs after it. */
  readonly hasChildren: boolean;
  /**
   * Its parents and their results, only on the records `takeNext` gives for tasks that have
   * parents (what the handler reads as `ctx.parents`); read them otherwise with `taskLinks`.
   */
  readonly parents?: readonly LinkedTask[];
}

/**
 * What `cancel` did: `cancelled` (the task was queued and is now cancelled, never taken again),
 * `requested` (it runs: its worker will end it), `finished` (it had already succeeded, failed or
 * been cancelled: left alone; the caller turns this into a clear error). `record` is the task after.
 */
export interface CancelOutcome {
  readonly outcome: "cancelled" | "requested" | "finished";
  readonly record: TaskRecord;
}

/**
 * The answer of `claim`: a new task (`created`), or the record that already holds the key —
 * its status says whether it succeeded (serve its output), is queued or running, or failed.
 */
export type ClaimResult =
  | {
      readonly created: true;
      readonly seq: number;
      readonly version: number;
      /** `running` when claimed with `start`. */
      readonly status: "queued" | "running";
      /** Attempts counted so far: 1 when claimed with `start`, else 0. */
      readonly attempts: number;
    }
  | { readonly created: false; readonly record: TaskRecord };

/** The version a transition leaves, to pass to the next one. */
export interface Started {
  readonly seq: number;
  readonly version: number;
  readonly attempts: number;
}

/** What a successful task produced. */
export interface TaskResultData {
  readonly outputKey?: string | null;
  readonly etag?: string | null;
  readonly result?: string | null;
}

/** A classified failure. */
export interface TaskFailure {
  readonly errorClass: string;
  readonly message: string;
  /**
   * Whether the failure was one that would be retried (a kind's breaker counts these by default).
   * @default true for retry, false for fail
   */
  readonly retryable?: boolean;
  /** The error's stack, when it had one: kept with the attempt (at most MAX_STACK characters). */
  readonly stack?: string | null;
}

/**
 * An attempt of a task that ended other than in success (`attempts(taskSeq)`): retried, failed
 * (dead-lettered), released (its worker closed before it finished), cancelled while it ran, or
 * lost (its worker stopped without finishing it). A success is the task row's own.
 */
export interface AttemptRecord {
  /** Orders a task's attempts (their numbers start again after a re-drive). */
  readonly seq: number;
  readonly taskSeq: number;
  /** Its number, from 1 (the task's `attempts` when it started). */
  readonly attempt: number;
  /** Epoch ms by the store's clock; null when unknown (a store made before issue 36). */
  readonly startedAt: number | null;
  readonly finishedAt: number;
  readonly outcome: "retried" | "failed" | "released" | "cancelled" | "lost";
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly errorStack: string | null;
  /** The worker (lease owner) that ran it. */
  readonly worker: string | null;
}

/** One row of `dead_letters`. */
export interface DeadLetter {
  readonly seq: number;
  readonly taskSeq: number | null;
  readonly taskId: string;
  readonly idempotencyKey: string | null;
  readonly payload: unknown;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly attempts: number;
  readonly failedAt: number;
  readonly redrivenAt: number | null;
  /** Its task's kind (through `taskSeq`); null for an invalid task, never stored as one. */
  readonly kind: string | null;
}

/**
 * Counts by status, every queued task in `queued` (what the store's `stats()` answered until issue
 * 31 removed it; the test model, test/model.ts, still counts in it). A store's counts now come from
 * statusCounts, summed by statusTotals (read-all.ts): there `queued` is the due ones only.
 */
export interface StoreStats {
  readonly queued: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Counted through its partial index, as the others. */
  readonly cancelled: number;
  /** Of the queued: not due yet (delayed, or backing off before a retry). */
  readonly scheduled: number;
  readonly total: number;
  /** Dead letters not re-driven yet. */
  readonly deadLetters: number;
  /** How long the longest-waiting due task has waited since it became due, ms; null when none is due. */
  readonly oldestQueuedAgeMs: number | null;
}

/** What a worker (one process running tasks) reports about itself, for monitoring. */
export interface WorkerInfo {
  /** Threads it runs handlers on. */
  readonly threads: number;
  /**
   * Child processes it runs handlers in (kinds isolated in processes, each process started when
   * first needed); stored only when it has any. @default 0
   */
  readonly processes?: number;
  /** Tasks it may run at once. */
  readonly slots: number;
  /** Tasks running now. */
  readonly executing: number;
  /** Tasks leased to it in the store. */
  readonly leased: number;
  /** Task kinds it runs, when it says. */
  readonly kinds?: readonly string[];
  /** Its name, for people (`createWorker({ name })`, `serve --name`; the host name by default). */
  readonly name?: string;
}

/** One row of the workers registry (the `managers` table). */
export interface WorkerRecord {
  readonly owner: string;
  /** Its first report, epoch ms by the store's clock. */
  readonly startedAt: number;
  /** Its latest report, epoch ms by the store's clock: the caller decides what is stale. */
  readonly heartbeatAt: number;
  readonly info: WorkerInfo;
  /** What was wrong with the stored report, when something was (its sound fields are in `info`). */
  readonly malformed?: string;
}

/** @deprecated Renamed WorkerInfo (a process that runs tasks is a worker). */
export type ManagerInfo = WorkerInfo;
/** @deprecated Renamed WorkerRecord (a process that runs tasks is a worker). */
export type ManagerRecord = WorkerRecord;

/** What a recurring task's occurrences are enqueued with (beside kind and payload). */
export interface ScheduleTaskOptions {
  /** @default 0 */
  readonly priority?: number;
  /** @default the store's attempts */
  readonly maxAttempts?: number;
}

/** A schedule as putSchedule stores it: the caller computed `nextRunAt` from the cron expression. */
export interface ScheduleInput {
  /** Unique per store; a short plain identifier, as a kind. */
  readonly name: string;
  readonly cron: string;
  /** An IANA time zone, or null for UTC. */
  readonly timezone: string | null;
  readonly kind: string;
  readonly payload: unknown;
  readonly options: ScheduleTaskOptions;
  /** The next occurrence to enqueue (epoch ms): the first, when put. */
  readonly nextRunAt: number;
}

/** One row of `schedules`: what was put, and its state. */
export interface ScheduleRecord extends ScheduleInput {
  readonly paused: boolean;
  /** The last occurrence enqueued (epoch ms), or null. */
  readonly lastRunAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * An occurrence to fire: the schedule advances from `expected` to `nextRunAt` (compare-and-set)
 * and, only if it did, `task` is enqueued (due at `firedAt`, the occurrence's time).
 */
export interface ScheduleFiring {
  readonly name: string;
  /** The nextRunAt the caller read: the firing happens only if the schedule still has it. */
  readonly expected: number;
  /** The occurrence fired (epoch ms): the task is due then. */
  readonly firedAt: number;
  readonly nextRunAt: number;
  readonly task: ClaimInput;
}

/** At most `limit` starts per `intervalMs` (a fixed window). */
export interface RateLimit {
  readonly limit: number;
  readonly intervalMs: number;
}

/** The limits of a kind across every worker on the store. */
export interface KindLimits {
  /** At most this many tasks of the kind running at once, in all workers together. */
  readonly concurrency?: number;
  /** At most `limit` tasks of the kind started per `intervalMs` (a fixed window). */
  readonly rate?: RateLimit;
  /**
   * Per group (`ClaimInput.group`): at most `concurrency` running tasks of each group of the kind,
   * in all workers together. Makes the kind grouped: its takes rotate between its groups with due
   * tasks (docs/architecture.md §5.3).
   * @default none (the kind is not grouped)
   */
  readonly perGroup?: PerGroupLimits;
}

/** Limits of each group of a grouped kind. */
export interface PerGroupLimits {
  /** At most this many running tasks of one group at once, in all workers together. */
  readonly concurrency: number;
}

/** Options of a take. */
export interface TakeOptions {
  /**
   * At most this many of each kind named (a worker's own per-kind limit, what it may still
   * start of each); the kinds' limits in the store apply too. @default none
   */
  readonly perKind?: Readonly<Record<string, number>>;
}

/**
 * A status as statusCounts counts it: `queued` is a due queued task, `scheduled` a queued one due
 * later; the others are the task's status.
 */
export const COUNTED_STATUSES = [
  "queued",
  "scheduled",
  "running",
  "succeeded",
  "failed",
  "cancelled",
] as const;
export type CountedStatus = (typeof COUNTED_STATUSES)[number];

/** One kind's bounded counts by status (statusCounts). */
export interface KindStatusCounts {
  readonly kind: string;
  readonly queued: number;
  readonly scheduled: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
}

/** Bounded counts for an overview (statusCounts): each read through an index, none over every task. */
export interface StatusCounts {
  /** The store's clock when counted (epoch ms). */
  readonly now: number;
  /**
   * Per kind, by status: `queued` counts due tasks only, `scheduled` queued tasks due later. Each
   * status is counted over at most `cap` rows (through its partial index); a status in `capped`
   * hit that bound, so its numbers are lower bounds. Kinds in code-point order (the same on both
   * drivers), only kinds with some count.
   */
  readonly byKind: readonly KindStatusCounts[];
  /** The statuses whose count reached `cap` (lower bounds), in the order of CountedStatus. */
  readonly capped: readonly CountedStatus[];
  /**
   * About how many tasks the store holds: PostgreSQL's planner estimate (pg_class.reltuples, kept
   * by autovacuum/ANALYZE; when it is -1, never analysed, the seq range), SQLite: max(seq) -
   * min(seq) + 1 (two index probes; an upper bound once retention deleted tasks). 0 when empty.
   */
  readonly totalEstimate: number;
  /** Open dead letters, counted over at most `cap` rows. */
  readonly deadLetters: number;
  /** The open dead letters reached `cap`: `deadLetters` is a lower bound. */
  readonly deadLettersCapped: boolean;
  /**
   * The longest wait of a due queued task (ms), null when none is due (same meaning as
   * StoreStats.oldestQueuedAgeMs).
   */
  readonly oldestDueAgeMs: number | null;
}

/** One recent success (recentFinished): how long it ran, and how long it took from when it was due. */
export interface FinishedSample {
  /** finishedAt - startedAt (its last attempt's run), ms; from createdAt for a task stored without a start time. */
  readonly runMs: number;
  /**
   * From when it became due to its finish, ms: finishedAt - max(createdAt, nextRunAt) for a task
   * that ran once (nextRunAt is then the time it was due at: its runAt or delay, or its re-drive);
   * for one retried, finishedAt - createdAt (a retry moved nextRunAt; its first run time is not
   * kept).
   */
  readonly totalMs: number;
}

/** Throughput and latency since a time (recentFinished). */
export interface RecentFinished {
  /** The store's clock when read (epoch ms). */
  readonly now: number;
  /** Tasks that succeeded at or after sinceMs (epoch ms, store clock), through tasks_succeeded. */
  readonly succeeded: number;
  /**
   * Dead letters written at or after sinceMs (tasks that failed for good, and invalid tasks
   * recorded), through dead_letters_failed.
   */
  readonly failed: number;
  /** The latest up to sampleLimit successes since sinceMs, newest first. */
  readonly samples: readonly FinishedSample[];
}

/** A page of tasks (listTasks): newest first, by seq. */
export interface TaskListQuery {
  /** Only tasks with this status. */
  readonly status?: TaskStatus;
  /** Only tasks of this kind. */
  readonly kind?: string;
  /** Only tasks carrying this tag (read through the task_tags index, newest first). */
  readonly tag?: string;
  /** Only tasks of this correlation id (read through the tasks_correlation index, newest first). */
  readonly correlationId?: string;
  /** Only tasks of this group (read through the tasks_group index, newest first). */
  readonly group?: string;
  /** Keyset: only tasks with a seq below this (the last seq of the previous page). */
  readonly beforeSeq?: number;
  /** 1 to 500. */
  readonly limit: number;
}

/** A page of dead letters (listDeadLetters): newest first, by dead letter seq. */
export interface DeadLetterListQuery {
  /** Keyset: only dead letters with a seq below this (the last seq of the previous page). */
  readonly beforeSeq?: number;
  /** 1 to 500. */
  readonly limit: number;
  /** Re-driven ones too. @default false */
  readonly includeRedriven?: boolean;
  /**
   * Only the dead letters of this kind's tasks: the dead letters walked newest first, each task's
   * kind read by its seq, until the page fills (at worst every dead letter below `beforeSeq`).
   */
  readonly kind?: string;
}

/** The finished tasks over recent spans of time (finishedHistory), for charts. */
export interface FinishedHistoryQuery {
  /** Each bucket's length, ms: 100 to 3,600,000. */
  readonly bucketMs: number;
  /** How many buckets, the last ending at the store's clock: 1 to 1,000. */
  readonly buckets: number;
  /**
   * The successes and the dead letters of a bucket are each counted up to this many (1 to
   * 100,000): a bucket that reaches it says when its last counted one finished, to estimate from.
   */
  readonly countCap: number;
  /** The first successes of each bucket sampled for their times: 0 to 1,000, and at most MAX_SAMPLES over all buckets. */
  readonly sampleLimit: number;
}

/** One span of finishedHistory: [start, start + bucketMs) by the store's clock. */
export interface FinishedBucket {
  /** Epoch ms, the store's clock. */
  readonly start: number;
  /** Tasks that succeeded in it (counted up to countCap). */
  readonly succeeded: number;
  /** When succeeded reached countCap: the finish time of the last one counted (else null: exact). */
  readonly succeededUntil: number | null;
  /** Dead letters written in it (counted up to countCap). */
  readonly failed: number;
  /** When failed reached countCap: the time of the last one counted (else null: exact). */
  readonly failedUntil: number | null;
  /** Its first sampleLimit successes, in finish order. */
  readonly samples: readonly FinishedSample[];
}

/** finishedHistory's answer: the buckets oldest first, the last ending at `now`. */
export interface FinishedHistory {
  /** The store's clock when read (epoch ms). */
  readonly now: number;
  readonly bucketMs: number;
  readonly buckets: readonly FinishedBucket[];
}
