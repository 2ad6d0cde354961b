export { ensureDirectory } from "./ensure-directory.js";
export { StorageError, type StorageErrorCode } from "./errors.js";
export type { FileIoMode } from "./file-io.js";
export { FsObjectStore, type FsStoreOptions } from "./fs-store.js";
export { assertValidBucket, assertValidKey, describeKey, MAX_KEY_BYTES } from "./keys.js";
export { MemoryObjectStore, type MemoryStoreOptions } from "./memory-store.js";
export {
  type CallOptions,
  DEFAULT_CHUNK_SIZE,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutResult,
} from "./object-store.js";
export { createRng, deriveSeed, type Random } from "./rng.js";
export { SimulatedObjectStore, type SimulationOptions } from "./simulated-store.js";
