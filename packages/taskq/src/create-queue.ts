import type { TaskStoreDriver } from "@taskq/idempotency";
import { type MetricsReport, toPrometheus, toReport } from "@taskq/metrics";
import { type ClientsSummary, type CloseOptions, runClients, TaskFailedError } from "@taskq/queue";
import {
  awaitResult,
  type Client,
  clientOf,
  type Enqueued,
  type EnqueueManyOptions,
  type EnqueueOptions,
} from "./client.js";
import { silentLogger } from "./handler.js";
import { payloadPreparer } from "./handler-runtime.js";
import { checkKind, kindOfModule } from "./kinds.js";
import { type QueueOptions, resolveQueueOptions } from "./options.js";
import { openRuntime } from "./runtime.js";
import { stableKey } from "./stable-key.js";
import { resultOf } from "./task-view.js";
import { serve } from "./worker.js";

/** Per-task options of `submit`. */
export interface SubmitOptions {
  /** The idempotency key. @default the queue's `key(payload)` */
  readonly key?: string;
  /** The task's id (in logs, `taskq status`, dead letters). @default `task-` and a time-ordered suffix */
  readonly id?: string;
  /** Attempts in all for this task. @default the queue's `attempts` */
  readonly maxAttempts?: number;
}

/** Options of `submitMany`. */
export interface SubmitManyOptions<Payload, Result> {
  /**
   * Concurrent clients, each submitting one payload, awaiting it, then the next.
   * @default 100
   */
  readonly clients?: number;
  /** Stops handing out payloads. */
  readonly signal?: AbortSignal;
  /** Called as each payload settles. */
  readonly onSettled?: (payload: Payload, outcome: PromiseSettledResult<Result>) => void;
}

/**
 * A queue of tasks for one handler, of one kind: a producer (`enqueue`, `get`, `result`,
 * `cancel`, as `connect` gives) and a worker for that kind in one process.
 */
