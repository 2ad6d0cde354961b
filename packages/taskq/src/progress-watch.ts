// What a producer sees of a running task's progress and log (issue 35): `client.progress(id)`,
// an async iterator of the progress values its handler reports, and `client.logs(id)`. Works
// across processes and on both drivers by reading the store: between looks it waits for a finish
// in the store (a notification on PostgreSQL, a finish through the same store object on SQLite)
// or for a backoff, from PROGRESS_POLL_MIN_MS up to PROGRESS_POLL_MAX_MS while nothing changes
// (a worker writes a task's progress at most every 200 ms).
import { FINISHED_STATUSES, type TaskLog, type TaskRecord, type TaskStoreDriver } from "@taskq/idempotency";

/** The first wait between looks at a task's progress, ms (again after each change seen). */
export const PROGRESS_POLL_MIN_MS = 100;
/** The longest wait between looks at a task's progress while nothing changes, ms. */
export const PROGRESS_POLL_MAX_MS = 1000;

/** Options of `client.progress`. */
export interface ProgressOptions {
  /** Stops watching: the iterator rejects with the signal's reason. @default watch until the task ends */
  readonly signal?: AbortSignal;
}

/** A task's log as `client.logs` reads it. */
export interface TaskLogInfo {
  /**
   * Its first lines (at most 1,000 a task, over every attempt), oldest first: when each was logged
   * (the worker's clock), in which attempt, and the line (cut at 2,000 characters).
   */
  readonly lines: readonly { readonly at: Date; readonly attempt: number; readonly line: string }[];
  /** How many lines were logged past the 1,000 kept, and dropped. */
  readonly dropped: number;
}

export function toTaskLogInfo(log: TaskLog): TaskLogInfo {
  return {
    lines: log.lines.map((l) => ({ at: new Date(l.at), attempt: l.attempt, line: l.line })),
    dropped: log.dropped,
  };
}

/**
 * Each progress value of the task `read` finds, as it changes: the current one first (when it
 * has one), then each new one seen, until the task has finished (its last value included). A
 * value is yielded when its JSON differs from the last one yielded; values written between two
 * looks are not all seen (the last wins, as in the store). Ends when the task finishes; rejects
 * with the signal's reason once it aborts, and with what `read` throws (an unknown task).
 */
export async function* watchProgress(
  store: TaskStoreDriver,
  read: () => Promise<TaskRecord>,
  options: ProgressOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  const { signal } = options;
  let last: string | undefined;
  let waitMs = PROGRESS_POLL_MIN_MS;
  for (;;) {
    signal?.throwIfAborted();
    const record = await read();
    const json = record.progress === null ? undefined : JSON.stringify(record.progress);
    if (json !== undefined && json !== last) {
      last = json;
      waitMs = PROGRESS_POLL_MIN_MS;
      yield record.progress;
    } else waitMs = Math.min(PROGRESS_POLL_MAX_MS, Math.round(waitMs * 1.5));
    if (FINISHED_STATUSES.has(record.status)) return;
    await store.waitForChange(waitMs, signal);
  }
}
