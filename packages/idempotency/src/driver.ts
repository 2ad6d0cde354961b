import type { BreakerEvent, BreakerOptions } from "./breaker.js";
import type { FlowTaskInput, TaskLinks } from "./flows.js";
import type { KindLimitState } from "./limits.js";
import type { TaskLog, TaskReport } from "./task-reports.js";
import type {
  AttemptRecord,
  CancelOutcome,
  ClaimInput,
  ClaimResult,
  DeadLetter,
  DeadLetterListQuery,
  FinishedHistory,
  FinishedHistoryQuery,
  KindLimits,
  RecentFinished,
  ScheduleFiring,
  ScheduleInput,
  ScheduleRecord,
  Started,
  StatusCounts,
  TakeOptions,
  TaskFailure,
  TaskListQuery,
  TaskRecord,
  TaskResultData,
  WorkerInfo,
  WorkerRecord,
} from "./types.js";

/** A lease owner that holds running tasks now (a live worker, or one whose lease has not expired yet). */
export interface LeaseHolder {
  readonly owner: string;
  /** Tasks it runs. */
  readonly running: number;
  /** When its latest lease runs out, epoch ms by the store's clock. */
  readonly leaseExpiresAt: number;
}

/** Batching achieved so far: transactions (or statements) committed and operations in them. */
export interface BatchCounters {
  readonly batches: number;
  readonly operations: number;
  /** Milliseconds spent waiting on the store for batches (where a run's time goes). */
  readonly busyMs: number;
}

/**
 * The task store contract every driver keeps (SQLite: `SqliteTaskStore`, PostgreSQL:
 * `PgTaskStore` from `@taskq/idempotency/postgres`), with one meaning: claim and dedupe by kind
 * and idempotency key in one statement, version-guarded transitions (a stale one is refused with
 * StaleTransitionError and writes nothing), leases with heartbeats and recovery, dead letters and
 * re-drive, the durable queue. Every call is async; calls made in the same turn of the event loop
 * are committed together. The shared suite in test/driver-suite.ts runs against every driver.
 */
export interface TaskStoreDriver {
  /** The SQL dialect of the backend: `sqlite` or `postgres`. */
  readonly dialect: "sqlite" | "postgres";
  /** Where the store is, safe to print: a path, or a URL without its password. */
  readonly location: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  /** Tasks put back to `queued` when the store opened (left running by a dead process). */
  readonly recoveredOnOpen: number;

  /**
   * Inserts the task unless a task of its kind holds its idempotency key (then answers with that
   * record): the same key under two kinds is two tasks. A kind that is not a short plain
   * identifier is refused (ERR_INVALID_INPUT).
   */
  claim(input: ClaimInput): Promise<ClaimResult>;
  /** Claims many tasks in one transaction: all are stored, or none. */
  enqueueMany(inputs: readonly ClaimInput[]): Promise<ClaimResult[]>;
  /** queued → running: counts an attempt, leases the task to this owner. */
  start(seq: number, version: number): Promise<Started>;
  /** running → succeeded. Returns the new version. */
  succeed(seq: number, version: number, data?: TaskResultData): Promise<number>;
  /** running → queued after a transient failure; runs again no earlier than `delayMs` from now. */
  retry(seq: number, version: number, failure: TaskFailure, delayMs: number): Promise<number>;
  /** running → failed, plus a dead letter. */
  fail(seq: number, version: number, failure: TaskFailure): Promise<number>;
  /** running → queued without a failure (a closing worker hands the task back). */
  release(seq: number, version: number): Promise<number>;

  /**
   * Takes up to `limit` due queued tasks for this owner (first reclaiming expired leases): no
   * two owners ever take the same task. With `kinds` (a non-empty array of kinds), only tasks of
   * those kinds; without, every kind. Across kinds, in queue order: `rank_at` (the run time less
   * the priority's worth of waiting: larger priority first, then earlier run time), then `seq`.
   * It reads at most `limit` due tasks per kind (the queued index leads with the kind), never
   * every due task of a backlog. A kind with limits (setKindLimits) gets no more than its
   * concurrency and rate allow, decided in the take's transaction (the limits' row locked on
   * PostgreSQL), so the limits hold however many workers take at once; `options.perKind` caps
   * kinds further (a worker's own per-kind limits). Tasks held back stay queued, untouched.
   */
  takeNext(limit: number, kinds?: readonly string[], options?: TakeOptions): Promise<TaskRecord[]>;
  /**
   * How long until the earliest queued task of `kinds` (default: every kind) is due, in ms by the
   * store's clock (the database's on PostgreSQL): 0 when one is due now, null when none is
   * queued. An idle worker sleeps that long at most (a delayed task, a retry's backoff).
   */
  nextDueIn(kinds?: readonly string[]): Promise<number | null>;
  /** Puts back the running tasks of dead local owners and of expired leases. Returns how many. */
  recover(): Promise<number>;
  /** Extends the lease of every task this owner runs. Returns how many. */
  renewLeases(): Promise<number>;
  /** Renews leases every leaseMs/3 until close (the timer does not keep the process alive). */
  startHeartbeat(): void;
  /**
   * Resolves when work may have arrived (a notification, where the driver has them) or after
   * `timeoutMs`, whichever is first; at once when `signal` aborts.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>;

  /**
   * Resolves when a task may have finished (succeeded, failed, cancelled) or after `timeoutMs`,
   * whichever is first; at once when `signal` aborts. PostgreSQL: a notification from any node;
   * SQLite: a finish made through this store object, else the timeout (the caller polls).
   */
  waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void>;

