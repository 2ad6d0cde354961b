export { BatchedTaskStore, type BatchOptions } from "./batched-task-store.js";
export { DEFAULT_ATTEMPTS, DEFAULT_LEASE_MS } from "./defaults.js";
export type { BatchCounters, LeaseHolder, TaskStoreDriver } from "./driver.js";
export { StaleTransitionError, StoreError, type StoreErrorCode } from "./errors.js";
export { isPostgresUrl, type OpenTaskStoreOptions, openTaskStore } from "./open-task-store.js";
export { isDeadLocalOwner, newOwnerId } from "./owner.js";
export { redactUrl } from "./redact-url.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
export { STORE_LOCATION_FORMS, storeLocationProblem } from "./store-location.js";
export { TaskStore, type TaskStoreOptions } from "./task-store.js";
export type {
  ClaimInput,
  ClaimResult,
  DeadLetter,
  Started,
  StoreStats,
  TaskFailure,
  TaskRecord,
  TaskResultData,
  TaskStatus,
} from "./types.js";
export { MAX_ID_LENGTH, MAX_KEY_LENGTH, MAX_PAYLOAD_BYTES } from "./validate.js";
