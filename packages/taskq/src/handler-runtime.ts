import { randomUUID } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import {
  type ExecutorPort,
  InlineExecutor,
  type LoggerPort,
  type PreparedTask,
  type StoredParent,
} from "@taskq/queue";
import type { ObjectStore } from "@taskq/storage-sim";
import { PayloadError } from "./errors.js";
import {
  attemptRequest,
  CancelRegistry,
  cancelToken,
  type HandlerEnv,
  type HandlerTask,
  parentResults,
  RecentCancels,
  runHandler,
  unknownKind,
} from "./handler.js";
import { HandlerProcesses } from "./handler-processes.js";
import type { HandlerThreadData, ThreadMessage } from "./handler-thread.js";
import { type IsolatedKind, type KindExecutor, KindRouter } from "./isolation.js";
import { findNonJson } from "./json-value.js";
import type { LoadedKind } from "./kinds.js";
import type { ReportEntry, TaskReporter } from "./report-sink.js";
import { ThreadLanes } from "./thread-lane.js";

/** The threads' built entry module: `../dist/` from both `src/` (tests) and `dist/` (the package). */
const threadEntryUrl = new URL("../dist/handler-thread.js", import.meta.url);

/** What runs the handlers' attempts: threads, or the main thread with `threads: 0`. */
export interface HandlerExecutorOptions {
  /** The handler of each kind, loaded on the main thread (used there with `threads: 0`). */
  readonly kinds: readonly LoadedKind[];
  readonly threads: number;
  readonly concurrency: number;
  readonly objects: ObjectStore | undefined;
  /** The object store's directory, for the threads (each opens its own). */
  readonly objectsRoot: string | undefined;
  readonly handlerOptions: unknown;
  readonly logLevel: string;
  readonly timeoutMs: number;
  readonly logger: LoggerPort;
  /**
   * Kinds that run on executors of their own (checked: checkIsolation); the others share the
   * threads (or the main thread). @default none
   */
  readonly isolation?: readonly IsolatedKind[];
  /**
   * Writes what handlers report (`ctx.progress`, `ctx.log`) to the store, and is waited for
   * before an attempt's outcome is handed on. @default none: the reports are checked, then dropped
   */
  readonly reporter?: TaskReporter;
}

/** Options of one pool of handler threads: a heap limit for each thread besides. */
interface HandlerThreadsOptions extends HandlerExecutorOptions {
  /** @default none: V8's own */
  readonly memoryLimitMb?: number | undefined;
}

/** An executor of handler tasks that can also cancel one attempt in flight (its `ctx.signal`). */
export type HandlerExecutor = ExecutorPort<HandlerTask, string | null> & {
  /** Aborts the `ctx.signal` of the task's attempt running now, if any: it ends as `cancelled`. */
  cancel(task: HandlerTask): void;
};

/**
 * How long past `timeoutMs` a handler that ignores its aborted `ctx.signal` may keep its thread:
 * then the thread is terminated and replaced, the attempt fails as a retryable `timeout`, and the
 * other attempts on that thread are retried.
 */
export const TIMEOUT_GRACE_MS = 1000;

/**
 * Handler attempts on tinypool threads, a lane per thread (thread-lane.ts): the attempts of one
 * turn reach a thread in one message. A cancel reaches the thread running it over a
 * BroadcastChannel; a thread that starts listening late hears the cancels of the last
 * EARLY_CANCEL_MS again.
 */
class HandlerThreads extends ThreadLanes<HandlerTask, string | null> implements HandlerExecutor {
  readonly #channel: BroadcastChannel;
  /**
   * The cancels of the last EARLY_CANCEL_MS, by token (when each was sent): sent again to a thread
   * that starts listening later. Kept by time, not per attempt: nothing is added to a task's path.
   */
  readonly #cancelled = new RecentCancels();

