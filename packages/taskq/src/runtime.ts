// The one composition root: the real packages wired together once, for every entry point.
// `createQueue` (a user's handler module), the CLI's `run` and `serve`, and the bench all build
// their runtime here: store, object store, executor, metrics, orchestrator, maintenance.
import { hostname } from "node:os";
import { resolve } from "node:path";
import {
  type OpenTaskStoreOptions,
  openTaskStore,
  StoreError,
  type TaskStoreDriver,
} from "@taskq/idempotency";
import { createLogger, MetricsRecorder } from "@taskq/metrics";
import {
  createProcessor,
  type ProcessorConfig,
  prepareTask,
  type Task,
  type TaskOutput,
  type WorkerRequest,
  workerUrl,
} from "@taskq/processor";
import {
  type ExecutorPort,
  InlineExecutor,
  type LifecycleHooks,
  type LoggerPort,
  Orchestrator,
  type StoredIdentity,
  TinypoolExecutor,
} from "@taskq/queue";
import { FsObjectStore } from "@taskq/storage-sim";
import { CliError } from "./app-errors.js";
import { ConfigError } from "./errors.js";
import { HandlerProcesses } from "./handler-processes.js";
import { handlerExecutor, payloadPreparer, threadPoolWarning } from "./handler-runtime.js";
import { checkIsolation, type IsolatedKind, type Isolation, KindRouter } from "./isolation.js";
import { findNonJson } from "./json-value.js";
import { checkKind, type HandlerModules, type KindRegistry, kindOfModule, registerKinds } from "./kinds.js";
import { cancelWatchService } from "./maintenance/cancel-watch.js";
import { retentionService } from "./maintenance/retention.js";
import { schedulerService } from "./maintenance/scheduler.js";
import { Maintenance, type MaintenanceService } from "./maintenance/service.js";
import { workerReportService } from "./maintenance/worker-report.js";
import type { RunSettings } from "./options.js";
import { TaskReporter } from "./report-sink.js";
import { SETTINGS } from "./settings.js";
import { stableKey } from "./stable-key.js";
import { ensureStoreDirectory } from "./store-location.js";
import { attemptTracer, loadOtel } from "./tracing.js";

/** What the built-in task types' simulated storage does (the seed's workload). */
export interface SimulationConfig {
  readonly baseLatencyMs: number;
  readonly jitterMs: number;
  readonly errorRate: number;
  readonly seed: number;
}

/** Everything a runtime is built from: the run settings, where the stores are, and what runs tasks. */
export interface RuntimeConfig extends RunSettings, Partial<SimulationConfig> {
  /** The task store: a SQLite file, `:memory:`, or a `postgres://` URL. */
  readonly store: string;
  /**
   * The object store directory (`ctx.objects` for a handler; the images of the built-in types).
   * @default none for a handler module; required for the built-in task types
   */
  readonly storage?: string;
  /** Bytes per streamed chunk of the object store. @default 65536 */
  readonly chunkSize?: number;
  /**
   * Handler modules by kind, to run instead of the built-in task types: tasks are then their
   * payloads, plain JSON, keyed by `key(payload)` within their kind; results are stored as JSON.
   * @default the built-in task types
   */
  readonly handlers?: HandlerModules;
  /** One handler module, of the kind `kind` (or its file name): `handlers` with one entry. */
  readonly handler?: string | URL;
  /** The kind of `handler`'s tasks. @default the module's file name without its extension */
  readonly kind?: string;
  /** Called as tasks move through their lifecycle (started, succeeded, retrying, dead-lettered, cancelled). */
  readonly hooks?: LifecycleHooks;
  /** A handler's idempotency key. @default a SHA-256 of the payload's JSON with sorted keys */
  readonly key?: (payload: unknown) => string;
  /** Plain data every handler gets as `ctx.options`. @default undefined */
  readonly handlerOptions?: unknown;
  /** Handler kinds that run apart from the others, in threads or processes of their own (see Isolation). @default none */
  readonly isolation?: Isolation;
  /** Where the runtime logs. @default a pino logger at `logLevel` on stderr */
  readonly logger?: LoggerPort & { flush?: () => void };
  /**
   * The worker's name, for people: shown beside its id (host:pid:nonce) by monitor and the
   * dashboard; 1-100 printable characters. @default the host name
   */
  readonly name?: string;
}

/** A worker's name as given (checked: 1-100 printable characters), or the host name. */
export function workerName(name: unknown, option = "name"): string {
  if (name === undefined) return hostname();
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > 100 ||
    !/^[\x20-\x7e\u00a0-\uffff]+$/.test(name)
  )
    throw new ConfigError(
      option,
      `${option} must be 1-100 printable characters, got ${JSON.stringify(name)}`,
    );
  return name;
}

