/** Machine-readable reasons a queue or orchestrator call can fail. */
export type QueueErrorCode =
  | "ERR_QUEUE_FULL"
  | "ERR_QUEUE_CLOSED"
  | "ERR_QUEUE_TIMEOUT"
  | "ERR_POOL_CLOSED"
  | "ERR_TASK_FAILED"
  | "ERR_TASK_CANCELLED"
  | "ERR_TASK_RETRYING";

/** Base class of the queue package's errors. */
export class QueueError extends Error {
  override readonly name: string = "QueueError";
  readonly code: QueueErrorCode;
  constructor(code: QueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The queue was full and the producer asked not to wait (`onFull: "reject"`). */
export class QueueFullError extends QueueError {
  override readonly name = "QueueFullError";
  constructor(maxSize: number) {
    super("ERR_QUEUE_FULL", `queue is full (${maxSize} items): task rejected`);
  }
}

/** The queue was closed: no more puts; takers get this once it is drained. */
export class QueueClosedError extends QueueError {
  override readonly name = "QueueClosedError";
  constructor() {
    super("ERR_QUEUE_CLOSED", "queue is closed");
  }
}

/** A wait for space or for an item ran past its `timeoutMs`. */
export class QueueTimeoutError extends QueueError {
  override readonly name = "QueueTimeoutError";
  constructor(what: string, timeoutMs: number) {
    super("ERR_QUEUE_TIMEOUT", `${what} timed out after ${timeoutMs} ms`);
  }
}

/**
 * The orchestrator is closing or closed; the task was not run here (its record stays queued).
 * Its code is still `ERR_POOL_CLOSED`, the name it had when the orchestrator was the worker pool:
 * a code is what callers compare, so it stays.
 */
export class OrchestratorClosedError extends QueueError {
  override readonly name = "OrchestratorClosedError";
  constructor(detail = "the orchestrator is closed") {
    super("ERR_POOL_CLOSED", detail);
  }
}

/** @deprecated The class is `OrchestratorClosedError` now (the worker pool became the `Orchestrator`). */
export const PoolClosedError = OrchestratorClosedError;
/** @deprecated The class is `OrchestratorClosedError` now (the worker pool became the `Orchestrator`). */
export type PoolClosedError = OrchestratorClosedError;

/** A task failed for good: permanently, or out of attempts. It is in the dead letters. */
export class TaskFailedError extends QueueError {
  override readonly name = "TaskFailedError";
  readonly taskId: string;
  readonly errorClass: string;
  readonly attempts: number;
  constructor(taskId: string, errorClass: string, attempts: number, message: string) {
    super(
      "ERR_TASK_FAILED",
      `task ${JSON.stringify(taskId)} failed (${errorClass}, ${attempts} attempt${attempts === 1 ? "" : "s"}): ${message}`,
    );
    this.taskId = taskId;
    this.errorClass = errorClass;
    this.attempts = attempts;
  }
}

/** A task was cancelled before it finished (`client.cancel(id)`): it is `cancelled` in the store. */
export class TaskCancelledError extends QueueError {
  override readonly name = "TaskCancelledError";
  readonly taskId: string;
  constructor(taskId: string) {
    super("ERR_TASK_CANCELLED", `task ${JSON.stringify(taskId)} was cancelled`);
    this.taskId = taskId;
  }
}

/**
 * An attempt of a task taken from the durable queue failed and the task went back to the store's
 * queue, due after its backoff: it runs again from there (`adopt`'s promise settles with this).
 */
export class TaskRetryingError extends QueueError {
  override readonly name = "TaskRetryingError";
  readonly taskId: string;
  readonly attempt: number;
  readonly retryInMs: number;
  constructor(taskId: string, attempt: number, retryInMs: number) {
    super(
      "ERR_TASK_RETRYING",
      `task ${JSON.stringify(taskId)} failed attempt ${attempt}; queued again in ${Math.round(retryInMs)} ms`,
    );
    this.taskId = taskId;
    this.attempt = attempt;
    this.retryInMs = retryInMs;
  }
}
