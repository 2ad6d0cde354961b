// The front door's errors, and the ones it passes on. One scheme across the packages: every
// error class has a `name`, a `code` of the form ERR_<WHAT> (StoreError's ERR_STORE_BUSY,
// QueueError's ERR_QUEUE_FULL, ConfigError's ERR_CONFIG...), and a `cause` where it wraps one.
import { redactUrl } from "@taskq/idempotency";
import type { FailureInfo } from "@taskq/queue";

export {
  OrchestratorClosedError,
  PoolClosedError,
  QueueFullError,
  QueueTimeoutError,
  TaskCancelledError,
  TaskFailedError,
} from "@taskq/queue";

/**
 * What a handler throws to say how its failure is classified: `errorClass` names it in metrics,
 * logs and the dead letter; `retryable` decides between another attempt and the dead letters.
 */
export class TaskError extends Error {
  override readonly name: string = "TaskError";
  readonly code: "ERR_TASK_TRANSIENT" | "ERR_TASK_PERMANENT";
  readonly errorClass: string;
  readonly retryable: boolean;

  constructor(
    message: string,
    classified: { errorClass: string; retryable: boolean },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.errorClass = classified.errorClass;
    this.retryable = classified.retryable;
    this.code = classified.retryable ? "ERR_TASK_TRANSIENT" : "ERR_TASK_PERMANENT";
  }
}

/** A failure that may not happen again (a timeout, a busy service): the task is retried with backoff. */
export class TransientError extends TaskError {
  override readonly name: string = "TransientError";
  constructor(message: string, errorClass = "transient", options?: { cause?: unknown }) {
    super(message, { errorClass, retryable: true }, options);
  }
}

/** A failure that will happen again (bad input, a missing record): dead-lettered at once, never retried. */
export class PermanentError extends TaskError {
  override readonly name: string = "PermanentError";
  constructor(message: string, errorClass = "permanent", options?: { cause?: unknown }) {
    super(message, { errorClass, retryable: false }, options);
  }
}

/** A queue option or handler module that cannot work: thrown by `createQueue`, naming what is wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "ERR_CONFIG";
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.option = option;
  }
}

/** No task has this id in the store. */
export class TaskNotFoundError extends Error {
  override readonly name = "TaskNotFoundError";
  readonly code = "ERR_TASK_NOT_FOUND";
  readonly taskId: string;
  constructor(taskId: string, location: string) {
    super(`no task with id ${JSON.stringify(taskId)} in ${redactUrl(location)}`);
    this.taskId = taskId;
  }
}

/** No schedule has this name in the store. */
export class ScheduleNotFoundError extends Error {
  override readonly name = "ScheduleNotFoundError";
  readonly code = "ERR_SCHEDULE_NOT_FOUND";
  readonly scheduleName: string;
  constructor(name: string, location: string) {
    super(`no schedule named ${JSON.stringify(name)} in ${redactUrl(location)}`);
    this.scheduleName = name;
  }
}

/** A call that the task's state does not allow (cancelling a finished task). */
export class TaskStateError extends Error {
  override readonly name = "TaskStateError";
  readonly code = "ERR_TASK_STATE";
  readonly taskId: string;
  constructor(taskId: string, message: string) {
    super(message);
    this.taskId = taskId;
  }
}

/** A payload (or a result) that cannot be stored as JSON or sent to a thread: names the field. */
export class PayloadError extends TypeError {
  override readonly name = "PayloadError";
  readonly code = "ERR_PAYLOAD";
  /** Where in the value: `payload.items[2].when`. */
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.field = field;
  }
}

/**
 * How a handler's failure is classified. `TransientError` and `PermanentError` (and their
 * subclasses) say it themselves; an aborted attempt (its timeout) is a retryable `timeout`; any
 * other thrown value is retryable (class `error`) until the attempts run out, as in BullMQ and
 * pg-boss.
 */
export function classifyHandlerError(error: unknown): FailureInfo {
  const message = error instanceof Error ? error.message : String(error);
  // the stack travels with the failure to the store, which keeps it (bounded) with the attempt
  const stack = typeof (error as Error | null)?.stack === "string" ? { stack: (error as Error).stack } : {};
  // by shape, not by class: a handler may import its own copy of taskq
  const e = error as { name?: unknown; retryable?: unknown; errorClass?: unknown } | null;
  if (e && typeof e.retryable === "boolean") {
    const errorClass =
      typeof e.errorClass === "string" ? e.errorClass : e.retryable ? "transient" : "permanent";
    return { errorClass, retryable: e.retryable, message, ...stack };
  }
  if (e?.name === "AbortError" || e?.name === "TimeoutError")
    return { errorClass: "timeout", retryable: true, message, ...stack };
  return { errorClass: "error", retryable: true, message, ...stack };
}
