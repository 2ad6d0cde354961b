// `@taskq/idempotency`: the task store contract, its SQLite driver, and openTaskStore (which loads
// the PostgreSQL driver, `@taskq/idempotency/postgres`, only for a postgres:// URL). Re-exports
// only, by name.

export type { BreakerCount, BreakerEvent, BreakerOptions, BreakerState } from "./breaker.js";
export { breakerParams, DEFAULT_BREAKER_COOLDOWN_MS, DEFAULT_BREAKER_WINDOW_MS } from "./breaker.js";
export {
  DEFAULT_ATTEMPTS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_BATCH,
  /** @deprecated Renamed WORKER_STALE_MS. */
  MANAGER_STALE_MS,
  PRIORITY_AGING_MS,
  WORKER_STALE_MS,
} from "./defaults.js";
export type { BatchCounters, LeaseHolder, TaskStoreDriver } from "./driver.js";
export { StaleTransitionError, StoreError, type StoreErrorCode } from "./errors.js";
export {
  checkFlow,
  FINISHED_STATUSES,
  FLOW_WAITING_AT,
  type FlowTaskInput,
  type LinkedTask,
  MAX_FLOW_TASKS,
  MAX_PARENTS,
  type TaskDependency,
  type TaskLinks,
} from "./flows.js";
export type { KindLimitState } from "./limits.js";
export { isPostgresUrl, type OpenTaskStoreOptions, openTaskStore } from "./open-task-store.js";
export { isDeadLocalOwner, newOwnerId } from "./owner.js";
export {
  type EveryTaskFilter,
  everyDeadLetter,
  everyTask,
  type StatusTotals,
  statusTotals,
  storeStatsOf,
} from "./read-all.js";
export { redactLocationIn, redactUrl } from "./redact-url.js";
export { type Migration, SCHEMA_VERSION } from "./sql/migrations.js";
export { SQLITE_MIGRATIONS } from "./sqlite/migrations.js";
export { type SqliteStoreOptions, SqliteSyncStore } from "./sqlite/sqlite-sync-store.js";
export { type BatchOptions, SqliteTaskStore } from "./sqlite/sqlite-task-store.js";
export { STORE_LOCATION_FORMS, storeLocationProblem } from "./store-location.js";
export {
  LOG_LINE_MAX_CHARS,
  LOG_MAX_LINES,
  PROGRESS_MAX_BYTES,
  progressTooLarge,
  type TaskLog,
  type TaskLogEntry,
  type TaskLogLine,
  type TaskReport,
} from "./task-reports.js";
export type {
  AttemptRecord,
  CancelOutcome,
  ClaimInput,
  ClaimResult,
  CountedStatus,
  DeadLetter,
  DeadLetterListQuery,
  FinishedBucket,
  FinishedHistory,
  FinishedHistoryQuery,
  FinishedSample,
  KindLimits,
  KindStatusCounts,
  /** @deprecated Renamed WorkerInfo. */
  ManagerInfo,
  /** @deprecated Renamed WorkerRecord. */
  ManagerRecord,
  PerGroupLimits,
  RateLimit,
  RecentFinished,
  ScheduleFiring,
  ScheduleInput,
  ScheduleRecord,
  ScheduleTaskOptions,
  Started,
  StatusCounts,
  StoreStats,
  TakeOptions,
  TaskFailure,
  TaskListQuery,
  TaskRecord,
  TaskResultData,
  TaskStatus,
  TraceCarrier,
  WorkerInfo,
  WorkerRecord,
} from "./types.js";
export { COUNTED_STATUSES, TASK_STATUSES } from "./types.js";
export {
  checkCorrelationId,
  checkGroup,
  checkTag,
  KIND_PATTERN,
  MAX_CORRELATION_ID_LENGTH,
  MAX_COUNT_CAP,
  MAX_ID_LENGTH,
  MAX_KEY_LENGTH,
  MAX_PAGE,
  MAX_PAYLOAD_BYTES,
  MAX_REDRIVE,
  MAX_SAMPLES,
  MAX_STACK,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  parseTraceparent,
} from "./validate.js";