  constructor(o: HandlerThreadsOptions) {
    const cancelChannel = `taskq-cancel-${process.pid}-${randomUUID()}`;
    const workerData: HandlerThreadData = {
      handlers: Object.fromEntries(o.kinds.map((k) => [k.kind, k.url])),
      options: o.handlerOptions,
      objects: o.objectsRoot ? { root: o.objectsRoot } : undefined,
      logLevel: o.logLevel,
      timeoutMs: o.timeoutMs,
      cancelChannel,
    };
    super({
      filename: threadEntryUrl,
      threads: o.threads,
      concurrentTasksPerThread: o.concurrency,
      workerData,
      request: attemptRequest,
      onError: threadPoolWarning(o.logger),
      timeoutMs: o.timeoutMs,
      graceMs: TIMEOUT_GRACE_MS,
      ...reportsOn(o.reporter),
      ...(o.memoryLimitMb === undefined
        ? {}
        : { resourceLimits: { maxOldGenerationSizeMb: o.memoryLimitMb } }),
    });
    this.#channel = new BroadcastChannel(cancelChannel);
    this.#channel.unref();
    this.#channel.onmessage = (event) => {
      const message = (event as { data: ThreadMessage }).data;
      // a new thread: a cancel sent while it started up never reached it
      if (message.type === "listening")
        for (const token of this.#cancelled.recent())
          this.#channel.postMessage({ type: "cancel", token } satisfies ThreadMessage);
    };
  }

  cancel(task: HandlerTask): void {
    const token = cancelToken(task);
    this.#cancelled.add(token);
    this.#channel.postMessage({ type: "cancel", token } satisfies ThreadMessage);
  }

  override async destroy(): Promise<void> {
    this.#channel.close();
    await super.destroy();
  }
}

/** ThreadLanes' report and settle for a reporter: a thread sends a turn's reports as ReportEntry[]. */
function reportsOn(reporter: TaskReporter | undefined) {
  if (!reporter) return {};
  return {
    report: (message: unknown) => reporter.merge(message as ReportEntry[]),
    settle: (task: HandlerTask, attempt: number) => reporter.settle(task.kind, task.key, attempt),
  };
}

/** Logs what a thread pool reports outside any attempt (a late result after a timeout). */
export function threadPoolWarning(logger: LoggerPort): (error: Error) => void {
  return (error) => logger.warn({ error_class: "thread_pool" }, `thread pool: ${error.message}`);
}

/** Handler attempts on the main thread: a cancel aborts the attempt's controller. */
class HandlerInline extends InlineExecutor<HandlerTask, string | null> implements HandlerExecutor {
  readonly #cancels: CancelRegistry;

  constructor(o: HandlerExecutorOptions) {
    const handlers = new Map(o.kinds.map((k) => [k.kind, k.handler]));
    const cancels = new CancelRegistry();
    // bound once: an attempt adds nothing to it
    const env: HandlerEnv = {
      logger: o.logger,
      objects: o.objects,
      options: o.handlerOptions,
      timeoutMs: o.timeoutMs,
      report: o.reporter?.add,
    };
    const reporter = o.reporter;
    super(async (task, attempt, signal) => {
      const handler = handlers.get(task.kind);
      if (!handler) return unknownKind(task.kind);
      const token = cancelToken(task);
      const cancel = cancels.register(token);
      try {
        const outcome = await runHandler(handler, task, attempt, env, cancel, signal);
        // its reports written before its outcome is stored (no promise when it made none)
        const settled = reporter?.settle(task.kind, task.key, attempt);
        if (settled) await settled;
        return outcome;
      } finally {
        cancels.unregister(token, cancel);
      }
    }, o.concurrency);
    this.#cancels = cancels;
  }

  cancel(task: HandlerTask): void {
    this.#cancels.cancel(cancelToken(task));
  }
}

/**
 * What runs the handlers: the shared threads (or the main thread with `threads: 0`); with
 * `isolation`, a KindRouter over the shared executor (for the kinds not isolated, if any) and an
 * executor of each isolated kind's own.
 */
