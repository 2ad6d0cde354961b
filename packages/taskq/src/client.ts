// The producer: enqueue tasks by kind, read them back by id, wait for results, cancel. It needs no
// handler and no threads: a web process that enqueues and a worker process that runs the tasks
// share one store (`connect` here, `createWorker` there).
import {
  type BreakerOptions,
  type BreakerState,
  type ClaimInput,
  checkCorrelationId,
  checkGroup,
  type KindLimitState,
  type KindLimits,
  type ScheduleRecord,
  type TaskRecord,
  type TaskStoreDriver,
  type TraceCarrier,
} from "@taskq/idempotency";
import { QueueTimeoutError, TaskCancelledError, TaskFailedError } from "@taskq/queue";
import { parseCron } from "./cron.js";
import { ConfigError, ScheduleNotFoundError, TaskNotFoundError, TaskStateError } from "./errors.js";
import { type AfterTask, afterOf, flowInputs, type IfParentFailed } from "./flow.js";
import { payloadPreparer } from "./handler-runtime.js";
import { kindControls } from "./kind-controls.js";
import { checkKind } from "./kinds.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";
import { type ProgressOptions, type TaskLogInfo, toTaskLogInfo, watchProgress } from "./progress-watch.js";
import { openStore } from "./runtime.js";
import { SETTINGS } from "./settings.js";
import { stableKey } from "./stable-key.js";
import { checkStoreLocation } from "./store-location.js";
import {
  type AttemptView,
  type LinkView,
  readTaskView,
  resultOf,
  type TaskView,
  taskView,
} from "./task-view.js";
import { enqueueTraceContext } from "./tracing.js";
import type {
  AnyKinds,
  EnqueuedFlow,
  EnqueuedKind,
  FlowTaskOf,
  KindMap,
  KindOf,
  PayloadOf,
  ResultOfId,
  TaskId,
} from "./typed-kinds.js";

/** Options of `connect`. */
export interface ConnectOptions {
  /**
   * The store the workers take tasks from: a SQLite file, `:memory:`, or a `postgres://` URL.
   * @default ".taskq/tasks.db"
   */
  readonly store?: string;
  /**
   * Attempts in all for a task that does not say, the first included.
   * @default 3
   */
  readonly attempts?: number;
}

/** Per-task options of `enqueue`. */
export interface EnqueueOptions {
  /** The idempotency key, within the kind. @default a SHA-256 of the payload's JSON with sorted keys */
  readonly key?: string;
  /** The task's id. @default `task-` and a time-ordered suffix */
  readonly id?: string;
  /** Attempts in all for this task. @default the client's `attempts` */
  readonly maxAttempts?: number;
  /**
   * Larger runs first (as in pg-boss; BullMQ and graphile-worker run the smaller number first).
   * An integer, negative allowed. A point is worth an hour of waiting: a task that has waited an
   * hour longer than one a point above it runs first, so no stream of higher priorities starves it.
   * @default 0
   */
  readonly priority?: number;
  /** Run no earlier than this time (a Date or epoch ms). Not with `delayMs`. @default now */
  readonly runAt?: Date | number;
  /**
   * Run no earlier than this many ms from now, by the store's clock (the database's on
   * PostgreSQL). Not with `runAt`.
   * @default 0
   */
  readonly delayMs?: number;
  /**
   * Labels to find the task by: `listTasks({ tag })`, `taskq list --tag`, the dashboard's tag
   * filter. At most 16, each 1 to 100 printable characters (`"tenant:42"`, `"import"`); a tag
   * given twice is kept once. Tags are not part of the key: a duplicate keeps the first task's.
   * @default []
   */
  readonly tags?: readonly string[];
  /**
   * The id of what caused this task (a web request's id, say): 1 to 200 printable ASCII characters
   * without spaces. Stored with the task, on every log line of every attempt (`correlation_id`),
   * in `get(id)`, `taskq status` and the dashboard, which finds tasks by it. Not part of the key: a
   * duplicate keeps the first task's.
   * @default none
   */
  readonly correlationId?: string;
  /**
   * Its group: a tenant, a customer, an account (1 to 100 printable characters). In a kind with
   * per-group limits (`setLimits(kind, { perGroup: { concurrency } })`) workers take its groups'
   * tasks in rotation, so one group's backlog does not starve another's, and run at most that many
   * of one group at once across the fleet; in another kind it is a label, shown by `get(id)`,
   * `taskq status` and the dashboard, and a filter of `taskq list --group`. Not part of the key: a
   * duplicate keeps the first task's.
   * @default none
   */
  readonly group?: string;
  /**
   * Your own `pg` client, inside your transaction (PostgreSQL only): the task exists, and workers
   * are woken, only if that transaction commits. The client you ran BEGIN on (not the pool), or an
   * ORM's transaction adapted to `query(text, values)` answering `{ rows }` (examples/tx-kysely.mjs,
   * examples/tx-knex.mjs).
   */
  readonly tx?: PgQueryable;
  /**
   * Its parents (workflows): ids of existing tasks, each a string or `{ id, ifFailed }`. The task
   * waits, queued, until every parent has succeeded (its handler reads their results as
   * `ctx.parents`); a parent that fails or is cancelled cancels it (error "parent <id> failed"),
   * unless its entry says `ifFailed: "run"`. An unknown id is refused. Not with `runAt`,
   * `delayMs` or `tx`. A whole graph in one call: `enqueueFlow`.
   * @default none
   */
  readonly after?: readonly AfterTask[];
}

