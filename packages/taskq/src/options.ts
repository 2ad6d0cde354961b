import { availableParallelism } from "node:os";
import type { LoggerPort, OnFull } from "@taskq/queue";
import { ConfigError } from "./errors.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";
import { checkStoreLocation } from "./store-location.js";

/** Retry settings: exponential backoff with full jitter, capped. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included, before a task is dead-lettered.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Backoff base in ms: attempt n waits a random time up to base x 2^(n-1).
   * @default 100
   */
  readonly baseMs?: number;
  /**
   * Largest backoff in ms.
   * @default 10000
   */
  readonly capMs?: number;
}

/** Options of `createQueue`. */
export interface QueueOptions<Payload> {
  /** The handler module: a path or `file:` URL whose default export is `async (payload, ctx) => result`. */
  readonly handler: string | URL;
  /**
   * Where tasks, results and idempotency keys are kept: a SQLite file (created when missing),
   * `:memory:` (gone on close), or a `postgres://` URL (many processes and machines on one store;
   * needs the `pg` package).
   * @default ".taskq/tasks.db"
   */
  readonly store?: string;
  /**
   * Worker threads; 0 runs handlers on the main thread (tests, tiny jobs).
   * @default os.availableParallelism()
   */
  readonly threads?: number;
  /**
   * Attempts one thread (or, with `threads: 0`, the main thread) runs at once: I/O waits overlap.
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Bounded queue capacity: tasks admitted but not yet running.
   * @default 200
   */
  readonly queueSize?: number;
  /**
   * When the queue is full: `block` makes `submit` wait for space, `reject` fails it with QueueFullError.
   * @default "block"
   */
  readonly onFull?: OnFull;
  /** Attempts and backoff. */
  readonly retry?: RetryOptions;
  /**
   * Aborts `ctx.signal` when an attempt runs longer than this (ms); the attempt fails as a
   * retryable `timeout`. 0: never.
   * @default 0
   */
  readonly timeoutMs?: number;
  /**
   * The idempotency key of a payload: a second submit with the same key gets the stored result.
   * @default a SHA-256 of the payload's JSON with sorted keys
   */
  readonly key?: (payload: Payload) => string;
  /** Where the queue logs (pino fits). Handlers on threads log JSON lines to stderr at `logLevel`. @default silent */
  readonly logger?: LoggerPort;
  /**
   * Level of the handlers' loggers on worker threads.
   * @default "warn"
   */
  readonly logLevel?: string;
  /** An object store directory for `ctx.objects` (chunked streams, atomic puts, ETags). @default none */
  readonly objects?: string;
  /** Plain data every handler gets as `ctx.options` (sent to each thread once). @default undefined */
  readonly handlerOptions?: unknown;
  /**
   * How long a running task stays leased without a heartbeat (ms): after a crash, another process
   * on the same store takes it over once this runs out.
   * @default 30000
   */
  readonly leaseMs?: number;
  /**
   * How long a succeeded task's record, and the deduplication of its key, is kept (ms): after it,
   * the same key runs again. Pruned in the background in small batches; 0 keeps every task.
   * @default 604800000 (7 days)
   */
  readonly retentionMs?: number;
}

/** The keys `createQueue` takes: checked against QueueOptions by the compiler. */
export const QUEUE_OPTION_KEYS = keysOf<QueueOptions<unknown>>()({
  handler: true,
  store: true,
  threads: true,
  concurrency: true,
  queueSize: true,
  onFull: true,
  retry: true,
  timeoutMs: true,
  key: true,
  logger: true,
  logLevel: true,
  objects: true,
  handlerOptions: true,
  leaseMs: true,
  retentionMs: true,
});

/** The keys of `retry`. */
export const RETRY_OPTION_KEYS = keysOf<RetryOptions>()({ attempts: true, baseMs: true, capMs: true });

function integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(
      option,
      `${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

/** The options with every default filled in, checked; errors name the option. */
export function resolveOptions<Payload>(options: QueueOptions<Payload>) {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "createQueue needs an options object");
  checkOptionKeys(options, QUEUE_OPTION_KEYS);
  const retry = options.retry ?? {};
  if (retry === null || typeof retry !== "object" || Array.isArray(retry))
    throw new ConfigError(
      "retry",
      `retry must be an object { attempts, baseMs, capMs }, got ${JSON.stringify(retry)}`,
    );
  checkOptionKeys(retry, RETRY_OPTION_KEYS, "retry");
  const onFull = options.onFull ?? "block";
  if (onFull !== "block" && onFull !== "reject")
    throw new ConfigError("onFull", `onFull must be "block" or "reject", got ${JSON.stringify(onFull)}`);
  if (options.key !== undefined && typeof options.key !== "function")
    throw new ConfigError("key", "key must be a function (payload) => string");
  if (options.store !== undefined) checkStoreLocation(options.store, "store");
  if (options.objects !== undefined && (typeof options.objects !== "string" || options.objects.length === 0))
    throw new ConfigError("objects", "objects must be a directory path");
  const baseMs = retry.baseMs ?? 100;
  const capMs = retry.capMs ?? 10_000;
  if (!(typeof baseMs === "number" && baseMs >= 0 && Number.isFinite(baseMs)))
    throw new ConfigError(
      "retry.baseMs",
      `retry.baseMs must be a number >= 0, got ${JSON.stringify(baseMs)}`,
    );
  if (!(typeof capMs === "number" && capMs >= baseMs && Number.isFinite(capMs)))
    throw new ConfigError(
      "retry.capMs",
      `retry.capMs must be a number >= retry.baseMs (${baseMs}), got ${JSON.stringify(capMs)}`,
    );
  return {
    store: options.store ?? ".taskq/tasks.db",
    threads: integer("threads", options.threads ?? availableParallelism(), 0, 256),
    concurrency: integer("concurrency", options.concurrency ?? 16, 1, 10_000),
    queueSize: integer("queueSize", options.queueSize ?? 200, 1, 1_000_000),
    onFull: onFull as OnFull,
    attempts: integer("retry.attempts", retry.attempts ?? 3, 1, 100),
    baseMs,
    capMs,
    timeoutMs: integer("timeoutMs", options.timeoutMs ?? 0, 0, 2_147_483_647),
    leaseMs: integer("leaseMs", options.leaseMs ?? 30_000, 1, 2_147_483_647),
    retentionMs: integer("retentionMs", options.retentionMs ?? 604_800_000, 0, Number.MAX_SAFE_INTEGER),
    logLevel: options.logLevel ?? "warn",
  };
}