  /**
   * Cancels task `seq`: a queued one becomes `cancelled` at once (version-guarded, `finishedAt`
   * set, never taken again): outcome `cancelled`; a running one gets `cancelRequestedAt` set and
   * its worker ends it (cancelRunning): outcome `requested`; a succeeded, failed or cancelled one
   * is left alone: outcome `finished`. An unknown seq is ERR_NOT_FOUND.
   */
  cancel(seq: number): Promise<CancelOutcome>;
  /** Which of these running tasks have a cancel requested (a worker asks from its heartbeat). */
  cancelRequested(seqs: readonly number[]): Promise<number[]>;
  /**
   * running → cancelled (a worker ends a task whose cancel was requested), clearing the lease;
   * version-guarded like the other transitions (stale: StaleTransitionError). Returns the new version.
   */
  cancelRunning(seq: number, version: number): Promise<number>;
  /**
   * Calls `listener` with the seq of each task whose cancel is requested: on PostgreSQL from any
   * node (LISTEN `taskq_cancel_<schema>`); on SQLite only the cancels made through this store
   * object (other processes poll cancelRequested). Returns the function that removes it.
   */
  onCancelRequested(listener: (seq: number) => void): () => void;

  get(seq: number): Promise<TaskRecord | undefined>;
  /** The task of this kind holding this idempotency key (keys are unique per kind). */
  getByKey(kind: string, key: string): Promise<TaskRecord | undefined>;
  /** Records with this task id (ids need not be unique across idempotency keys). */
  getById(id: string): Promise<TaskRecord[]>;
  /** Keeps a task that failed validation as a dead letter. Returns the dead letter's seq. */
  recordInvalid(taskId: string, payload: unknown, failure: TaskFailure): Promise<number>;
  /** Owners holding running tasks now, with their leases. */
  leaseHolders(): Promise<LeaseHolder[]>;

  // The read side (the dashboard, monitor, /metrics, the CLI; read-all.ts pages through them for
  // callers that want everything): each reads through an index and is bounded, never a count or a
  // scan of every task (a few ms at 10 million tasks).