/** One task's own choices in `enqueueMany` (its entry of `perTask`): as `enqueue`'s options of the same names. */
export type TaskChoices = Pick<
  EnqueueOptions,
  "key" | "id" | "maxAttempts" | "tags" | "correlationId" | "group"
>;

/** Options of `enqueueMany`: `enqueue`'s for every task (but `key` and `id`), and each task's own. */
export interface EnqueueManyOptions extends Omit<EnqueueOptions, "key" | "id" | "after"> {
  /**
   * Each task's own key, id, attempts and tags, by position: `perTask[i]` is for `payloads[i]`, one entry
   * (an object, or undefined) per payload. What an entry leaves out is chosen as `enqueue` chooses
   * it; its `maxAttempts` wins over the one for every task.
   * @default none: every task keyed by its payload, with a new id
   */
  readonly perTask?: readonly (TaskChoices | undefined)[];
}

/**
 * What transactional enqueue needs of your transaction: a `pg` Client or PoolClient, or anything
 * that runs PostgreSQL's `$1, $2 ...` statements with their values as `pg`'s `query` does.
 */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * What `enqueue` answers once the task is durably stored. A typed client's names its kind, and
 * its id carries it (`result(id)` is typed by it).
 */
export interface Enqueued<Kind extends string = string> {
  readonly id: TaskId<Kind>;
  readonly key: string;
  readonly kind: Kind;
  /** The stored task's status: `queued` for a new one; a duplicate's own. */
  readonly status: TaskInfo["status"];
  /** True when the kind and key were taken: `id` is then the existing task's. */
  readonly duplicate: boolean;
}

/** A task as `get` reads it: the stored record, parsed. */
export interface TaskInfo {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  readonly payload: unknown;
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The handler's result, parsed (succeeded tasks). */
  readonly result: unknown;
  /** The last failure: its class and message. */
  readonly error: { readonly errorClass: string; readonly message: string } | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** When a queued task is due. */
  readonly runAt: Date;
  /**
   * Workflows: its parents not finished yet (queued, never taken while above 0), 0 once every
   * parent is done; null for a task enqueued without `after`.
   */
  readonly waitingFor: number | null;
  /** Its parents (workflows), each with its kind, status and `ifFailed`; empty without any. */
  readonly parents: readonly TaskLinkInfo[];
  /** The tasks that run after it; empty without any. */
  readonly children: readonly TaskLinkInfo[];
  /**
   * A cancel was asked for while it ran: it is still `running` until the worker holding it ends
   * it (`cancelled`), or its attempt finished first.
   */
  readonly cancelRequested: boolean;
  /** A queued task not due yet (delayed, or backing off before a retry), by the store's clock. */
  readonly scheduled: boolean;
  /** Larger runs first. */
  readonly priority: number;
  /** Its tags, as enqueued (empty without any). */
  readonly tags: readonly string[];
  /** Its correlation id, as enqueued, or null. */
  readonly correlationId: string | null;
  /** Its group, as enqueued, or null. */
  readonly group: string | null;
  /**
   * The W3C `traceparent` of the span it was enqueued in (OpenTelemetry), or null: each attempt's
   * span is that span's child.
   */
  readonly traceparent: string | null;
  /**
   * Every attempt, oldest first: its number, outcome ("retried", "failed", "released",
   * "cancelled", "lost" with its worker, or "running", "succeeded"), start, end, duration, error
   * (class, message, stack: bounded) and the worker that ran it.
   */
  readonly attemptHistory: readonly AttemptInfo[];
  /**
   * The last progress its handler reported (`ctx.progress(value)`, in any attempt), or null when
   * it never did. Live: `progress(id)`.
   */
  readonly progress: unknown;
}

/** A parent or child of a task (`get(id).parents`, `.children`). */
export interface TaskLinkInfo {
  readonly id: string;
  readonly kind: string;
  readonly status: TaskInfo["status"];
  /** What the parent failing does to the child on this edge (as enqueued; "cancel" when not given). @default "cancel" */
  readonly ifFailed: IfParentFailed;
}

/** One attempt of a task (`get(id).attemptHistory`), dates as Date. */
export type AttemptInfo = Omit<AttemptView, "startedAt" | "finishedAt"> & {
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
};

/**
 * What `schedule` stores: a cron expression and the task each occurrence enqueues (of a typed
 * client's kind, with its payload: `Kind` and `Payload`).
 */
export interface ScheduleOptions<Kind extends string = string, Payload = unknown> {
  /** Five fields (minute hour day month weekday), or six with seconds first (`*\/2 * * * * *`: every 2 s). */
  readonly cron: string;
  /** The IANA time zone the expression is read in. @default "UTC" */
  readonly timezone?: string;
  /** The kind of the tasks it enqueues. */
  readonly kind: Kind;
  /** Their payload. @default {} */
  readonly payload?: Payload;
  /** Their priority and attempts. @default the enqueue defaults */
  readonly options?: { readonly priority?: number; readonly maxAttempts?: number };
}

