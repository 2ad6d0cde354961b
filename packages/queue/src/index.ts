export {
  BoundedQueue,
  type BoundedQueueOptions,
  type OnFull,
  type PutOptions,
  type WaitOptions,
} from "./bounded-queue.js";
export { type ClientsOptions, type ClientsSummary, runClients } from "./clients.js";
export {
  OrchestratorClosedError,
  PoolClosedError,
  QueueClosedError,
  QueueError,
  type QueueErrorCode,
  QueueFullError,
  QueueTimeoutError,
  TaskCancelledError,
  TaskFailedError,
  TaskRetryingError,
} from "./errors.js";
export { InlineExecutor, TinypoolExecutor, type TinypoolExecutorOptions } from "./executors.js";
export { type AdoptPort, Fetcher, type FetcherOptions, type FetchGroup } from "./fetcher.js";
export {
  type BreakerHookEvent,
  type CloseOptions,
  type LifecycleHooks,
  Orchestrator,
  type OrchestratorOptions,
  type StoredIdentity,
  type StoredOutput,
  type TaskEvent,
  type TaskResult,
} from "./orchestrator.js";
export type {
  AttemptOutcome,
  AttemptSpan,
  AttemptSpanInfo,
  DurableQueuePort,
  ExecutorPort,
  FailureInfo,
  LoggerPort,
  MetricsPort,
  PreparedTask,
  StoreClaim,
  StoredFailure,
  StoredParent,
  StoreRecord,
  TaskStorePort,
  TimingInfo,
  TraceCarrier,
  TracerPort,
} from "./ports.js";
export { RetryPolicy, type RetryPolicyOptions } from "./retry-policy.js";
export { RingDeque } from "./ring-deque.js";
