import { PermanentError, TaskError, TransientError } from "@taskq/processor";
import type { FailureInfo } from "@taskq/queue";

export { PoolClosedError, QueueFullError, TaskFailedError } from "@taskq/queue";
export { PermanentError, TaskError, TransientError };

/** A queue option or handler module that cannot work: thrown by `createQueue`, naming what is wrong. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "ERR_TASKQ_CONFIG";
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.option = option;
  }
}

/** A payload (or a result) that cannot be stored as JSON or sent to a thread: names the field. */
export class PayloadError extends TypeError {
  override readonly name = "PayloadError";
  readonly code = "ERR_TASKQ_PAYLOAD";
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
  // by shape, not by class: a handler may import its own copy of taskq
  const e = error as { name?: unknown; retryable?: unknown; errorClass?: unknown } | null;
  if (e && typeof e.retryable === "boolean") {
    const errorClass =
      typeof e.errorClass === "string" ? e.errorClass : e.retryable ? "transient" : "permanent";
    return { errorClass, retryable: e.retryable, message };
  }
  if (e?.name === "AbortError" || e?.name === "TimeoutError")
    return { errorClass: "timeout", retryable: true, message };
  return { errorClass: "error", retryable: true, message };
}
