/**
 * How a failure is classified. `transient`, `timeout` and `worker_crash` are retryable; the
 * rest are not.
 */
export type ErrorClass =
  | "transient"
  | "timeout"
  | "worker_crash"
  | "permanent"
  | "validation"
  | "not_found"
  | "corrupt_input"
  /** A task of a kind nothing here runs (as a handler module's task of a kind the worker has no handler for). */
  | "unknown_kind"
  | "internal";

/** Base class of the processor's errors: a class for metrics and a retry decision. */
export class TaskError extends Error {
  override readonly name: string = "TaskError";
  /** The scheme every taskq error follows (the front door's handler errors have the same codes). */
  readonly code: "ERR_TASK_TRANSIENT" | "ERR_TASK_PERMANENT";
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;

  constructor(message: string, errorClass: ErrorClass, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.errorClass = errorClass;
    this.retryable = retryable;
    this.code = retryable ? "ERR_TASK_TRANSIENT" : "ERR_TASK_PERMANENT";
  }
}

/** A failure that may not happen again: retry it (timeouts, injected faults, storage slow-downs). */
export class TransientError extends TaskError {
  override readonly name: string = "TransientError";
  constructor(message: string, errorClass: ErrorClass = "transient", options?: { cause?: unknown }) {
    super(message, errorClass, true, options);
  }
}

/** A failure that will happen again: never retry it (bad input, missing source, corrupt image, `fail`). */
export class PermanentError extends TaskError {
  override readonly name: string = "PermanentError";
  constructor(message: string, errorClass: ErrorClass = "permanent", options?: { cause?: unknown }) {
    super(message, errorClass, false, options);
  }
}

/** A task that does not match the schema: names the task and the field. */
export class ValidationError extends PermanentError {
  override readonly name = "ValidationError";
  readonly taskId: string | undefined;
  readonly field: string | undefined;
  constructor(message: string, details: { taskId?: string | undefined; field?: string | undefined } = {}) {
    super(message, "validation");
    this.taskId = details.taskId;
    this.field = details.field;
  }
}

/** A task that ran past its timeout and was cancelled. */
export class TimeoutError extends TransientError {
  override readonly name = "TimeoutError";
  constructor(message: string) {
    super(message, "timeout");
  }
}

/** What a failure comes to, in plain data that crosses a thread boundary intact. */
export interface Classified {
  readonly errorClass: ErrorClass;
  readonly retryable: boolean;
  readonly message: string;
}

/**
 * Classifies any error: the processor's own errors carry their class; storage errors are
 * transient when retryable, `not_found` or `validation` otherwise; anything else with a boolean
 * `retryable` (the task store's busy error) follows it; the rest is an `internal` permanent error.
 */
export function classify(error: unknown): Classified {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TaskError)
    return { errorClass: error.errorClass, retryable: error.retryable, message };
  const e = error as { name?: unknown; code?: unknown; retryable?: unknown } | null;
  if (e && e.name === "StorageError") {
    if (e.retryable === true) return { errorClass: "transient", retryable: true, message };
    if (e.code === "ERR_NOT_FOUND") return { errorClass: "not_found", retryable: false, message };
    return { errorClass: "validation", retryable: false, message };
  }
  if (e && e.name === "AbortError") return { errorClass: "timeout", retryable: true, message };
  if (e && typeof e.retryable === "boolean") {
    return { errorClass: e.retryable ? "transient" : "permanent", retryable: e.retryable, message };
  }
  return { errorClass: "internal", retryable: false, message };
}