export interface Queue<Payload, Result> extends Omit<Client, "close" | "enqueue" | "enqueueMany"> {
  /** The kind of the queue's tasks. */
  readonly kind: string;
  /**
   * Stores a task of the queue's kind and answers once it is durable, without waiting for it to
   * run; `result(id)` waits for it. This process runs it (so does any worker of the kind).
   */
  enqueue(payload: Payload, options?: EnqueueOptions): Promise<Enqueued>;
  /** Stores many tasks of the queue's kind in one transaction. */
  enqueueMany(payloads: readonly Payload[], options?: EnqueueManyOptions): Promise<Enqueued[]>;
  /**
   * Runs `payload` through the queue and resolves with the handler's result: at once, from the
   * store, when its key succeeded before (in this process or an earlier one). Rejects with a
   * PayloadError (nothing stored), QueueFullError (`onFull: "reject"`), TaskFailedError (failed
   * for good, dead-lettered) or OrchestratorClosedError.
   */
  submit(payload: Payload, options?: SubmitOptions): Promise<Result>;
  /** Submits a stream of payloads from `clients` concurrent clients; resolves with the counts. */
  submitMany(
    payloads: Iterable<Payload> | AsyncIterable<Payload>,
    options?: SubmitManyOptions<Payload, Result>,
  ): Promise<ClientsSummary>;
  /** The metrics so far, with the field names of the CLI's JSON (`throughput_tps`, `p95_latency_ms`...). */
  metrics(): MetricsReport;
  /** The metrics so far in the Prometheus text format. */
  prometheus(): string;
  /** The task store (its reads, dead letters, re-drive). */
  readonly store: TaskStoreDriver;
  /** Stops taking tasks, finishes (drain) or hands back what was admitted, and closes threads and store. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Creates a queue that runs your handler module on threads (or the main thread with
 * `threads: 0`), with a bounded queue, idempotency keys kept in a SQLite file or PostgreSQL,
 * retries with backoff and jitter, dead letters and metrics. Checks every option and loads the
 * handler first: a bad option or handler throws a ConfigError naming it, and nothing is started.
 */
export async function createQueue<Payload = unknown, Result = unknown>(
  options: QueueOptions<Payload>,
): Promise<Queue<Payload, Result>> {
  const settings = resolveQueueOptions(options);
  const handlerOptions = options.handlerOptions;
  const keyOf = (options.key ?? stableKey) as (payload: unknown) => string;
  const kind = options.kind === undefined ? kindOfModule(options.handler) : checkKind(options.kind);
  const runtime = await openRuntime({
    ...settings,
    store: settings.store,
    handler: options.handler,
    kind,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    key: keyOf,
    handlerOptions,
    logger: options.logger ?? silentLogger,
    ...(options.isolation === undefined ? {} : { isolation: options.isolation }),
    ...(options.objects === undefined ? {} : { storage: options.objects }),
  });
  const { store, orchestrator, metrics } = runtime;
  const prepare = payloadPreparer(kind, keyOf);
  // the producer's calls on the same store; a cancel of a task this process runs reaches it at once
  const client = clientOf(store, { owned: false, onCancel: (seq) => orchestrator.cancel(seq) });
  // Enqueued tasks are run here too, by the worker loop over this queue's kind, started on the
  // first enqueue: a queue that only submits (and runs what it submits) takes nothing from the store.
  const stop = new AbortController();
  let fetching: Promise<unknown> | undefined;
  const fetch = () => {
    fetching ??= serve(runtime, { signal: stop.signal }).catch((error: unknown) =>
      runtime.logger.error(
        { error_class: "worker" },
        `the queue stopped taking tasks: ${(error as Error).message}`,
      ),
    );
  };

  /**
   * A duplicate of a task another process runs now: wait for its record to settle, as `result`
   * does; the queue closing ends the wait (its signal wakes it at once).
   */
  const awaitElsewhere = async (key: string): Promise<Result> => {
    const closed = () =>
      new TaskFailedError(key, "closed", 0, "the queue closed while another process ran the task");
    try {
      return (await awaitResult(store, () => store.getByKey(kind, key), {
        what: `task ${JSON.stringify(key)} (kind ${kind})`,
        signal: stop.signal,
        check: () => {
          if (!orchestrator.accepting) throw closed();
        },
      })) as Result;
    } catch (error) {
      if (stop.signal.aborted && error === stop.signal.reason) throw closed();
      throw error;
    }
  };

  let closing: Promise<void> | undefined;
  const queue: Queue<Payload, Result> = {
    store,
    kind,
    async enqueue(payload, o) {
      const enqueued = await client.enqueue(kind, payload, o);
      fetch();
      return enqueued;
    },
    async enqueueMany(payloads, o) {
      const enqueued = await client.enqueueMany(kind, payloads, o);
      fetch();
      return enqueued;
    },
    async enqueueFlow(spec) {
      const enqueued = await client.enqueueFlow(spec);
      fetch();
      return enqueued;
    },
    get: client.get,
    result: client.result,
    progress: client.progress,
    logs: client.logs,
    cancel: client.cancel,
    async schedule(name, o) {
      const info = await client.schedule(name, o);
      fetch(); // its occurrences are queued tasks: this process takes those of its kind
      return info;
    },
    unschedule: client.unschedule,
    schedules: client.schedules,
    pauseSchedule: client.pauseSchedule,
    resumeSchedule: client.resumeSchedule,
    setLimits: client.setLimits,
    limits: client.limits,
    async resumeKind(kind) {
      const changed = await client.resumeKind(kind);
      fetch(); // its queued tasks may start here at once
      return changed;
    },
    pauseKind: client.pauseKind,
    async setBreaker(kind, breaker) {
      await client.setBreaker(kind, breaker);
      if (breaker === null) fetch(); // its queued tasks may start here at once
    },
    breakers: client.breakers,
    async resetBreaker(kind) {
      const changed = await client.resetBreaker(kind);
      fetch();
      return changed;
    },
    async submit(payload, submitOptions) {
      const prepared = prepare(payload, submitOptions);
      const result = await orchestrator.submitPrepared(prepared);
      if (result.status === "running") return awaitElsewhere(prepared.idempotencyKey);
      return resultOf(result) as Result;
    },
    submitMany(payloads, manyOptions = {}) {
      return runClients({
        clients: manyOptions.clients ?? 100,
        source: payloads,
        submit: (payload: Payload) => queue.submit(payload),
        ...(manyOptions.signal ? { signal: manyOptions.signal } : {}),
        ...(manyOptions.onSettled ? { onSettled: manyOptions.onSettled } : {}),
      });
    },
    metrics: () => toReport(metrics.snapshot()),
    prometheus: () => toPrometheus(metrics.snapshot()),
    close(closeOptions = {}) {
      closing ??= (async () => {
        stop.abort();
        await fetching;
        await runtime.close(closeOptions);
      })();
      return closing;
    },
  };
  return queue;
}
