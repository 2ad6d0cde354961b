// The composition root both apps share: the real packages wired together once.
import { dirname, resolve } from "node:path";
import {
  isPostgresUrl,
  type OpenTaskStoreOptions,
  openTaskStore,
  StoreError,
  type TaskStoreDriver,
} from "@taskq/idempotency";
import { createLogger, type Logger, MetricsRecorder } from "@taskq/metrics";
import {
  createProcessor,
  type ProcessorConfig,
  prepareTask,
  type Task,
  type TaskOutput,
  type WorkerRequest,
  workerUrl,
} from "@taskq/processor";
import { type ExecutorPort, InlineExecutor, type OnFull, TinypoolExecutor, WorkerPool } from "@taskq/queue";
import { ensureDirectory, FsObjectStore } from "@taskq/storage-sim";
import { CliError } from "./errors.js";

/** Everything a runtime is built from. */
export interface RuntimeConfig {
  /** The task store: a SQLite file, `:memory:`, or a `postgres://` URL. */
  readonly db: string;
  readonly storage: string;
  readonly workers: number;
  readonly perWorker: number;
  readonly queueSize: number;
  readonly onFull: OnFull;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly taskTimeoutMs: number;
  readonly baseLatencyMs: number;
  readonly jitterMs: number;
  readonly errorRate: number;
  readonly seed: number;
  readonly chunkSize: number;
  readonly leaseMs: number;
  readonly logLevel: string;
  /**
   * `threads`: tinypool worker threads; `inline`: on the main thread (no-op overhead runs).
   * @default "threads"
   */
  readonly executor?: "threads" | "inline";
}

/** The wired system. */
export interface Runtime {
  readonly config: RuntimeConfig;
  /** The task store driver the `db` location names (SQLite or PostgreSQL). */
  readonly store: TaskStoreDriver;
  readonly objects: FsObjectStore;
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
  readonly executor: ExecutorPort<Task, TaskOutput>;
  readonly pool: WorkerPool<Task, TaskOutput>;
  readonly processorConfig: ProcessorConfig;
  /** Closes the pool (draining up to `timeoutMs`), the store and the object store. */
  close(options?: { drain?: boolean; timeoutMs?: number }): Promise<void>;
}

/** Creates a SQLite store's directory when missing (a failure is left to the store's own clear error). */
export async function ensureStoreDirectory(db: string): Promise<void> {
  if (db === ":memory:" || isPostgresUrl(db)) return;
  await ensureDirectory(dirname(resolve(db))).catch(() => undefined);
}

/** Opens the task store (SQLite or PostgreSQL, by `db`) and the object store; nothing else starts. */
export async function openStores(
  config: Pick<RuntimeConfig, "db" | "storage" | "chunkSize" | "maxRetries" | "leaseMs">,
  options: Pick<OpenTaskStoreOptions, "checkpoint"> = {},
) {
  await ensureStoreDirectory(config.db);
  const store = await openTaskStore(config.db, {
    maxAttempts: config.maxRetries,
    leaseMs: config.leaseMs,
    ...options,
  });
  try {
    const objects = await FsObjectStore.open({ root: config.storage, chunkSize: config.chunkSize });
    return { store, objects };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Builds the whole chain: store, object store, processor config, executor, metrics, logger, pool. */
export async function openRuntime(config: RuntimeConfig): Promise<Runtime> {
  // a long-running writer: checkpoints on their own thread, off the commits' path
  const { store, objects } = await openStores(config, { checkpoint: "background" });
  const storageRoot = resolve(config.storage);
  const processorConfig: ProcessorConfig = {
    key: JSON.stringify([
      storageRoot,
      config.chunkSize,
      config.baseLatencyMs,
      config.jitterMs,
      config.errorRate,
      config.seed,
    ]),
    storage: { kind: "fs", root: storageRoot },
    chunkSize: config.chunkSize,
    simulation: { baseLatencyMs: config.baseLatencyMs, jitterMs: config.jitterMs, seed: config.seed },
    faults: { errorProbability: config.errorRate, seed: config.seed },
  };
  let executor: ExecutorPort<Task, TaskOutput>;
  if (config.executor === "inline") {
    const processor = await createProcessor(processorConfig);
    executor = new InlineExecutor<Task, TaskOutput>(
      (task, attempt, signal) => processor.run(task, attempt, signal),
      config.workers * config.perWorker,
    );
  } else {
    executor = new TinypoolExecutor<Task, TaskOutput>({
      filename: workerUrl,
      threads: config.workers,
      concurrentTasksPerWorker: config.perWorker,
      workerData: processorConfig, // sent once per thread; each message carries the task only
      request: (task, attempt): WorkerRequest => ({ task, attempt }),
    });
  }
  const metrics = new MetricsRecorder({ threads: executor.concurrency });
  const logger = createLogger({ level: config.logLevel });
  const pool = new WorkerPool<Task, TaskOutput>({
    prepare: (raw) => prepareTask(raw),
    store,
    executor,
    metrics,
    logger,
    queueSize: config.queueSize,
    onFull: config.onFull,
    retry: {
      maxAttempts: config.maxRetries,
      baseDelayMs: config.retryBaseMs,
      maxDelayMs: Math.max(config.retryBaseMs, config.retryMaxMs),
    },
    taskTimeoutMs: config.taskTimeoutMs,
  });
  store.startHeartbeat();
  return {
    config,
    store,
    objects,
    metrics,
    logger,
    executor,
    pool,
    processorConfig,
    async close(options = {}) {
      await pool.close(options);
      await store.close();
      // The worker threads are gone: a put they had started (a forced stop) left a temp file.
      await objects.sweepTemporaryFiles({ includeThisProcess: true });
      await objects.dispose();
      logger.flush();
    },
  };
}

/**
 * Opens an existing store for reading commands (status, monitor, dlq): never creates one,
 * recovers nothing.
 */
export async function openExistingStore(db: string): Promise<TaskStoreDriver> {
  try {
    return await openTaskStore(db, { recover: false, create: false });
  } catch (error) {
    if (error instanceof StoreError && error.code === "ERR_NOT_FOUND") throw new CliError(error.message, 1);
    throw error;
  }
}

/** Runs `fn` on an existing store and closes it after. */
export async function withExistingStore<T>(
  db: string,
  fn: (store: TaskStoreDriver) => Promise<T>,
): Promise<T> {
  const store = await openExistingStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