/** A schedule as `schedules` reads it. */
export interface ScheduleInfo {
  readonly name: string;
  readonly cron: string;
  /** null: UTC. */
  readonly timezone: string | null;
  readonly kind: string;
  readonly payload: unknown;
  readonly options: { readonly priority?: number; readonly maxAttempts?: number };
  readonly paused: boolean;
  /** The next occurrence a worker enqueues. */
  readonly nextRunAt: Date;
  /** The last occurrence enqueued, or null. */
  readonly lastRunAt: Date | null;
}

/** The limits of a kind across every worker (see `setLimits`): `concurrency`, `rate`. */
export type LimitsOptions = KindLimits;

/**
 * A kind's limits and where it stands against them (`limits`): running now in every worker,
 * starts in the current rate window, whether it is paused (`paused`, since `pausedAt`), why its
 * due tasks wait (`heldBack`: "paused", "concurrency", "breaker", "rate" or null; a reason, not a count),
 * and, while its rate holds it back, when its window lets it start again (`openAgainAt`; null
 * otherwise).
 */
export type LimitsInfo = Omit<KindLimitState, "openAgainAt"> & { readonly openAgainAt: Date | null };

/**
 * A kind's circuit breaker (see `setBreaker`): `failures`, `windowMs`, `cooldownMs`, `countErrors`,
 * `ratio`, `minAttempts`; each documented with its default on BreakerOptions of @taskq/idempotency.
 */
export type BreakerSettings = BreakerOptions;

/** A kind's circuit breaker and where it stands (`breakers`): its settings, `state`, and when it changed. */
export type BreakerInfo = BreakerState & { readonly kind: string };

/** Options of `result`. */
export interface ResultOptions {
  /** Stops waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Rejects with QueueTimeoutError after this many ms. @default wait for ever */
  readonly timeoutMs?: number;
}

/**
 * The producer's calls. `Kinds`, the map of kinds (`connect<Kinds>`), types `enqueue`'s kind and
 * payload and `result`'s answer (typed-kinds.ts); by default any kind, `unknown` payloads.
 */
