import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread } from "node:worker_threads";
import {
  DEFAULT_CHUNK_SIZE,
  type FileIoMode,
  FsObjectStore,
  MemoryObjectStore,
  type ObjectStore,
  SimulatedObjectStore,
  type SimulationOptions,
} from "@taskq/storage-sim";
import { type Classified, classify, PermanentError } from "./errors.js";
import { createFaultInjector, type FaultOptions } from "./faults.js";
import { compute } from "./handlers/compute.js";
import { type HttpSimulation, httpRequest } from "./handlers/http-request.js";
import { type ImageContext, processImage } from "./handlers/image.js";
import { sleepTask } from "./handlers/sleep.js";
import type { Task, TaskType } from "./task-schema.js";

/**
 * Everything a processor needs, as plain data: it is sent to worker threads, which build their
 * own processor from it (and cache it by `key`).
 */
export interface ProcessorConfig {
  /** Identifies this configuration; workers keep one processor per key. */
  readonly key: string;
  /** Object store: a directory (works across threads) or memory (inline execution only). */
  readonly storage:
    | {
        readonly kind: "fs";
        readonly root: string;
        readonly durable?: boolean;
        /**
         * File system calls: blocking ones on a worker thread (a few µs each, the thread serves
         * only its attempts), libuv's thread pool on the main thread (never blocks the loop).
         * @default "sync" on a worker thread, "async" on the main thread
         */
        readonly io?: FileIoMode;
      }
    | { readonly kind: "memory" };
  /**
   * Chunk size of object reads and writes, in bytes (CHUNK_SIZE).
   * @default 65536
   */
  readonly chunkSize?: number;
  /** Simulated storage latency and faults (BASE_LATENCY_MS, ...). */
  readonly simulation?: SimulationOptions;
  /**
   * Bucket that holds the source images.
   * @default "images"
   */
  readonly inputBucket?: string;
  /**
   * Bucket the variants are written to.
   * @default "derived"
   */
  readonly outputBucket?: string;
  /**
   * Longest side of a thumbnail.
   * @default 64
   */
  readonly thumbSize?: number;
  /** Injected task faults (ERROR_PROBABILITY). */
  readonly faults?: FaultOptions;
  /** The simulated remote of `http_request` tasks. */
  readonly http?: HttpSimulation;
}

/** What a task produced. */
export interface TaskOutput {
  readonly outputKey?: string;
  readonly etag?: string;
  readonly bytes?: number;
  readonly result?: string;
}

/** The result of one attempt, as plain data (it crosses the thread boundary). */
export type TaskOutcome =
  | { readonly ok: true; readonly output: TaskOutput; readonly runMs: number }
  | { readonly ok: false; readonly error: Classified; readonly runMs: number };

/** What a built-in type's attempt runs with: the processor's object store (images) and simulated remote. */
export interface BuiltInEnv {
  readonly image: ImageContext;
  readonly http: HttpSimulation;
}

/** Runs one attempt of a built-in type's task: its output, or a throw (classified by the processor). */
export type BuiltInRunner<T extends Task = Task> = (
  task: T,
  env: BuiltInEnv,
  attempt: number,
  signal?: AbortSignal,
) => TaskOutput | Promise<TaskOutput>;

/**
 * The built-in task types by kind (a task's kind is its type), and what runs each: the registry
 * the processor finds a task's code in, and the one taskq registers the built-in kinds from
 * (`packages/taskq/src/kinds.ts`), as it registers handler modules. Every type of the schema
 * (TASK_TYPES) has its entry: the mapped type says so at compile time.
 */
export const BUILT_IN_TYPES: {
  readonly [K in TaskType]: BuiltInRunner<Extract<Task, { readonly type: K }>>;
} = {
  image: (task, env, _attempt, signal) => processImage(task, env.image, signal),
  compute: (task) => compute(task),
  sleep: (task, _env, _attempt, signal) => sleepTask(task, signal),
  http_request: (task, env, attempt, signal) => httpRequest(task, env.http, attempt, signal),
  fail: (task) => {
    throw new PermanentError(task.errorMessage);
  },
  noop: () => ({}),
};

/** The runner of a built-in kind; undefined for a kind that is not one (`toString` included). */
export function builtInRunner(kind: string): BuiltInRunner | undefined {
  return Object.hasOwn(BUILT_IN_TYPES, kind)
    ? (BUILT_IN_TYPES[kind as TaskType] as BuiltInRunner)
    : undefined;
}

/** Runs tasks: the same code inline and inside a worker thread. */
export interface Processor {
  readonly store: ObjectStore;
  readonly config: ProcessorConfig;
  run(task: Task, attempt: number, signal?: AbortSignal): Promise<TaskOutcome>;
  dispose(): Promise<void>;
}

/** Opens the object store a configuration describes (with its simulation layer). */
export async function openStore(config: ProcessorConfig): Promise<ObjectStore> {
  const chunkSize = config.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const base =
    config.storage.kind === "fs"
      ? await FsObjectStore.open({
          root: config.storage.root,
          chunkSize,
          durable: config.storage.durable ?? false,
          io: config.storage.io ?? (isMainThread ? "async" : "sync"),
        })
      : new MemoryObjectStore({ chunkSize });
  return config.simulation ? new SimulatedObjectStore(base, config.simulation) : base;
}

/** Builds a processor for a configuration. The store is opened once and reused. */
export async function createProcessor(config: ProcessorConfig, store?: ObjectStore): Promise<Processor> {
  const objects = store ?? (await openStore(config));
  const injectFault = createFaultInjector(config.faults);
  const env: BuiltInEnv = {
    image: {
      store: objects,
      inputBucket: config.inputBucket ?? "images",
      outputBucket: config.outputBucket ?? "derived",
      chunkSize: config.chunkSize ?? DEFAULT_CHUNK_SIZE,
      variantOptions: { thumbSize: config.thumbSize ?? 64 },
    },
    http: config.http ?? {},
  };

  async function execute(task: Task, attempt: number, signal?: AbortSignal): Promise<TaskOutput> {
    // found by its kind, as a handler module's task is; parseTask let no other type through
    const run = builtInRunner(task.type);
    if (!run) throw new PermanentError(`no built-in task type ${JSON.stringify(task.type)}`, "unknown_kind");
    const fault = injectFault(task.idempotencyKey, attempt);
    if (fault.spikeMs > 0) await sleep(fault.spikeMs, undefined, signal ? { signal } : undefined);
    if (fault.error) throw fault.error;
    return run(task, env, attempt, signal);
  }

  return {
    store: objects,
    config,
    async run(task, attempt, signal) {
      const start = performance.now();
      try {
        const output = await execute(task, attempt, signal);
        return { ok: true, output, runMs: performance.now() - start };
      } catch (error) {
        return { ok: false, error: classify(error), runMs: performance.now() - start };
      }
    },
    dispose: () => objects.dispose(),
  };
}
