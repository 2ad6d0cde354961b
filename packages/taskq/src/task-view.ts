// One view of a task, for everything that shows one: `client.get` (as a TaskInfo, dates as Date),
// `taskq status` (its lines and its --json) and the dashboard's task pages. What two readers could
// decide differently is decided here, once: whether a queued task is scheduled (by the store's
// clock, never the reader's: on PostgreSQL the database's), how long its attempt ran, and its result
// parsed from the JSON the store keeps.
import type { AttemptRecord, LinkedTask, TaskRecord, TaskStoreDriver } from "@taskq/idempotency";

/** Where a task stands in time, as of the store's clock. */
export interface TaskTiming {
  /** A queued task not due yet (delayed, or backing off before a retry). */
  readonly scheduled: boolean;
  /** Queued: ms until it is due (negative or 0: due that long ago, waiting for a worker). Else null. */
  readonly dueInMs: number | null;
  /**
   * How long its latest attempt ran: to its end (succeeded, failed, or cancelled while it ran), or
   * so far (running). Null when no attempt is running or ended one (queued; cancelled while queued).
   */
  readonly runMs: number | null;
}

/**
 * A task record as it is shown: the record's own fields (times in epoch ms, by the store's clock),
 * its `result` parsed, and what follows from them as of `asOf`.
 */
export interface TaskView extends Omit<TaskRecord, "result" | "parents">, TaskTiming {
  /**
   * The handler's result, parsed from its stored JSON (text that is not JSON stays text);
   * undefined when there is none.
   */
  readonly result: unknown;
  /**
   * A cancel was asked for while it ran: it is still `running` until the worker holding it ends it
   * (`cancelled`), or its attempt finished first.
   */
  readonly cancelRequested: boolean;
  /** The store's clock when the view was made (epoch ms): `scheduled`, `dueInMs` and a running task's `runMs` are as of then. */
  readonly asOf: number;
  /** Every attempt, oldest first (see attemptViews), when they were read (readTaskView); else undefined. */
  readonly attemptHistory: readonly AttemptView[] | undefined;
  /**
   * Its parents and children in a workflow (issue 35), read by readTaskView only for a task that
   * has any (`waitingFor` not null, or `hasChildren`); else empty.
   */
  readonly parents?: readonly LinkView[];
  readonly children?: readonly LinkView[];
}

/** A parent or child of a task, as readers show it (a link to it). */
export type LinkView = Pick<LinkedTask, "seq" | "id" | "kind" | "status" | "runAnyway">;

/**
 * One attempt of a task: those that ended other than in success are kept in the store
 * (`store.attempts`), the running or succeeded one is the task row's own.
 */
export interface AttemptView {
  /** Its number, from 1 (they start again after a re-drive). */
  readonly attempt: number;
  readonly outcome: AttemptRecord["outcome"] | "running" | "succeeded";
  /** Epoch ms by the store's clock; null when unknown (kept by a store made before attempts were). */
  readonly startedAt: number | null;
  /** Null while it runs. */
  readonly finishedAt: number | null;
  /** To its end, or so far while it runs; null when its start is unknown. */
  readonly durationMs: number | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  /** The error's stack, bounded (MAX_STACK characters). */
  readonly errorStack: string | null;
  /** The worker (its owner id) that ran it. */
  readonly worker: string | null;
}

/** An attempt's outcome in words, as every reader says it (status, the task page). */
export const ATTEMPT_OUTCOMES: Readonly<Record<AttemptView["outcome"], string>> = {
  running: "running",
  succeeded: "succeeded",
  retried: "failed, retried",
  failed: "failed, dead-lettered",
  released: "handed back (its worker closed)",
  cancelled: "cancelled while it ran",
  lost: "lost (its worker stopped)",
};

/** A task's attempts, oldest first: the kept ones (`stored`), then the running or succeeded one. */
export function attemptViews(
  record: Pick<TaskRecord, "status" | "attempts" | "startedAt" | "finishedAt" | "leaseOwner">,
  stored: readonly AttemptRecord[],
  storeNow: number,
): AttemptView[] {
  const views: AttemptView[] = stored.map((a) => ({
    attempt: a.attempt,
    outcome: a.outcome,
    startedAt: a.startedAt,
    finishedAt: a.finishedAt,
    durationMs: a.startedAt === null ? null : Math.max(0, a.finishedAt - a.startedAt),
    errorClass: a.errorClass,
    errorMessage: a.errorMessage,
    errorStack: a.errorStack,
    worker: a.worker,
  }));
  if ((record.status === "running" || record.status === "succeeded") && record.attempts > 0) {
    const end = record.status === "running" ? null : record.finishedAt;
    views.push({
      attempt: record.attempts,
      outcome: record.status,
      startedAt: record.startedAt,
      finishedAt: end,
      durationMs: record.startedAt === null ? null : Math.max(0, (end ?? storeNow) - record.startedAt),
      errorClass: null,
      errorMessage: null,
      errorStack: null,
      worker: record.leaseOwner,
    });
  }
  return views;
}