export interface Client<Kinds extends KindMap<Kinds> = AnyKinds> {
  /** The task store (dead letters, re-drive, stats). */
  readonly store: TaskStoreDriver;
  /** Stores a task of `kind` and answers once it is durable; a duplicate answers with the existing task's id. */
  enqueue<Kind extends KindOf<Kinds>>(
    kind: Kind,
    payload: PayloadOf<Kinds, Kind>,
    options?: EnqueueOptions,
  ): Promise<Enqueued<EnqueuedKind<Kinds, Kind>>>;
  /**
   * Stores many tasks of `kind` in one transaction: all, or none. Answers in the payloads' order,
   * a duplicate (of a stored task, or of an earlier payload of the call) with the existing task's id.
   */
  enqueueMany<Kind extends KindOf<Kinds>>(
    kind: Kind,
    payloads: readonly PayloadOf<Kinds, Kind>[],
    options?: EnqueueManyOptions,
  ): Promise<Enqueued<EnqueuedKind<Kinds, Kind>>[]>;
  /**
   * Enqueues a graph of tasks in one transaction (workflows): `{ tasks: { a: { kind, payload },
   * b: { kind, payload, after: ["a"] } } }`, names local to the flow; an `after` entry is a task's
   * name, `{ task, ifFailed }`, or an existing task as `{ id, ifFailed }`. Each task runs once all
   * its parents succeeded (see EnqueueOptions.after). A cycle or an unknown name or id is refused
   * and nothing is stored. Answers each task by its name. A typed client checks each task's kind
   * and payload against its map, and answers ids typed by kind.
   */
  enqueueFlow<Tasks extends Readonly<Record<string, FlowTaskOf<Kinds>>>>(spec: {
    readonly tasks: Tasks;
  }): Promise<EnqueuedFlow<Kinds, Tasks>>;
  /** The task with this id (the latest, if several share it), or undefined. */
  get(id: string): Promise<TaskInfo | undefined>;
  /**
   * Waits for the task to finish: resolves with its result, rejects with TaskFailedError (dead
   * letter), TaskCancelledError, TaskNotFoundError, or QueueTimeoutError. On PostgreSQL it wakes on
   * the store's notifications.
   */
  result<Id extends string>(id: Id, options?: ResultOptions): Promise<ResultOfId<Kinds, Id>>;
  /**
   * The progress the task's handler reports (`ctx.progress`), as it changes, across processes and
   * on both stores: `for await (const p of client.progress(id, { signal })) ...`. Yields the
   * current value first (when there is one), then each new one seen (the store is read between
   * waits of 100 ms to 1 s; values written between two reads are not all seen, the last wins), and
   * ends once the task has finished, after its last value. Rejects with TaskNotFoundError for an
   * unknown id, and with the signal's reason once it aborts.
   */
  progress(id: string, options?: ProgressOptions): AsyncIterable<unknown>;
  /**
   * The task's log (`ctx.log` in its handler, over every attempt): its first 1,000 lines and how
   * many more were dropped. TaskNotFoundError for an unknown id.
   */
  logs(id: string): Promise<TaskLogInfo>;
  /**
   * Cancels the task: a queued one becomes `cancelled` and never runs; a running one has its
   * handler's `ctx.signal` aborted on whichever worker runs it, and ends `cancelled` unless it
   * finished first. Answers with the task as the cancel left it: `cancelled` for a queued one; for
   * a running one, still `running` with `cancelRequested: true` (`result(id)` waits for its end).
   * A finished task is a TaskStateError; an unknown id, TaskNotFoundError.
   */
  cancel(id: string): Promise<TaskInfo>;
  /**
   * Stores (or replaces) the recurring task `name`: every occurrence of `cron` enqueues a task of
   * `kind` with `payload`, exactly once however many workers run (a worker's scheduler enqueues
   * it; the occurrence's time is in its idempotency key). Occurrences missed while no worker ran:
   * the latest one is enqueued once, the others skipped.
   */
  schedule<Kind extends KindOf<Kinds>>(
    name: string,
    options: ScheduleOptions<Kind, PayloadOf<Kinds, Kind>>,
  ): Promise<ScheduleInfo>;
  /** Removes the schedule; false when there was none. Tasks it enqueued stay. */
  unschedule(name: string): Promise<boolean>;
  /** Every schedule, by name. */
  schedules(): Promise<ScheduleInfo[]>;
  /** Stops enqueueing the schedule's occurrences until resumed. ScheduleNotFoundError when there is none. */
  pauseSchedule(name: string): Promise<ScheduleInfo>;
  /** Resumes from the next occurrence after now (the ones missed while paused are skipped). */
  resumeSchedule(name: string): Promise<ScheduleInfo>;
  /**
   * Sets the limits of `kind` across every worker on the store (null removes them): at most
   * `concurrency` running at once, at most `rate.limit` starts per `rate.intervalMs`. A task held
   * back stays queued (not failed, not retried). Workers apply a change within a second.
   */
  setLimits(kind: string, limits: LimitsOptions | null): Promise<void>;
  /** Every kind with limits or paused, where it stands, and what holds it back. */
  limits(): Promise<LimitsInfo[]>;
  /**
   * Pauses `kind` across every worker on the store: from each worker's next take no task of it
   * starts; running ones finish, queued ones wait (not failed, attempts untouched), new ones are
   * stored. Kept in the store beside its limits until `resumeKind`. Returns false when it was
   * paused already.
   */
  pauseKind(kind: string): Promise<boolean>;
  /** Resumes a paused kind: the waiting workers wake and take its tasks. False when it was not paused. */
  resumeKind(kind: string): Promise<boolean>;
  /**
   * Sets the circuit breaker of `kind` across every worker on the store (null removes it): after
   * `failures` counted failed attempts within `windowMs` it opens, and the kind's queued tasks
   * wait (not failed, attempts untouched) for `cooldownMs`; then one probe runs, in one worker of
   * the fleet, whose success closes it and whose counted failure opens it again. With `ratio`, it
   * also opens when that share of the window's ended attempts failed (at least `minAttempts`).
   * Set again, it keeps its state. Bad settings: ERR_INVALID_INPUT naming the option.
   * Counted: failed attempts a worker records (by default the retryable ones: see countErrors),
   * never an attempt lost with its worker (its lease expired). Like limits, a breaker holds back
   * tasks taken from the store: `createQueue().submit` (and `taskq run`) starts its task, and its
   * retries, at once in the calling process whatever the breaker's state.
   */
  setBreaker(kind: string, breaker: BreakerSettings | null): Promise<void>;
  /** Every kind with a circuit breaker and its state (closed, open, half-open), by kind. */
  breakers(): Promise<BreakerInfo[]>;
  /** Closes `kind`'s open breaker now: its tasks run again. False when it was not open. */
  resetBreaker(kind: string): Promise<boolean>;
  /** Closes the store (when `connect` opened it). */
  close(): Promise<void>;
}

/**
 * How long `result` waits between looks at the store: on SQLite a finish in another process
 * sends nothing, so it polls; on PostgreSQL a notification wakes it first.
 */
const RESULT_WAIT_MS = { sqlite: 50, postgres: 5000 } as const;

const CONNECT_KEYS = keysOf<ConnectOptions>()({ store: true, attempts: true });
const RESULT_KEYS = keysOf<ResultOptions>()({ signal: true, timeoutMs: true });
const PROGRESS_KEYS = keysOf<ProgressOptions>()({ signal: true });
const ENQUEUE_KEYS = keysOf<EnqueueOptions>()({
  key: true,
  id: true,
  maxAttempts: true,
  priority: true,
  runAt: true,
  delayMs: true,
  tags: true,
  correlationId: true,
  group: true,
  tx: true,
  after: true,
});
const ENQUEUE_MANY_KEYS = keysOf<EnqueueManyOptions>()({
  maxAttempts: true,
  priority: true,
  runAt: true,
  delayMs: true,
  tags: true,
  correlationId: true,
  group: true,
  tx: true,
  perTask: true,
});
const TASK_CHOICE_KEYS = keysOf<TaskChoices>()({
  key: true,
  id: true,
  maxAttempts: true,
  tags: true,
  correlationId: true,
  group: true,
});

