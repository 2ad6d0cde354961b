// `taskq/app`: what the taskq command line and taskq-bench share, beyond the library's front door:
// the one composition root (openRuntime) and its worker loop (serve), the store's read model,
// the maintenance services, settings from flags, the environment and .env, and one-line errors
// with exit codes.

/**
 * From the store: redactUrl (a location as it may be printed, its password masked); everyTask and
 * everyDeadLetter (a whole store through the bounded reads, a call per 500); statusTotals
 * (statusCounts summed by status); MAX_REDRIVE (the most task seqs one redriveTasks call takes);
 * TASK_STATUSES (a task's statuses, for a filter).
 */
export {
  everyDeadLetter,
  everyTask,
  /** @deprecated Renamed WORKER_STALE_MS. */
  MANAGER_STALE_MS,
  MAX_REDRIVE,
  redactUrl,
  statusTotals,
  TASK_STATUSES,
} from "@taskq/idempotency";
export { CliError, describeError, failAsUsageError } from "./app-errors.js";
export {
  type BreakerInfo,
  type BreakerSettings,
  clientOf,
  type LimitsInfo,
  type ScheduleInfo,
} from "./client.js";
export { parseCron } from "./cron.js";
export { ConfigError } from "./errors.js";
/** A new task id as the client makes one (`task-` and a time-ordered suffix), for a task that needs its id first. */
export { nextId as newTaskId } from "./handler-runtime.js";
export {
  checkIsolation,
  type IsolatedKind,
  type Isolation,
  type IsolationLevel,
  type KindIsolation,
  KindRouter,
  MEMORY_LIMIT_MB,
} from "./isolation.js";
export { breakersOf, checkBreaker } from "./kind-controls.js";
export { BUILT_IN_KINDS, checkKind, type HandlerModules, KIND_PATTERN, kindOfModule } from "./kinds.js";
export { type RetentionOptions, retentionService } from "./maintenance/retention.js";
export {
  type ClusterGate,
  Maintenance,
  type MaintenanceOptions,
  type MaintenanceService,
} from "./maintenance/service.js";
export { WORKER_STALE_MS } from "./maintenance/worker-report.js";
export { type RunOptions, type RunSettings, resolveRunOptions } from "./options.js";
export {
  DEFAULT_COUNT_CAP,
  DEFAULT_HISTORY_MS,
  DEFAULT_WINDOW_MS,
  type HistoryOptions,
  type KindSource,
  type KnownKind,
  /** @deprecated Renamed WorkerReading. */
  type ManagerReading,
  type ReadingJson,
  type ReadOptions,
  readingJson,
  readKnownKinds,
  /** @deprecated Renamed readWorkers. */
  readManagers,
  readStore,
  readThroughput,
  readThroughputHistory,
  readWorkers,
  type StoreReading,
  storePrometheus,
  type ThroughputReading,
  unservedKinds,
  type WorkerReading,
} from "./read-model.js";
export {
  openExistingStore,
  openRuntime,
  openStore,
  openStores,
  processorConfigOf,
  type Runtime,
  type RuntimeConfig,
  type SimulationConfig,
  threadPoolsOf,
  threadsOf,
  withExistingStore,
  workerName,
} from "./runtime.js";
export {
  correlationIdFlag,
  DEFAULT_RETENTION_MS,
  deprecationNotice,
  envDefault,
  flagOf,
  groupFlag,
  integerAtLeast,
  integerAtLeastOr,
  integerRule,
  loadDotEnv,
  numberBetween,
  numberRule,
  RENAMED,
  SETTINGS,
  type SettingName,
  type SettingRule,
} from "./settings.js";
export { checkStoreLocation, ensureStoreDirectory, isNewStoreFile } from "./store-location.js";
export {
  ATTEMPT_OUTCOMES,
  type AttemptView,
  attemptsInWords,
  attemptViews,
  duration,
  readTaskView,
  resultOf,
  type TaskTiming,
  type TaskView,
  taskTiming,
  taskView,
} from "./task-view.js";
export { checkKindConcurrency, defaultPollMs, type ServeOptions, serve } from "./worker.js";
