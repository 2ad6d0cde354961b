import { randomUUID } from "node:crypto";
import {
  type ExecutorPort,
  InlineExecutor,
  type LoggerPort,
  type PreparedTask,
  TinypoolExecutor,
} from "@taskq/queue";
import type { ObjectStore } from "@taskq/storage-sim";
import { PayloadError } from "./errors.js";
import { type Handler, type HandlerTask, runHandler } from "./handler.js";
import type { HandlerRequest, HandlerWorkerData } from "./handler-worker.js";
import { findNonJson } from "./json-value.js";

/** The built worker entry: `../dist/` from both `src/` (tests) and `dist/` (the package). */
const workerUrl = new URL("../dist/handler-worker.js", import.meta.url);

/** What runs a handler module's attempts: worker threads, or the main thread with `threads: 0`. */
export interface HandlerExecutorOptions {
  readonly url: string;
  /** The handler, loaded on the main thread (used there with `threads: 0`). */
  readonly handler: Handler;
  readonly threads: number;
  readonly concurrency: number;
  readonly objects: ObjectStore | undefined;
  /** The object store's directory, for the threads (each opens its own). */
  readonly objectsRoot: string | undefined;
  readonly handlerOptions: unknown;
  readonly logLevel: string;
  readonly timeoutMs: number;
  readonly logger: LoggerPort;
}

export function handlerExecutor(o: HandlerExecutorOptions): ExecutorPort<HandlerTask, string | null> {
  if (o.threads === 0) {
    return new InlineExecutor<HandlerTask, string | null>(
      (task, attempt, signal) =>
        runHandler(o.handler, task, attempt, {
          logger: o.logger,
          objects: o.objects,
          options: o.handlerOptions,
          timeoutMs: o.timeoutMs,
          ...(signal ? { signal } : {}),
        }),
      o.concurrency,
    );
  }
  const workerData: HandlerWorkerData = {
    handler: o.url,
    options: o.handlerOptions,
    objects: o.objectsRoot ? { root: o.objectsRoot } : undefined,
    logLevel: o.logLevel,
    timeoutMs: o.timeoutMs,
  };
  return new TinypoolExecutor<HandlerTask, string | null>({
    filename: workerUrl,
    threads: o.threads,
    concurrentTasksPerWorker: o.concurrency,
    workerData,
    request: (task, attempt): HandlerRequest => ({ task, attempt }),
  });
}

const processTag = randomUUID().slice(0, 4);
let counter = 0;

/**
 * A default task id, ordered by time (`task-<ms base36>-<process tag><n>`): ids are indexed, and
 * random ones scatter every insert over the index's pages (measured: the front door's no-op run
 * spent four times as long in SQLite with `task-<random>` ids). Ids need not be unique.
 */
function nextId(): string {
  return `task-${Date.now().toString(36)}-${processTag}${(counter++).toString(36)}`;
}

/** Per-task choices a submitter can make. */
export interface PayloadChoices {
  readonly key?: string;
  readonly id?: string;
  readonly maxAttempts?: number;
}

/**
 * Shapes a payload for the pool: checks it is plain JSON data (a PayloadError names the field
 * otherwise), and gives it its key (`keyOf(payload)` unless chosen) and id.
 */
export function payloadPreparer(keyOf: (payload: unknown) => string) {
  return (payload: unknown, choices: PayloadChoices = {}): PreparedTask<HandlerTask> => {
    const bad = findNonJson(payload, "payload");
    if (bad) throw new PayloadError(bad.path, bad.reason);
    const key = choices.key ?? keyOf(payload);
    if (typeof key !== "string" || key.length === 0)
      throw new PayloadError("key", `must be a non-empty string, got ${JSON.stringify(key)}`);
    const id = choices.id ?? nextId();
    return {
      task: { payload, id, key },
      id,
      idempotencyKey: key,
      kind: "task",
      payload,
      ...(choices.maxAttempts === undefined ? {} : { maxAttempts: choices.maxAttempts }),
    };
  };
}