  /**
   * Bounded counts for an overview, by kind and status. Each status is read through its partial
   * index, at most `cap` rows (queued per kind, due and later as two ranges of tasks_due within
   * what the kinds before it left of the cap): a status in `capped` reached `cap` and its numbers
   * are lower bounds. Also open dead letters (bounded the same), an estimate of all tasks, and the
   * longest wait of a due task. Costs about `cap` index entries per status (plus reading the
   * running, succeeded, failed and cancelled rows for their kind): a `cap` of some thousands
   * answers in a few ms. `cap`: an integer from 1 to 1,000,000 (else ERR_INVALID_INPUT).
   */
  statusCounts(cap: number): Promise<StatusCounts>;
  /**
   * Throughput and latency since `sinceMs` (epoch ms, by the store's clock): tasks that succeeded
   * since (a range of tasks_succeeded), dead letters written since (a range of
   * dead_letters_failed), and the latest up to `sampleLimit` successes, newest first, with their
   * run and total times. Costs one index entry per task finished in the window: for recent windows.
   * `sampleLimit`: 0 to 10,000.
   */
  recentFinished(sinceMs: number, sampleLimit: number): Promise<RecentFinished>;
  /**
   * The finished tasks over the last `buckets` spans of `bucketMs` (the last ending at the store's
   * clock), for charts that open with their history drawn: in each, the successes (a range of the
   * succeeded tasks' finish-time index) and the dead letters written (a range of
   * dead_letters_failed), each counted up to `countCap` entries (a bucket that reaches it says when
   * the last one counted finished), and its first `sampleLimit` successes' times (their rows, by
   * seq). Costs at most buckets x (2 x countCap index entries + sampleLimit rows), whatever the
   * store's size and rate: 120 buckets, 200 counted and 20 sampled, read in 30-35 ms on PostgreSQL
   * with 1,000 tasks finished a second (every bucket capped; two busy cores).
   */
  finishedHistory(query: FinishedHistoryQuery): Promise<FinishedHistory>;
  /**
   * A page of tasks, newest first (seq descending), optionally of one status and one kind; the
   * next page passes the last seq as `beforeSeq`. A filter whose set is small below `beforeSeq`
   * (fewer than SMALL_SET, 5000: the queued, of a kind or not, the running, the succeeded, a
   * kind's) is read whole through its index and sorted; otherwise the page walks by seq, along
   * the failed or cancelled tasks' own index or the primary key. `limit`: 1 to 500.
   */
  listTasks(query: TaskListQuery): Promise<TaskRecord[]>;
  /**
   * Every kind in the tasks table, in code-point order: a loose index scan of the (kind,
   * idempotency_key) unique index, one probe per kind.
   */
  kinds(): Promise<string[]>;
  /**
   * A page of dead letters, newest first (dead letter seq descending), the open ones only unless
   * `includeRedriven`, each with its task's kind; with `kind`, only that kind's (the dead letters
   * walked newest first, each task's kind read by its seq, until the page fills). The next page
   * passes the last seq as `beforeSeq`. `limit`: 1 to 500.
   */
  listDeadLetters(query: DeadLetterListQuery): Promise<DeadLetter[]>;
  /**
   * Re-drives exactly the failed tasks among these task seqs, in one transaction: each goes back
   * to queued (attempts reset, its error cleared, ranked by its priority from now) and its open
   * dead letters are marked re-driven, kept as its history; a seq that is not a failed task is
   * skipped. At most 1,000 seqs (MAX_REDRIVE, else ERR_INVALID_INPUT). Returns how many tasks were
   * re-driven.
   */
  redriveTasks(taskSeqs: readonly number[]): Promise<number>;

  /**
   * Retention: deletes up to `limit` succeeded tasks that finished more than `olderThanMs` ago
   * (their keys may run again), with the re-driven dead letters of their history, in one short
   * transaction. Never touches a queued, running or failed task. Returns how many; call again
   * while it returns `limit`.
   */
  prune(options: { readonly olderThanMs: number; readonly limit?: number }): Promise<number>;
  /**
   * Deletes the dead letters written more than `olderThanMs` ago, and the failed tasks they
   * belonged to (their keys may run again). Returns how many dead letters.
   */
  purgeDeadLetters(olderThanMs: number): Promise<number>;

  /**
   * A once-per-cluster gate for periodic maintenance (retention, reports): true when this store
   * may run the job called `name` now, for exactly one of the stores sharing a backend per
   * `everyMs` interval. It records the run in one upsert on the `maintenance` table that succeeds
   * only when the job has no row yet or its last run is at least `everyMs` old, by the store's
   * clock (on PostgreSQL the database's), and writes this store's owner. No lock is held: the
   * caller runs the job when it gets true, and nothing tells the others when it has finished.
   */
  tryRunMaintenance(name: string, everyMs: number): Promise<boolean>;
  /**
   * Records this worker (`owner`) in the workers registry (the `managers` table): its first call
   * inserts the row with `startedAt`, every call sets `heartbeatAt` to the store's clock and
   * replaces `info`. It also removes the rows of workers silent for WORKER_STALE_MS that hold no
   * lease (a process killed without closing, once its tasks were reclaimed).
   */
  reportWorker(info: WorkerInfo): Promise<void>;
  /** Removes this worker's row from the registry (a worker that closes). */
  removeWorker(): Promise<void>;
  /** Every worker of the registry, by owner, with its latest report; stale rows stay until removed. */
  workers(): Promise<WorkerRecord[]>;