/** A correlation id checked where it enters: one line naming the option. */
function checkedCorrelationId(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return checkCorrelationId(value, option);
  } catch (error) {
    throw new ConfigError(option, (error as Error).message);
  }
}

/** A group checked where it enters: one line naming the option. */
function checkedGroup(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return checkGroup(value, option);
  } catch (error) {
    throw new ConfigError(option, (error as Error).message);
  }
}

/** A wrong `tx`, or a wrong answer of its query, in a few words. */
const described = (value: unknown, lacking: string): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "an array"
      : typeof value === "object"
        ? `an object without ${lacking}`
        : typeof value;

/** `perTask` checked where it enters: one entry per payload, each with known keys only. */
function checkPerTask(perTask: unknown, payloads: number): readonly (TaskChoices | undefined)[] {
  if (!Array.isArray(perTask) || perTask.length !== payloads)
    throw new ConfigError(
      "perTask",
      `perTask must be an array of one entry per payload (${payloads}), got ${Array.isArray(perTask) ? `${perTask.length} entries` : perTask === null ? "null" : typeof perTask}`,
    );
  perTask.forEach((choice: unknown, i) => {
    if (choice === undefined) return;
    if (choice === null || typeof choice !== "object" || Array.isArray(choice))
      throw new ConfigError(
        `perTask[${i}]`,
        `perTask[${i}] must be an object ({ key?, id?, maxAttempts?, tags?, correlationId?, group? }) or undefined, got ${choice === null ? "null" : Array.isArray(choice) ? "an array" : typeof choice}`,
      );
    checkOptionKeys(choice, TASK_CHOICE_KEYS, `enqueueMany options.perTask[${i}]`);
  });
  return perTask as readonly (TaskChoices | undefined)[];
}

/** The timing options of an enqueue, checked (one line naming the option) and as the store takes them. */
export function timingOf(o: Pick<EnqueueOptions, "priority" | "runAt" | "delayMs">): {
  readonly priority?: number;
  readonly runAt?: number;
  readonly delayMs?: number;
} {
  const { priority, runAt, delayMs } = o;
  if (priority !== undefined && !(Number.isInteger(priority) && Math.abs(priority) < 2 ** 31))
    throw new ConfigError(
      "priority",
      `priority must be an integer (negative allowed), got ${JSON.stringify(priority)}`,
    );
  if (runAt !== undefined && delayMs !== undefined)
    throw new ConfigError("runAt", "give runAt or delayMs, not both");
  const at = runAt instanceof Date ? runAt.getTime() : runAt;
  if (runAt !== undefined && !(Number.isInteger(at) && (at as number) >= 0))
    throw new ConfigError(
      "runAt",
      `runAt must be a Date or epoch ms, got ${runAt instanceof Date ? "an invalid Date" : JSON.stringify(runAt)}`,
    );
  if (delayMs !== undefined && !(Number.isInteger(delayMs) && delayMs >= 0))
    throw new ConfigError("delayMs", `delayMs must be an integer >= 0, got ${JSON.stringify(delayMs)}`);
  return {
    ...(priority === undefined ? {} : { priority }),
    ...(at === undefined ? {} : { runAt: at }),
    ...(delayMs === undefined ? {} : { delayMs }),
  };
}

const SCHEDULE_KEYS = keysOf<ScheduleOptions>()({
  cron: true,
  timezone: true,
  kind: true,
  payload: true,
  options: true,
});
const SCHEDULE_TASK_KEYS = keysOf<NonNullable<ScheduleOptions["options"]>>()({
  priority: true,
  maxAttempts: true,
});

export function toScheduleInfo(r: ScheduleRecord): ScheduleInfo {
  return {
    name: r.name,
    cron: r.cron,
    timezone: r.timezone,
    kind: r.kind,
    payload: r.payload,
    options: r.options,
    paused: r.paused,
    nextRunAt: new Date(r.nextRunAt),
    lastRunAt: r.lastRunAt === null ? null : new Date(r.lastRunAt),
  };
}

/**
 * Opens the store and returns a producer: enqueue, get, result, cancel. `connect<Kinds>()` types
 * it by a map of kinds (see Client); the map is a declaration, not checked at run time.
 */
export async function connect<Kinds extends KindMap<Kinds> = AnyKinds>(
  options: ConnectOptions = {},
): Promise<Client<Kinds>> {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "connect needs an options object");
  checkOptionKeys(options, CONNECT_KEYS);
  const location = checkStoreLocation(options.store ?? SETTINGS.store.default, "store");
  const store = await openStore({
    store: location,
    attempts: options.attempts ?? SETTINGS.attempts.default,
    leaseMs: SETTINGS.leaseMs.default,
  });
  // the map of kinds is the caller's declaration: the same calls serve every map
  return clientOf(store, { owned: true }) as unknown as Client<Kinds>;
}

