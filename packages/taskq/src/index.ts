export type { DeadLetter, LeaseHolder, StoreStats, TaskRecord, TaskStoreDriver } from "@taskq/idempotency";
export type { MetricsReport } from "@taskq/metrics";
export type { ClientsSummary, CloseOptions } from "@taskq/queue";
export { createQueue, type Queue, type SubmitManyOptions, type SubmitOptions } from "./create-queue.js";
export {
  ConfigError,
  classifyHandlerError,
  PayloadError,
  PermanentError,
  PoolClosedError,
  QueueFullError,
  TaskError,
  TaskFailedError,
  TransientError,
} from "./errors.js";
export type { Handler, HandlerContext } from "./handler.js";
export type { QueueOptions, RetryOptions, RunOptions } from "./options.js";
export { stableKey } from "./stable-key.js";