/**
 * `record`'s standing in time as of `storeNow`, the store's clock (`store.now()`, or the time of
 * a write the store just made, such as a cancel's `updatedAt`): the one place "scheduled" is decided.
 */
export function taskTiming(
  record: Pick<TaskRecord, "status" | "nextRunAt" | "startedAt" | "finishedAt" | "cancelRequestedAt"> & {
    readonly waitingFor?: number | null;
  },
  storeNow: number,
): TaskTiming {
  const { status, nextRunAt, startedAt, finishedAt } = record;
  // a task waiting for its parents is due once they are done: not scheduled, no due time
  const waiting = (record.waitingFor ?? 0) > 0;
  const dueInMs = status === "queued" && !waiting ? nextRunAt - storeNow : null;
  // a task cancelled while queued ran no attempt that ended then (its startedAt may be an earlier attempt's)
  const ranToItsEnd =
    status === "succeeded" ||
    status === "failed" ||
    (status === "cancelled" && record.cancelRequestedAt !== null);
  const runMs =
    startedAt === null
      ? null
      : status === "running"
        ? Math.max(0, storeNow - startedAt)
        : ranToItsEnd && finishedAt !== null
          ? Math.max(0, finishedAt - startedAt)
          : null;
  return { scheduled: dueInMs !== null && dueInMs > 0, dueInMs, runMs };
}

/**
 * The task's result, parsed from the stored text; undefined when there is none. A handler's result
 * is stored as its JSON; the built-in task types store text (`slept 100 ms`, the digits of a
 * factorial), which stays text when it is not JSON, or is a number JSON would not give back as
 * written (a factorial's 158 digits are not a float's).
 */
export function resultOf(record: Pick<TaskRecord, "result">): unknown {
  const text = record.result;
  if (text === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return typeof parsed === "number" && JSON.stringify(parsed) !== text.trim() ? text : parsed;
}

/** The task as every reader shows it, as of `storeNow`, the store's clock (see taskTiming). */
export function taskView(
  record: TaskRecord,
  storeNow: number,
  attempts?: readonly AttemptRecord[],
): TaskView {
  return {
    ...record,
    result: resultOf(record),
    cancelRequested: record.status === "running" && record.cancelRequestedAt !== null,
    ...taskTiming(record, storeNow),
    asOf: storeNow,
    attemptHistory: attempts === undefined ? undefined : attemptViews(record, attempts, storeNow),
  };
}

/** The view of one task with its every attempt read from the store (get, status, the task page). */
export async function readTaskView(
  store: TaskStoreDriver,
  record: TaskRecord,
  storeNow: number,
): Promise<TaskView & { readonly attemptHistory: readonly AttemptView[] }> {
  const inFlow = record.waitingFor !== null || record.hasChildren;
  const [attempts, links] = await Promise.all([
    store.attempts(record.seq),
    inFlow ? store.taskLinks(record.seq) : undefined,
  ]);
  const view = taskView(record, storeNow, attempts);
  const link = (l: LinkedTask): LinkView => ({
    seq: l.seq,
    id: l.id,
    kind: l.kind,
    status: l.status,
    runAnyway: l.runAnyway,
  });
  return {
    ...view,
    attemptHistory: view.attemptHistory ?? [],
    ...(links === undefined ? {} : { parents: links.parents.map(link), children: links.children.map(link) }),
  };
}

/**
 * A span of time as every reader of a task prints it (a run time, how long until it is due):
 * 850 ms, 12.3 s, 4.5 min, 2.0 h, 3.1 d; negative spans keep their sign; "" for none.
 */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/**
 * A task's attempts in words, as every reader says them: "attempt 2 of 5, running", "attempt 1
 * of 3, succeeded", "attempt 2 of 5 failed; attempt 3 next" (queued for a retry), "not tried yet
 * (up to 3 attempts)". Its `attempts` counts the attempts started, the running one included.
 */
export function attemptsInWords(
  v: Pick<TaskRecord, "status" | "attempts" | "maxAttempts" | "cancelRequestedAt">,
): string {
  const n = v.attempts;
  const of = `attempt ${n} of ${v.maxAttempts}`;
  const upTo = `up to ${v.maxAttempts} attempt${v.maxAttempts === 1 ? "" : "s"}`;
  switch (v.status) {
    case "queued":
      return n === 0 ? `not tried yet (${upTo})` : `${of} failed; attempt ${n + 1} next`;
    case "running":
      return `${of}, running`;
    case "succeeded":
      return `${of}, succeeded`;
    case "failed":
      // fewer than it may make: an error not worth retrying (its class says which)
      if (n === 0) return `failed before any attempt (${upTo})`;
      return n < v.maxAttempts ? `${of} failed, not retried` : `${of} failed, the last`;
    default:
      // cancelled: while an attempt ran (a cancel was requested), or while it waited
      if (n === 0) return `cancelled before any attempt (${upTo})`;
      return v.cancelRequestedAt !== null
        ? `${of}, cancelled while it ran`
        : `${of}, then cancelled while queued`;
  }
}