/** A task as a producer sees it: its view (the one every reader shows), with dates as Date. */
export function toTaskInfo(v: TaskView): TaskInfo {
  return {
    id: v.id,
    kind: v.kind,
    key: v.idempotencyKey,
    status: v.status,
    payload: v.payload,
    attempts: v.attempts,
    maxAttempts: v.maxAttempts,
    result: v.result,
    error: v.errorClass === null ? null : { errorClass: v.errorClass, message: v.errorMessage ?? "" },
    createdAt: new Date(v.createdAt),
    startedAt: v.startedAt === null ? null : new Date(v.startedAt),
    finishedAt: v.finishedAt === null ? null : new Date(v.finishedAt),
    runAt: new Date(v.nextRunAt),
    waitingFor: v.waitingFor,
    parents: (v.parents ?? []).map(linkInfo),
    children: (v.children ?? []).map(linkInfo),
    cancelRequested: v.cancelRequested,
    scheduled: v.scheduled,
    priority: v.priority,
    tags: v.tags,
    correlationId: v.correlationId,
    group: v.group,
    traceparent: v.traceContext?.traceparent ?? null,
    progress: v.progress,
    attemptHistory: (v.attemptHistory ?? []).map((a) => ({
      ...a,
      startedAt: a.startedAt === null ? null : new Date(a.startedAt),
      finishedAt: a.finishedAt === null ? null : new Date(a.finishedAt),
    })),
  };
}

const linkInfo = (l: LinkView): TaskLinkInfo => ({
  id: l.id,
  kind: l.kind,
  status: l.status,
  ifFailed: l.runAnyway ? "run" : "cancel",
});

/** What `awaitResult` needs besides the store and the read. */
export interface AwaitResultOptions extends ResultOptions {
  /** What is waited for, as the QueueTimeoutError names it: `task "t-1"`. */
  readonly what: string;
  /** Called after each look that found the task unfinished: throws to stop waiting (a queue closing). */
  readonly check?: () => void;
}

/**
 * The one wait for a task's end (`client.result` by id; `createQueue().submit` of a duplicate
 * another process runs, by key): looks at the task `read` finds until it has finished, and
 * resolves with its result, or rejects with TaskFailedError (failed for good) or
 * TaskCancelledError; QueueTimeoutError past `timeoutMs`; the signal's reason once it aborts.
 * Between looks it waits for a finish in the store (a notification on PostgreSQL, which wakes it
 * first; a finish through this store object on SQLite), at most RESULT_WAIT_MS. A task `read` does
 * not find is waited for (a `read` that throws ends the wait).
 */
export async function awaitResult(
  store: TaskStoreDriver,
  read: () => Promise<TaskRecord | undefined>,
  o: AwaitResultOptions,
): Promise<unknown> {
  const { signal } = o;
  signal?.throwIfAborted();
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + o.timeoutMs;
  for (;;) {
    const record = await read();
    if (record?.status === "succeeded") return resultOf(record);
    if (record?.status === "failed")
      throw new TaskFailedError(
        record.id,
        record.errorClass ?? "unknown",
        record.attempts,
        record.errorMessage ?? "",
      );
    if (record?.status === "cancelled") throw new TaskCancelledError(record.id);
    o.check?.();
    const left = deadline - performance.now();
    if (left <= 0) throw new QueueTimeoutError(`waiting for ${o.what}`, o.timeoutMs ?? 0);
    await store.waitForChange(Math.min(left, RESULT_WAIT_MS[store.dialect]), signal);
    signal?.throwIfAborted();
  }
}

/**
 * The producer's calls over an open store (`createQueue` shares its own). `owned`: `close()`
 * closes the store; `onCancel`: this process may hold the task (a createQueue), so a cancel of a
 * running one is delivered here at once too.
 */