/** The wired system. */
export interface Runtime {
  readonly config: RuntimeConfig;
  /** The task store driver the `config.store` location names (SQLite or PostgreSQL). */
  readonly store: TaskStoreDriver;
  readonly objects: FsObjectStore | undefined;
  readonly metrics: MetricsRecorder;
  readonly logger: LoggerPort;
  /** Runs the built-in task types, or the handler modules of `config.handlers`. */
  readonly executor: ExecutorPort<unknown, unknown>;
  /** The kinds it runs and what runs each: its handler modules, or the built-in task types. */
  readonly registry: KindRegistry;
  /** The kinds it runs (`registry.kinds`): its handlers' kinds, or the built-in task types'. */
  readonly kinds: readonly string[];
  readonly orchestrator: Orchestrator<unknown, unknown>;
  /**
   * The background services: the worker report, the cancel watch, the scheduler (each per
   * process) and retention (once per cluster).
   */
  readonly maintenance: Maintenance;
  /** The built-in task types' processor settings (undefined with a handler module). */
  readonly processorConfig: ProcessorConfig | undefined;
  /** Closes the orchestrator (draining up to `timeoutMs`), the maintenance, the store and the object store. */
  close(options?: { drain?: boolean; timeoutMs?: number }): Promise<void>;
}

/** Opens the task store (SQLite or PostgreSQL, by `store`), creating a SQLite file's directory. */
export async function openStore(
  config: Pick<RuntimeConfig, "store" | "attempts" | "leaseMs">,
  options: Pick<OpenTaskStoreOptions, "checkpoint"> = {},
): Promise<TaskStoreDriver> {
  await ensureStoreDirectory(config.store);
  return openTaskStore(config.store, { maxAttempts: config.attempts, leaseMs: config.leaseMs, ...options });
}

