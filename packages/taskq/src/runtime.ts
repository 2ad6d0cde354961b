// The built-in task types' runtime, the composition root the CLI and the bench share: the real
// packages wired together once (createQueue is the same wiring for a user's handler module).
import { resolve } from "node:path";
import {
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
import { FsObjectStore } from "@taskq/storage-sim";
import { CliError } from "./app-errors.js";
import { handlerUrl, loadHandler } from "./handler.js";
import { handlerExecutor, payloadPreparer } from "./handler-runtime.js";
import { DEFAULT_RETENTION_MS, startRetention } from "./retention.js";
import { stableKey } from "./stable-key.js";
import { ensureStoreDirectory } from "./store-location.js";

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
  /**
   * A handler module (path or URL) to run instead of the built-in task types: tasks are then its
   * payloads, plain JSON, keyed by a hash of the payload; results are stored as JSON.
   * @default the built-in task types
   */
  readonly handler?: string;
  /**
   * Keep a succeeded task's record, and deduplicate its key, this long (ms); pruned in the
   * background in small batches. 0 keeps every task forever.
   * @default 604800000 (7 days)
   */
  readonly retentionMs?: number;
}

/** The wired system. */
export interface Runtime {
  readonly config: RuntimeConfig;
  /** The task store driver the `db` location names (SQLite or PostgreSQL). */
  readonly store: TaskStoreDriver;
  readonly objects: FsObjectStore;
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
  /** Runs the built-in task types, or the handler module of `config.handler`. */
  readonly executor: ExecutorPort<unknown, unknown>;
  readonly pool: WorkerPool<unknown, unknown>;
  readonly processorConfig: ProcessorConfig;
  /** Closes the pool (draining up to `timeoutMs`), the store and the object store. */
  close(options?: { drain?: boolean; timeoutMs?: number }): Promise<void>;
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
  // a handler module is loaded and checked before anything opens: a bad one starts nothing
  const handler = config.handler ? await loadHandler(handlerUrl(config.handler), config.handler) : undefined;
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
  const logger = createLogger({ level: config.logLevel });
  let executor: ExecutorPort<unknown, unknown>;
  let taskTimeoutMs = config.taskTimeoutMs;
  if (handler && config.handler) {
    // the handler's own timeout is cooperative (ctx.signal); the pool terminates no thread
    taskTimeoutMs = 0;
    executor = handlerExecutor({
      url: handlerUrl(config.handler),
      handler,
      threads: config.executor === "inline" ? 0 : config.workers,
      concurrency: config.executor === "inline" ? config.workers * config.perWorker : config.perWorker,
      objects,
      objectsRoot: storageRoot,
      handlerOptions: undefined,
      logLevel: config.logLevel,
      timeoutMs: config.taskTimeoutMs,
      logger,
    }) as ExecutorPort<unknown, unknown>;
  } else if (config.executor === "inline") {
    const processor = await createProcessor(processorConfig);
    executor = new InlineExecutor<Task, TaskOutput>(
      (task, attempt, signal) => processor.run(task, attempt, signal),
      config.workers * config.perWorker,
    ) as ExecutorPort<unknown, unknown>;
  } else {
    executor = new TinypoolExecutor<Task, TaskOutput>({
      filename: workerUrl,
      threads: config.workers,
      concurrentTasksPerWorker: config.perWorker,
      workerData: processorConfig, // sent once per thread; each message carries the task only
      request: (task, attempt): WorkerRequest => ({ task, attempt }),
    }) as ExecutorPort<unknown, unknown>;
  }
  const metrics = new MetricsRecorder({ threads: executor.concurrency });
  const pool = new WorkerPool<unknown, unknown>({
    // a handler's payloads: plain JSON data, keyed by their hash; the built-in types: their schema
    prepare: handler ? payloadPreparer(stableKey) : (raw) => prepareTask(raw),
    ...(handler ? { toStored: (json: unknown) => ({ result: json as string | null }) } : {}),
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
    taskTimeoutMs,
  });
  store.startHeartbeat();
  const retention = startRetention(store, {
    retentionMs: config.retentionMs ?? DEFAULT_RETENTION_MS,
    logger,
  });
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
      await retention.stop();
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