export function handlerExecutor(o: HandlerExecutorOptions): HandlerExecutor {
  if (!o.isolation || o.isolation.length === 0) return sharedExecutor(o);
  const isolated = new Map(o.isolation.map((i) => [i.kind, i]));
  const others = o.kinds.filter((k) => !isolated.has(k.kind));
  const executors = new Map<string, KindExecutor>();
  try {
    for (const i of o.isolation) {
      const kinds = o.kinds.filter((k) => k.kind === i.kind);
      executors.set(
        i.kind,
        i.in === "process"
          ? new HandlerProcesses({
              kinds,
              count: i.count,
              concurrency: i.concurrency,
              ...(i.memoryLimitMb === undefined ? {} : { memoryLimitMb: i.memoryLimitMb }),
              objectsRoot: o.objectsRoot,
              handlerOptions: o.handlerOptions,
              logLevel: o.logLevel,
              timeoutMs: o.timeoutMs,
              graceMs: TIMEOUT_GRACE_MS,
              logger: o.logger,
              ...(o.reporter ? { reporter: o.reporter } : {}),
            })
          : new HandlerThreads({
              ...o,
              kinds,
              threads: i.count,
              concurrency: i.concurrency,
              memoryLimitMb: i.memoryLimitMb,
            }),
      );
    }
    const shared = others.length === 0 ? undefined : sharedExecutor({ ...o, kinds: others });
    return new KindRouter(shared, executors);
  } catch (error) {
    for (const executor of executors.values()) void executor.destroy();
    throw error;
  }
}

function sharedExecutor(o: HandlerExecutorOptions): HandlerExecutor {
  return o.threads === 0 ? new HandlerInline(o) : new HandlerThreads(o);
}

const processTag = randomUUID().slice(0, 4);
let counter = 0;

/**
 * A default task id, ordered by time (`task-<ms base36>-<process tag><n>`): ids are indexed, and
 * random ones scatter every insert over the index's pages (measured: the front door's no-op run
 * spent four times as long in SQLite with `task-<random>` ids). Ids need not be unique.
 */
export function nextId(): string {
  return `task-${Date.now().toString(36)}-${processTag}${(counter++).toString(36)}`;
}

/** Per-task choices a submitter can make (and a stored task's own, when a worker adopts it). */
export interface PayloadChoices {
  readonly key?: string;
  readonly id?: string;
  readonly maxAttempts?: number;
  /** The task's kind. @default the preparer's */
  readonly kind?: string;
  /** A stored task's correlation id. @default none */
  readonly correlationId?: string;
  /** A stored task's parents with their results (workflows). @default none */
  readonly parents?: readonly StoredParent[];
}

/** No choices: the preparer's defaults (one object for every call). */
const NO_CHOICES: PayloadChoices = Object.freeze({});

/**
 * Shapes a payload for the orchestrator: checks it is plain JSON data (a PayloadError names the field
 * otherwise), and gives it its kind, its key (`keyOf(payload)` unless chosen) and id. A payload
 * read back from the store (`fromStore`: a taken task's, parsed from its JSON text) is JSON
 * already, and is not walked again.
 */
export function payloadPreparer(kind: string, keyOf: (payload: unknown) => string) {
  return (
    payload: unknown,
    choices: PayloadChoices = NO_CHOICES,
    fromStore = false,
  ): PreparedTask<HandlerTask> => {
    if (!fromStore) {
      const bad = findNonJson(payload, "payload");
      if (bad) throw new PayloadError(bad.path, bad.reason);
    }
    const key = choices.key ?? keyOf(payload);
    if (typeof key !== "string" || key.length === 0)
      throw new PayloadError("key", `must be a non-empty string, got ${JSON.stringify(key)}`);
    const id = choices.id ?? nextId();
    const taskKind = choices.kind ?? kind;
    const correlationId = choices.correlationId;
    const task: { -readonly [K in keyof HandlerTask]: HandlerTask[K] } =
      correlationId === undefined
        ? { payload, id, key, kind: taskKind }
        : { payload, id, key, kind: taskKind, correlationId };
    if (choices.parents !== undefined) task.parents = parentResults(choices.parents);
    // one object, its optional fields set as present (no spread of a new object per field)
    const prepared: { -readonly [K in keyof PreparedTask<HandlerTask>]: PreparedTask<HandlerTask>[K] } = {
      task,
      id,
      idempotencyKey: key,
      kind: taskKind,
      payload,
    };
    if (choices.maxAttempts !== undefined) prepared.maxAttempts = choices.maxAttempts;
    if (correlationId !== undefined) prepared.correlationId = correlationId;
    return prepared;
  };
}