/** Opens the task store and the object store; nothing else starts. */
export async function openStores(
  config: Pick<RuntimeConfig, "store" | "attempts" | "leaseMs" | "chunkSize"> & { readonly storage: string },
  options: Pick<OpenTaskStoreOptions, "checkpoint"> = {},
) {
  const store = await openStore(config, options);
  try {
    const objects = await openObjects(config.storage, config.chunkSize);
    return { store, objects };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function openObjects(root: string, chunkSize: number | undefined): Promise<FsObjectStore> {
  return FsObjectStore.open({ root, chunkSize: chunkSize ?? SETTINGS.chunkSize.default });
}

/** The built-in task types' processor settings: where their objects are, and the simulation. */
export function processorConfigOf(config: RuntimeConfig, storageRoot: string): ProcessorConfig {
  const chunkSize = config.chunkSize ?? SETTINGS.chunkSize.default;
  const simulation = {
    baseLatencyMs: config.baseLatencyMs ?? SETTINGS.baseLatencyMs.default,
    jitterMs: config.jitterMs ?? SETTINGS.jitterMs.default,
    seed: config.seed ?? SETTINGS.seed.default,
  };
  const errorRate = config.errorRate ?? SETTINGS.errorRate.default;
  return {
    key: JSON.stringify([
      storageRoot,
      chunkSize,
      simulation.baseLatencyMs,
      simulation.jitterMs,
      errorRate,
      simulation.seed,
    ]),
    storage: { kind: "fs", root: storageRoot },
    chunkSize,
    simulation,
    faults: { errorProbability: errorRate, seed: simulation.seed },
  };
}

/** What runs the attempts of the registry's kinds: its handler modules, or the built-in types, on threads or inline. */
async function buildExecutor(
  config: RuntimeConfig,
  registry: KindRegistry,
  objects: FsObjectStore | undefined,
  processorConfig: ProcessorConfig | undefined,
  logger: LoggerPort,
  isolation: readonly IsolatedKind[] | undefined,
  reporter: TaskReporter | undefined,
): Promise<ExecutorPort<unknown, unknown>> {
  if (!registry.builtIn) {
    return handlerExecutor({
      ...(reporter ? { reporter } : {}),
      ...(isolation ? { isolation } : {}),
      kinds: registry.modules,
      threads: config.threads,
      concurrency: config.concurrency,
      objects,
      objectsRoot: objects?.root,
      handlerOptions: config.handlerOptions,
      logLevel: config.logLevel,
      timeoutMs: config.timeoutMs,
      logger,
    }) as ExecutorPort<unknown, unknown>;
  }
  const processor = processorConfig as ProcessorConfig;
  if (config.threads === 0) {
    const run = await createProcessor(processor);
    return new InlineExecutor<Task, TaskOutput>(
      (task, attempt, signal) => run.run(task, attempt, signal),
      config.concurrency,
    ) as ExecutorPort<unknown, unknown>;
  }
  return new TinypoolExecutor<Task, TaskOutput>({
    filename: workerUrl,
    threads: config.threads,
    concurrentTasksPerThread: config.concurrency,
    workerData: processor, // sent once per thread; each message carries the task only
    request: (task, attempt): WorkerRequest => ({ task, attempt }),
    onError: threadPoolWarning(logger),
  }) as ExecutorPort<unknown, unknown>;
}

/**
 * Builds the whole chain: store, object store, executor, metrics, orchestrator, and the
 * maintenance services (retention, once per cluster). A handler module is loaded and checked
 * first: a bad one (or a bad store) starts nothing.
 */
/** The handler modules of a config by kind: `handlers`, or `handler` under `kind` (or its file name). */
export function handlerModules(
  config: Pick<RuntimeConfig, "handlers" | "handler" | "kind">,
): HandlerModules | undefined {
  if (config.handlers !== undefined && config.handler !== undefined)
    throw new ConfigError("handler", "give handlers (by kind) or one handler, not both");
  if (config.handler !== undefined)
    return {
      [config.kind === undefined ? kindOfModule(config.handler) : checkKind(config.kind)]: config.handler,
    };
  return config.handlers;
}

export async function openRuntime(config: RuntimeConfig): Promise<Runtime> {
  const name = workerName(config.name);
  if (config.handlerOptions !== undefined) {
    const bad = findNonJson(config.handlerOptions, "handlerOptions");
    if (bad) throw new ConfigError("handlerOptions", `${bad.path} ${bad.reason}`);
  }
  // the kinds it runs and what runs each: handler modules (loaded and checked here), or the built-in types
  const registry = await registerKinds(handlerModules(config));
  const handler = !registry.builtIn;
  if (config.isolation !== undefined && !handler)
    throw new ConfigError(
      "isolation",
      "isolation is for handler modules' kinds (give handlers), not the built-in task types",
    );
  const isolation =
    config.isolation === undefined
      ? undefined
      : checkIsolation(config.isolation, registry.kinds, config.threads);
  if (!handler && config.storage === undefined)
    throw new TypeError("the built-in task types need an object store directory (storage)");
  // a long-running writer: checkpoints on their own thread, off the commits' path
  const store = await openStore(config, { checkpoint: "background" });
  let objects: FsObjectStore | undefined;
  let executor: ExecutorPort<unknown, unknown>;
  const logger = config.logger ?? createLogger({ level: config.logLevel });
  let processorConfig: ProcessorConfig | undefined;
  // what handlers report (ctx.progress, ctx.log), written to the store coalesced
  const reporter = handler ? new TaskReporter(store, logger) : undefined;
  try {
    // opened here even for threads (each opens its own): a bad directory fails before anything runs
    objects = config.storage === undefined ? undefined : await openObjects(config.storage, config.chunkSize);
    processorConfig = handler ? undefined : processorConfigOf(config, resolve(config.storage as string));
    executor = await buildExecutor(config, registry, objects, processorConfig, logger, isolation, reporter);
  } catch (error) {
    await objects?.dispose();
    await store.close();
    throw error;
  }
  const metrics = new MetricsRecorder({ threads: executor.concurrency });
  const otel = await loadOtel();
  const kinds = registry.kinds;
  // a handler's payloads are of its kind (one adopted from the store keeps its own)
  const prepare = handler ? payloadPreparer(kinds[0] as string, config.key ?? stableKey) : undefined;
  const orchestrator = new Orchestrator<unknown, unknown>({
    // a handler's payloads: plain JSON data, keyed by `key`; the built-in types: their schema
    prepare: prepare
      ? (raw, stored) => (stored ? prepare(raw, stored, true) : prepare(raw))
      : (raw, stored) => {
          const prepared = prepareTask(stored ? withStoredIdentity(raw, stored) : raw);
          return stored?.correlationId === undefined
            ? prepared
            : { ...prepared, correlationId: stored.correlationId };
        },
    ...(handler ? { toStored: (json: unknown) => ({ result: json as string | null }) } : {}),
    store,
    executor,
    metrics,
    logger,
    queueSize: config.queueSize,
    onFull: config.onFull,
    retry: {
      maxAttempts: config.attempts,
      baseDelayMs: config.backoffBaseMs,
      maxDelayMs: config.backoffMaxMs,
    },
    // a handler's timeout aborts its ctx.signal on the thread; the orchestrator terminates none
    taskTimeoutMs: handler ? 0 : config.timeoutMs,
    ...(config.hooks ? { hooks: config.hooks } : {}),
    // each attempt in a span when the application has OpenTelemetry (imported once, if installed)
    ...(otel ? { tracer: attemptTracer(otel) } : {}),
  });
  store.startHeartbeat();
  // the breakers this process's attempts opened or closed fire its hooks (breakerOpened/Closed)
  const unlistenBreakers = store.onBreakerChange((change) => orchestrator.breakerChanged(change));
  const threads = threadsOf(executor);
  const processes = processesOf(executor);
  const services: MaintenanceService[] = [
    // what monitoring shows of this process: attempts executing now against tasks held
    workerReportService(store, () => ({
      threads,
      ...(processes > 0 ? { processes } : {}),
      slots: executor.concurrency,
      executing: orchestrator.executing,
      leased: orchestrator.pending,
      kinds,
      name,
    })),
    // a cancel of a running task, delivered to the process that holds it (a serving process
    // also hears of it at once on PostgreSQL: see serve)
    cancelWatchService(store, orchestrator),
    ...(config.retentionMs > 0 ? [retentionService(store, { retentionMs: config.retentionMs })] : []),
    // recurring tasks: every worker may enqueue a due occurrence; the store lets one per occurrence
    schedulerService(store, logger),
  ];
  const maintenance = new Maintenance(services, {
    logger,
    gate: (name, everyMs) => store.tryRunMaintenance(name, everyMs),
  }).start();
  return {
    config,
    store,
    objects,
    metrics,
    logger,
    executor,
    registry,
    kinds,
    orchestrator,
    maintenance,
    processorConfig,
    async close(options = {}) {
      await orchestrator.close(options);
      await reporter?.close();
      unlistenBreakers();
      await maintenance.stop();
      await store.removeWorker().catch(() => undefined); // an unreachable store: its row goes stale
      await store.close();
      if (objects) {
        // The threads are gone: a put they had started (a forced stop) left a temp file.
        if (!handler) await objects.sweepTemporaryFiles({ includeThisProcess: true });
        await objects.dispose();
      }
      logger.flush?.();
    },
  };
}

/**
 * The thread pools an executor keeps: itself, or a KindRouter's executors on threads (the shared
 * one and those of kinds isolated in threads); none on the main thread or in processes only.
 */
export function threadPoolsOf(
  executor: ExecutorPort<unknown, unknown>,
): TinypoolExecutor<unknown, unknown>[] {
  return (executor instanceof KindRouter ? executor.executors : [executor]).filter(
    (e): e is TinypoolExecutor<unknown, unknown> => e instanceof TinypoolExecutor,
  );
}

/** The threads an executor keeps (its thread pools' added up); 0 on the main thread. */
export function threadsOf(executor: ExecutorPort<unknown, unknown>): number {
  return threadPoolsOf(executor).reduce((sum, pool) => sum + pool.threads, 0);
}

/** The child processes a KindRouter's kinds isolated in processes keep (each started when first needed); 0 without. */
export function processesOf(executor: ExecutorPort<unknown, unknown>): number {
  if (!(executor instanceof KindRouter)) return 0;
  return executor.executors.reduce((sum, e) => sum + (e instanceof HandlerProcesses ? e.processes : 0), 0);
}

/**
 * A built-in type's payload as taken from the store, its identity completed from its record: a
 * task enqueued by kind (`client.enqueue("noop", {})`, a schedule's occurrence) carries its id,
 * type and key in the record, not in the payload. Fields the payload has are kept.
 */
function withStoredIdentity(raw: unknown, stored: StoredIdentity): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  return {
    id: stored.id,
    ...(stored.kind === undefined ? {} : { type: stored.kind }),
    ...(stored.key === undefined ? {} : { idempotency_key: stored.key }),
    ...raw,
  };
}

/**
 * Opens an existing store for reading commands (status, monitor, dlq): never creates one,
 * recovers nothing.
 */
export async function openExistingStore(location: string): Promise<TaskStoreDriver> {
  try {
    return await openTaskStore(location, { recover: false, create: false });
  } catch (error) {
    if (error instanceof StoreError && error.code === "ERR_NOT_FOUND") throw new CliError(error.message, 1);
    throw error;
  }
}

/** Runs `fn` on an existing store and closes it after. */
export async function withExistingStore<T>(
  location: string,
  fn: (store: TaskStoreDriver) => Promise<T>,
): Promise<T> {
  const store = await openExistingStore(location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
