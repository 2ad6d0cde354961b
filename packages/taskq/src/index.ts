export type { DeadLetter, LeaseHolder, StoreStats, TaskRecord, TaskStoreDriver } from "@taskq/idempotency";
export type { MetricsReport } from "@taskq/metrics";
export type { BreakerHookEvent, ClientsSummary, CloseOptions, LifecycleHooks, TaskEvent } from "@taskq/queue";
export {
  type AttemptInfo,
  type BreakerInfo,
  type BreakerSettings,
  type Client,
  type ConnectOptions,
  connect,
  type Enqueued,
  type EnqueueManyOptions,
  type EnqueueOptions,
  type LimitsInfo,
  type LimitsOptions,
  type PgQueryable,
  type ResultOptions,
  type ScheduleInfo,
  type ScheduleOptions,
  type TaskChoices,
  type TaskInfo,
  type TaskLinkInfo,
} from "./client.js";
export { createQueue, type Queue, type SubmitManyOptions, type SubmitOptions } from "./create-queue.js";
export {
  ConfigError,
  classifyHandlerError,
  OrchestratorClosedError,
  PayloadError,
  PermanentError,
  PoolClosedError,
  QueueFullError,
  QueueTimeoutError,
  ScheduleNotFoundError,
  TaskCancelledError,
  TaskError,
  TaskFailedError,
  TaskNotFoundError,
  TaskStateError,
  TransientError,
} from "./errors.js";
export type { AfterTask, FlowParent, FlowSpec, FlowTask, IfParentFailed } from "./flow.js";
export type { Handler, HandlerContext, ParentResult } from "./handler.js";
export type { Isolation, IsolationLevel, KindIsolation } from "./isolation.js";
export type { HandlerModules } from "./kinds.js";
export type { QueueOptions, RetryOptions, RunOptions } from "./options.js";
export type { ProgressOptions, TaskLogInfo } from "./progress-watch.js";
export { stableKey } from "./stable-key.js";
export type {
  AnyKinds,
  EnqueuedFlow,
  EnqueuedKind,
  FlowTaskOf,
  HandlerModulesOf,
  HandlerOf,
  KindMap,
  KindOf,
  KindsOf,
  KindTypes,
  PayloadOf,
  ResultOf,
  ResultOfId,
  TaskId,
} from "./typed-kinds.js";
export { createWorker, type Worker, type WorkerOptions } from "./worker.js";
