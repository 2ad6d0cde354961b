import { setTimeout as sleep } from "node:timers/promises";
import type { TaskStoreDriver } from "@taskq/idempotency";
import { type MetricsReport, toPrometheus, toReport } from "@taskq/metrics";
import { type ClientsSummary, type CloseOptions, runClients, TaskFailedError } from "@taskq/queue";
import { ConfigError } from "./errors.js";
import { silentLogger } from "./handler.js";
import { payloadPreparer } from "./handler-runtime.js";
import { findNonJson } from "./json-value.js";
import { type QueueOptions, resolveQueueOptions } from "./options.js";
import { openRuntime } from "./runtime.js";
import { stableKey } from "./stable-key.js";

/** Per-task options of `submit`. */
export interface SubmitOptions {
  /** The idempotency key. @default the queue's `key(payload)` */
  readonly key?: string;
  /** The task's id (in logs, `taskq status`, dead letters). @default `task-` and a random suffix */
  readonly id?: string;
  /** Attempts in all for this task. @default the queue's `retry.attempts` */
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

/** A queue of tasks for one handler. */
export interface Queue<Payload, Result> {
  /**
   * Runs `payload` through the queue and resolves with the handler's result: at once, from the
   * store, when its key succeeded before (in this process or an earlier one). Rejects with a
   * PayloadError (nothing stored), QueueFullError (`onFull: "reject"`), TaskFailedError (failed
   * for good, dead-lettered) or PoolClosedError.
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
  /** The task store (dead letters, re-drive, stats). */
  readonly store: TaskStoreDriver;
  /** Stops taking tasks, finishes (drain) or hands back what was admitted, and closes threads and store. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Creates a queue that runs your handler module on worker threads (or the main thread with
 * `threads: 0`), with a bounded queue, idempotency keys kept in a SQLite file or PostgreSQL,
 * retries with backoff and jitter, dead letters and metrics. Checks every option and loads the
 * handler first: a bad option or handler throws a ConfigError naming it, and nothing is started.
 */
export async function createQueue<Payload = unknown, Result = unknown>(
  options: QueueOptions<Payload>,
): Promise<Queue<Payload, Result>> {
  const settings = resolveQueueOptions(options);
  const handlerOptions = options.handlerOptions;
  if (handlerOptions !== undefined) {
    const bad = findNonJson(handlerOptions, "handlerOptions");
    if (bad) throw new ConfigError("handlerOptions", `${bad.path} ${bad.reason}`);
  }
  const keyOf = (options.key ?? stableKey) as (payload: unknown) => string;
  const runtime = await openRuntime({
    ...settings,
    db: settings.store,
    handler: options.handler,
    key: keyOf,
    handlerOptions,
    logger: options.logger ?? silentLogger,
    ...(options.objects === undefined ? {} : { storage: options.objects }),
  });
  const { store, orchestrator: pool, metrics } = runtime;
  const prepare = payloadPreparer(keyOf);

  /** A duplicate of a task another process runs now: wait for its record to settle. */
  const awaitElsewhere = async (key: string): Promise<Result> => {
    for (;;) {
      const record = await store.getByKey("task", key);
      if (record?.status === "succeeded") return parse(record.result);
      if (record?.status === "failed" || record?.status === "cancelled")
        throw new TaskFailedError(
          record.id,
          record.status === "cancelled" ? "cancelled" : (record.errorClass ?? "unknown"),
          record.attempts,
          record.status === "cancelled" ? "the task was cancelled" : (record.errorMessage ?? ""),
        );
      if (!pool.accepting)
        throw new TaskFailedError(key, "closed", 0, "the queue closed while another process ran the task");
      await sleep(50);
    }
  };
  const parse = (json: string | null): Result => (json === null ? undefined : JSON.parse(json)) as Result;

  let closing: Promise<void> | undefined;
  const queue: Queue<Payload, Result> = {
    store,
    async submit(payload, submitOptions) {
      const prepared = prepare(payload, submitOptions);
      const result = await pool.submitPrepared(prepared);
      if (result.status === "running") return awaitElsewhere(prepared.idempotencyKey);
      return parse(result.result);
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
      closing ??= runtime.close(closeOptions);
      return closing;
    },
  };
  return queue;
}
