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
import { processImage } from "./handlers/image.js";
import { sleepTask } from "./handlers/sleep.js";
import type { Task } from "./task-schema.js";

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
  const image = {
    store: objects,
    inputBucket: config.inputBucket ?? "images",
    outputBucket: config.outputBucket ?? "derived",
    chunkSize: config.chunkSize ?? DEFAULT_CHUNK_SIZE,
    variantOptions: { thumbSize: config.thumbSize ?? 64 },
  };
  const http = config.http ?? {};

  async function execute(task: Task, attempt: number, signal?: AbortSignal): Promise<TaskOutput> {
    const fault = injectFault(task.idempotencyKey, attempt);
    if (fault.spikeMs > 0) await sleep(fault.spikeMs, undefined, signal ? { signal } : undefined);
    if (fault.error) throw fault.error;
    switch (task.type) {
      case "image":
        return processImage(task, image, signal);
      case "compute":
        return compute(task);
      case "sleep":
        return sleepTask(task, signal);
      case "http_request":
        return httpRequest(task, http, attempt, signal);
      case "fail":
        throw new PermanentError(task.errorMessage);
      case "noop":
        return {};
    }
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