export function clientOf(
  store: TaskStoreDriver,
  options: { readonly owned: boolean; readonly onCancel?: (seq: number) => void },
): Client {
  const preparers = new Map<string, ReturnType<typeof payloadPreparer>>();
  const prepareOf = (kind: string) => {
    let prepare = preparers.get(kind);
    if (!prepare) {
      prepare = payloadPreparer(checkKind(kind), stableKey);
      preparers.set(kind, prepare);
    }
    return prepare;
  };
  const claimOf = (
    kind: string,
    payload: unknown,
    o: TaskChoices,
    timing: ReturnType<typeof timingOf>,
    traceContext: TraceCarrier | undefined,
  ): ClaimInput => {
    const p = prepareOf(kind)(payload, {
      ...(o.key === undefined ? {} : { key: o.key }),
      ...(o.id === undefined ? {} : { id: o.id }),
    });
    return {
      id: p.id,
      idempotencyKey: p.idempotencyKey,
      kind,
      payload: p.payload,
      ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
      ...(o.tags === undefined ? {} : { tags: o.tags }),
      ...(o.correlationId === undefined ? {} : { correlationId: o.correlationId }),
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(traceContext === undefined ? {} : { traceContext }),
      ...timing,
    };
  };
  const claimAll = async (claims: readonly ClaimInput[], tx: PgQueryable | undefined) => {
    if (tx === undefined) return store.enqueueMany(claims);
    const pg = store as TaskStoreDriver & {
      claimWith?: (
        client: PgQueryable,
        inputs: readonly ClaimInput[],
      ) => ReturnType<TaskStoreDriver["enqueueMany"]>;
    };
    if (store.dialect !== "postgres" || !pg.claimWith)
      throw new ConfigError("tx", "tx (enqueue inside your transaction) needs a PostgreSQL store");
    if (tx === null || typeof tx !== "object" || typeof (tx as { query?: unknown }).query !== "function")
      throw new ConfigError(
        "tx",
        `tx must be the pg client your transaction runs on (a pg.Client, or a client checked out of a pg.Pool), or an object whose query(text, values) answers { rows } as pg's does, got ${described(tx, "query()")}`,
      );
    if (typeof (tx as { connect?: unknown }).connect === "function" && "totalCount" in tx)
      throw new ConfigError(
        "tx",
        "tx must be the pg client your transaction runs on, got a pg.Pool (it runs each query on any free connection, outside your BEGIN): pass the client you checked out, `const db = await pool.connect()`",
      );
    let unanswered: { readonly got: unknown } | undefined; // an answer without rows, to name it
    const checked: PgQueryable = {
      async query(text, values) {
        const result = await tx.query(text, values);
        if (!Array.isArray((result as { rows?: unknown } | undefined)?.rows)) {
          unanswered = { got: result };
          throw new Error("tx.query answered without rows");
        }
        return result;
      },
    };
    try {
      return await pg.claimWith(checked, claims);
    } catch (error) {
      if (unanswered === undefined) throw error;
      throw new ConfigError(
        "tx",
        `tx.query(text, values) must answer { rows } as pg's does (an adapter returns the driver's result, not its rows), got ${described(unanswered.got, "rows")}`,
      );
    }
  };
  const answer = (claim: ClaimInput, result: Awaited<ReturnType<TaskStoreDriver["claim"]>>): Enqueued =>
    result.created
      ? { id: claim.id, key: claim.idempotencyKey, kind: claim.kind, status: result.status, duplicate: false }
      : {
          id: result.record.id,
          key: result.record.idempotencyKey,
          kind: result.record.kind,
          status: result.record.status,
          duplicate: true,
        };
  /** The task with this id: the latest, when several share it. */
  const latestOf = async (id: string): Promise<TaskRecord | undefined> => (await store.getById(id)).at(-1);
  const latest = async (id: string): Promise<TaskRecord> => {
    const record = typeof id === "string" && id.length > 0 ? await latestOf(id) : undefined;
    if (!record) throw new TaskNotFoundError(String(id), store.location);
    return record;
  };

  return {
    store,
    async enqueue(kind, payload, o = {}) {
      checkOptionKeys(o, ENQUEUE_KEYS, "enqueue options");
      checkedCorrelationId(o.correlationId, "correlationId");
      checkedGroup(o.group, "group");
      const traceContext = enqueueTraceContext();
      const claim = claimOf(
        kind,
        payload,
        o,
        timingOf(o),
        traceContext instanceof Promise ? await traceContext : traceContext,
      );
      if (o.after !== undefined) {
        const after = afterOf(o.after);
        if (o.tx !== undefined) throw new ConfigError("after", "after is not supported with tx");
        if (after.length > 0) {
          if (o.runAt !== undefined || o.delayMs !== undefined)
            throw new ConfigError(
              "after",
              "a task with after is due when its parents are done: not with runAt or delayMs",
            );
          const [result] = await store.enqueueFlow([{ ...claim, after }]);
          return answer(claim, result as Awaited<ReturnType<TaskStoreDriver["claim"]>>);
        }
      }
      const [result] = await claimAll([claim], o.tx);
      return answer(claim, result as Awaited<ReturnType<TaskStoreDriver["claim"]>>);
    },
    async enqueueFlow(spec) {
      const pending = enqueueTraceContext();
      const traceContext = pending instanceof Promise ? await pending : pending;
      const { names, inputs } = flowInputs(
        spec,
        (name, task) => {
          checkedCorrelationId(task.correlationId, `tasks.${name}.correlationId`);
          checkedGroup(task.group, `tasks.${name}.group`);
          return claimOf(
            task.kind,
            task.payload ?? {},
            task,
            timingOf({ ...(task.priority === undefined ? {} : { priority: task.priority }) }),
            traceContext,
          );
        },
        store.maxAttempts,
      );
      const results = await store.enqueueFlow(inputs);
      return Object.fromEntries(
        names.map((name, i) => [
          name,
          answer(inputs[i] as ClaimInput, results[i] as Awaited<ReturnType<TaskStoreDriver["claim"]>>),
        ]),
      ) as never;
    },
    async enqueueMany(kind, payloads, o = {}) {
      checkOptionKeys(o, ENQUEUE_MANY_KEYS, "enqueueMany options");
      if (!Array.isArray(payloads))
        throw new ConfigError("payloads", "enqueueMany needs an array of payloads");
      const timing = timingOf(o);
      checkedCorrelationId(o.correlationId, "correlationId");
      checkedGroup(o.group, "group");
      const perTask = o.perTask === undefined ? undefined : checkPerTask(o.perTask, payloads.length);
      perTask?.forEach((own, i) => {
        checkedCorrelationId(own?.correlationId, `perTask[${i}].correlationId`);
        checkedGroup(own?.group, `perTask[${i}].group`);
      });
      const pending = enqueueTraceContext();
      const traceContext = pending instanceof Promise ? await pending : pending;
      const claims = payloads.map((payload, i) => {
        const own = perTask?.[i];
        const maxAttempts = own?.maxAttempts ?? o.maxAttempts;
        const tags = own?.tags ?? o.tags;
        const correlationId = own?.correlationId ?? o.correlationId;
        const group = own?.group ?? o.group;
        return claimOf(
          kind,
          payload,
          {
            ...(own?.key === undefined ? {} : { key: own.key }),
            ...(own?.id === undefined ? {} : { id: own.id }),
            ...(maxAttempts === undefined ? {} : { maxAttempts }),
            ...(tags === undefined ? {} : { tags }),
            ...(correlationId === undefined ? {} : { correlationId }),
            ...(group === undefined ? {} : { group }),
          },
          timing,
          traceContext,
        );
      });
      const results = await claimAll(claims, o.tx);
      return claims.map((claim, i) =>
        answer(claim, results[i] as Awaited<ReturnType<TaskStoreDriver["claim"]>>),
      );
    },
    async get(id) {
      // "scheduled" by the store's clock, read alongside (one more query on PostgreSQL, in parallel)
      const [record, now] = await Promise.all([latestOf(id), store.now()]);
      return record && toTaskInfo(await readTaskView(store, record, now));
    },
    async result(id, o = {}) {
      checkOptionKeys(o, RESULT_KEYS, "result options");
      if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === "number" && o.timeoutMs >= 0))
        throw new ConfigError(
          "timeoutMs",
          `timeoutMs must be a number >= 0, got ${JSON.stringify(o.timeoutMs)}`,
        );
      return awaitResult(store, () => latest(id), {
        what: `task ${JSON.stringify(id)}`,
        ...(o.signal === undefined ? {} : { signal: o.signal }),
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      });
    },
    progress(id, o = {}) {
      checkOptionKeys(o, PROGRESS_KEYS, "progress options");
      return watchProgress(store, () => latest(id), o);
    },
    async logs(id) {
      return toTaskLogInfo(await store.logs((await latest(id)).seq));
    },
    async cancel(id) {
      const record = await latest(id);
      const { outcome, record: after } = await store.cancel(record.seq);
      if (outcome === "finished")
        throw new TaskStateError(
          id,
          `task ${JSON.stringify(id)} cannot be cancelled: it already ${after.status === "cancelled" ? "was cancelled" : after.status}`,
        );
      if (outcome === "requested") options.onCancel?.(after.seq);
      // the cancel just wrote the record: its updatedAt is the store's clock as of now
      return toTaskInfo(taskView(after, after.updatedAt));
    },
    async schedule(name, o) {
      if (o === null || typeof o !== "object")
        throw new ConfigError("options", "schedule needs an options object: { cron, kind, payload }");
      checkOptionKeys(o, SCHEDULE_KEYS);
      checkKind(name, "schedule name");
      const cron = parseCron(o.cron, o.timezone ?? null);
      const task = o.options ?? {};
      checkOptionKeys(task, SCHEDULE_TASK_KEYS, "options");
      timingOf({ ...(task.priority === undefined ? {} : { priority: task.priority }) });
      // the payload checked as an enqueue of it would be
      const payload = claimOf(o.kind, o.payload ?? {}, { key: name }, {}, undefined).payload;
      const next = cron.next(await store.now());
      if (next === null)
        throw new ConfigError("cron", `cron ${JSON.stringify(o.cron)} has no occurrence after now`);
      return toScheduleInfo(
        await store.putSchedule({
          name,
          cron: cron.expression,
          timezone: cron.timezone,
          kind: o.kind,
          payload,
          options: task,
          nextRunAt: next,
        }),
      );
    },
    async unschedule(name) {
      checkKind(name, "schedule name");
      return store.removeSchedule(name);
    },
    async schedules() {
      return (await store.schedules()).map(toScheduleInfo);
    },
    async pauseSchedule(name) {
      checkKind(name, "schedule name");
      const after = await store.setSchedulePaused(name, true);
      if (!after) throw new ScheduleNotFoundError(name, store.location);
      return toScheduleInfo(after);
    },
    async resumeSchedule(name) {
      checkKind(name, "schedule name");
      const current = await store.getSchedule(name);
      if (!current) throw new ScheduleNotFoundError(name, store.location);
      const next = parseCron(current.cron, current.timezone).next(await store.now());
      const after = await store.setSchedulePaused(name, false, next ?? current.nextRunAt);
      if (!after) throw new ScheduleNotFoundError(name, store.location);
      return toScheduleInfo(after);
    },
    ...kindControls(store),
    async close() {
      if (options.owned) await store.close();
    },
  };
}