  /**
   * Sets the limits of `kind` across every worker on the store (null removes them): at most
   * `concurrency` running at once, at most `rate.limit` starts per `rate.intervalMs`.
   */
  setKindLimits(kind: string, limits: KindLimits | null): Promise<void>;
  /**
   * Pauses `kind` across every worker on the store (true), or resumes it (false): a paused kind's
   * queued tasks stay queued (no take starts one, from the next take of every worker on), its
   * running tasks finish, and new ones are stored as usual. Kept beside its limits (a pause is a
   * limit of zero, which setKindLimits leaves alone). A resume wakes the waiting workers. Returns
   * whether anything changed (false: it was already so).
   */
  setKindPaused(kind: string, paused: boolean): Promise<boolean>;
  /**
   * The attempts of the task `taskSeq` that ended other than in success, oldest first (see
   * AttemptRecord): the task's running or succeeded attempt is its own row's (startedAt,
   * finishedAt, leaseOwner). Empty for an unknown seq.
   */
  attempts(taskSeq: number): Promise<AttemptRecord[]>;
  /**
   * Writes running tasks' progress and log lines (task-reports.ts), each only while this store's
   * owner holds the task's lease at the report's attempt; `version` is left alone. Log lines past
   * LOG_MAX_LINES a task are counted as dropped, not kept. Returns, for each report, whether it
   * was written (false: fenced, nothing written).
   */
  report(reports: readonly TaskReport[]): Promise<boolean[]>;
  /** The log of the task `taskSeq` (empty for an unknown seq or a task that never logged). */
  logs(taskSeq: number): Promise<TaskLog>;
  /**
   * Workflows (issue 35, flows.ts): claims `tasks` in one transaction with their edges: a task
   * with `after` is due once every parent has succeeded (a parent that fails or is cancelled
   * cancels it, unless its edge runs anyway). A parent is a task of the flow (its index) or an
   * existing task (its id); a cycle or an unknown id is refused (ERR_INVALID_INPUT) and nothing
   * is stored. Answers each task as `claim` does, in the order given; a duplicate key is the
   * existing task, which gets no new edges.
   */
  enqueueFlow(tasks: readonly FlowTaskInput[]): Promise<ClaimResult[]>;
  /** A task's parents (with their results) and children; empty lists for an unknown seq. */
  taskLinks(seq: number): Promise<TaskLinks>;
  /**
   * Sets `kind`'s circuit breaker across every worker on the store (null removes it): it opens
   * after `failures` counted failed attempts within `windowMs`, holds the kind's queued tasks
   * (untouched, like a limit of zero) for `cooldownMs`, then lets one probe through (half-open)
   * across the fleet, whose success closes it and whose counted failure opens it again. Kept
   * beside the kind's limits (breaker.ts); set again, it keeps its state. A breaker removed
   * lets the kind's tasks start.
   */
  setBreaker(kind: string, options: BreakerOptions | null): Promise<void>;
  /** Closes `kind`'s open breaker now (its count starts again). Returns whether it was open. */
  resetBreaker(kind: string): Promise<boolean>;
  /**
   * `listener` hears of each breaker this store's own calls opened (a counted failure reached
   * the threshold, or a probe failed) or closed (its probe succeeded), after the commit: the
   * worker whose attempt changed it fires its hooks. Returns a function that stops it.
   */
  onBreakerChange(listener: (event: BreakerEvent) => void): () => void;
  /**
   * Every kind with limits, paused or with a breaker, where it stands against them now, and what
   * holds it back.
   */
  kindLimits(): Promise<KindLimitState[]>;

  /** The store's clock (epoch ms): the database's on PostgreSQL, the injected clock in tests. */
  now(): Promise<number>;
  /**
   * Recurring tasks: stores (or replaces, unpaused) the schedule `name` with its first
   * occurrence `nextRunAt`, computed by the caller from `cron` by `now()`'s time.
   */
  putSchedule(input: ScheduleInput): Promise<ScheduleRecord>;
  /** Removes the schedule; false when there was none. Tasks it already enqueued stay. */
  removeSchedule(name: string): Promise<boolean>;
  getSchedule(name: string): Promise<ScheduleRecord | undefined>;
  /** Every schedule, by name. */
  schedules(): Promise<ScheduleRecord[]>;
  /**
   * Pauses the schedule, or resumes it from `nextRunAt` (the occurrences missed while paused are
   * skipped). Undefined when there is no such schedule.
   */
  setSchedulePaused(name: string, paused: boolean, nextRunAt?: number): Promise<ScheduleRecord | undefined>;
  /** Up to `limit` unpaused schedules whose next occurrence is due, and the store's time `now`. */
  dueSchedules(limit: number): Promise<{ readonly now: number; readonly due: ScheduleRecord[] }>;
  /**
   * Fires one occurrence, atomically: the schedule moves from `expected` to `nextRunAt` only if
   * it still has `expected` (of schedulers racing, exactly one wins), and only then the task is
   * enqueued, due at `firedAt`. `advanced`: this call won; `created`: the task is new (false if
   * its key existed: the occurrence was enqueued before).
   */
  fireSchedule(firing: ScheduleFiring): Promise<{ readonly advanced: boolean; readonly created: boolean }>;

  /** Batching achieved since the last reset. */
  counters(): BatchCounters;
  resetCounters(): void;
  /** Waits for every call made so far to commit. */
  flush(): Promise<void>;
  /** Commits what is pending, stops the heartbeat and closes the connection(s). Idempotent. */
  close(): Promise<void>;
}
