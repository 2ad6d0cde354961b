import type { LifecycleHooks, LoggerPort, OnFull } from "@taskq/queue";
import { ConfigError } from "./errors.js";
import type { Isolation } from "./isolation.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";
import { deprecationNotice, SETTINGS } from "./settings.js";
import { checkStoreLocation } from "./store-location.js";

/**
 * The settings every runtime shares: `createQueue`, and the CLI's `run` and `serve` (whose flags
 * are these names in kebab case, and whose environment variables are listed in `.env.example`).
 * Each is documented here once; its default lives in `SETTINGS` (settings.ts).
 */
export interface RunOptions {
  /**
   * Threads that run the handlers; 0 runs them on the main thread (tests, tiny jobs).
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
  /**
   * Attempts in all, the first included, before a task is dead-lettered.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Retry backoff base in ms: attempt n waits a random time up to base x 2^(n-1) (full jitter).
   * @default 100
   */
  readonly backoffBaseMs?: number;
  /**
   * Largest retry backoff in ms.
   * @default 10000
   */
  readonly backoffMaxMs?: number;
  /**
   * Aborts `ctx.signal` when an attempt runs longer than this (ms); the attempt fails as a
   * retryable `timeout`. 0: never.
   * @default 0
   */
  readonly timeoutMs?: number;
  /**
   * How long a running task stays leased without a heartbeat (ms): after a crash, another process
   * on the same store takes it over once this runs out.
   * @default 30000
   */
  readonly leaseMs?: number;
  /**
   * How long a succeeded task's record, and the deduplication of its key, is kept (ms): after it,
   * the same key runs again. Pruned in the background in small batches, by one process of the
   * cluster at a time; 0 keeps every task.
   * @default 604800000 (7 days)
   */
  readonly retentionMs?: number;
  /**
   * Level of the handlers' loggers on the threads (and of the CLI's log).
   * @default "warn"
   */
  readonly logLevel?: string;
}

/** The retry options `createQueue` took before they got their own names. */
export interface RetryOptions {
  /** @deprecated use `attempts` */
  readonly attempts?: number;
  /** @deprecated use `backoffBaseMs` */
  readonly baseMs?: number;
  /** @deprecated use `backoffMaxMs` */
  readonly capMs?: number;
}

/** Options of `createQueue`. */
export interface QueueOptions<Payload> extends RunOptions {
  /** The handler module: a path or `file:` URL whose default export is `async (payload, ctx) => result`. */
  readonly handler: string | URL;
  /**
   * The kind of the queue's tasks (a short plain identifier): the store keeps tasks of many kinds,
   * and a key is unique within its kind.
   * @default the handler module's file name without its extension (`resize.mjs` → `resize`)
   */
  readonly kind?: string;
  /** Called as tasks move through their lifecycle (started, succeeded, retrying, dead-lettered, cancelled). @default none */
  readonly hooks?: LifecycleHooks;
  /**
   * Where tasks, results and idempotency keys are kept: a SQLite file (created when missing),
   * `:memory:` (gone on close), or a `postgres://` URL (many processes and machines on one store;
   * needs the `pg` package).
   * @default ".taskq/tasks.db"
   */
  readonly store?: string;
  /**
   * The idempotency key of a payload: a second submit with the same key gets the stored result.
   * @default a SHA-256 of the payload's JSON with sorted keys
   */
  readonly key?: (payload: Payload) => string;
  /** Where the queue logs (pino fits). Handlers on threads log JSON lines to stderr at `logLevel`. @default silent */
  readonly logger?: LoggerPort;
  /** An object store directory for `ctx.objects` (chunked streams, atomic puts, ETags). @default none */
  readonly objects?: string;
  /** Plain data every handler gets as `ctx.options` (sent to each thread once). @default undefined */
  readonly handlerOptions?: unknown;
  /**
   * The queue's kind run apart, in threads or child processes of its own: `{ resize: "process" }`
   * (see Isolation). @default none: the shared threads
   */
  readonly isolation?: Isolation;
  /** @deprecated use `attempts`, `backoffBaseMs` and `backoffMaxMs` */
  readonly retry?: RetryOptions;
}

/** The run settings' keys (every entry point that runs tasks takes them): checked by the compiler. */
export const RUN_OPTION_KEYS = keysOf<RunOptions>()({
  threads: true,
  concurrency: true,
  queueSize: true,
  onFull: true,
  attempts: true,
  backoffBaseMs: true,
  backoffMaxMs: true,
  timeoutMs: true,
  leaseMs: true,
  retentionMs: true,
  logLevel: true,
});

/** The keys `createQueue` takes: checked against QueueOptions by the compiler. */
export const QUEUE_OPTION_KEYS = [
  ...keysOf<Omit<QueueOptions<unknown>, keyof RunOptions>>()({
    handler: true,
    kind: true,
    hooks: true,
    store: true,
    retry: true,
    key: true,
    logger: true,
    objects: true,
    handlerOptions: true,
    isolation: true,
  }),
  ...RUN_OPTION_KEYS,
];

/** The keys of the deprecated `retry`. */
export const RETRY_OPTION_KEYS = keysOf<RetryOptions>()({ attempts: true, baseMs: true, capMs: true });

/** The run settings with every default filled in. */
export type RunSettings = { readonly [K in keyof RunOptions]-?: NonNullable<RunOptions[K]> };

function integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(
      option,
      `${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

function finiteAtLeast(option: string, value: unknown, min: number, minText = String(min)): number {
  if (!(typeof value === "number" && Number.isFinite(value) && value >= min))
    throw new ConfigError(option, `${option} must be a number >= ${minText}, got ${JSON.stringify(value)}`);
  return value;
}

/** The run settings checked, with every default filled in from SETTINGS; errors name the option. */
export function resolveRunOptions(options: RunOptions): RunSettings {
  const onFull = options.onFull ?? SETTINGS.onFull.default;
  if (onFull !== "block" && onFull !== "reject")
    throw new ConfigError("onFull", `onFull must be "block" or "reject", got ${JSON.stringify(onFull)}`);
  const backoffBaseMs = finiteAtLeast(
    "backoffBaseMs",
    options.backoffBaseMs ?? SETTINGS.backoffBaseMs.default,
    0,
  );
  const backoffMaxMs = finiteAtLeast(
    "backoffMaxMs",
    options.backoffMaxMs ?? Math.max(backoffBaseMs, SETTINGS.backoffMaxMs.default),
    backoffBaseMs,
    `backoffBaseMs (${backoffBaseMs})`,
  );
  return {
    threads: integer("threads", options.threads ?? SETTINGS.threads.default, 0, 256),
    concurrency: integer("concurrency", options.concurrency ?? SETTINGS.concurrency.default, 1, 10_000),
    queueSize: integer("queueSize", options.queueSize ?? SETTINGS.queueSize.default, 1, 1_000_000),
    onFull,
    attempts: integer("attempts", options.attempts ?? SETTINGS.attempts.default, 1, 100),
    backoffBaseMs,
    backoffMaxMs,
    timeoutMs: integer("timeoutMs", options.timeoutMs ?? SETTINGS.timeoutMs.default, 0, 2_147_483_647),
    leaseMs: integer("leaseMs", options.leaseMs ?? SETTINGS.leaseMs.default, 1, 2_147_483_647),
    retentionMs: integer("retentionMs", options.retentionMs ?? SETTINGS.retentionMs.default, 0),
    logLevel: options.logLevel ?? SETTINGS.logLevel.default,
  };
}

/** `createQueue`'s options checked, with every default filled in; errors name the option. */
export function resolveQueueOptions<Payload>(options: QueueOptions<Payload>) {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "createQueue needs an options object");
  checkOptionKeys(options, QUEUE_OPTION_KEYS);
  if (options.key !== undefined && typeof options.key !== "function")
    throw new ConfigError("key", "key must be a function (payload) => string");
  if (options.store !== undefined) checkStoreLocation(options.store, "store");
  if (options.objects !== undefined && (typeof options.objects !== "string" || options.objects.length === 0))
    throw new ConfigError("objects", "objects must be a directory path");
  return {
    ...resolveRunOptions({ ...fromRetry(options.retry), ...withoutRetry(options) }),
    store: options.store ?? SETTINGS.store.default,
  };
}

function withoutRetry<T extends { retry?: unknown }>(options: T): Omit<T, "retry"> {
  const { retry: _, ...rest } = options;
  return rest;
}

/** The deprecated `retry` object, as the settings it stands for (a notice once per name). */
function fromRetry(retry: RetryOptions | undefined): RunOptions {
  if (retry === undefined) return {};
  if (retry === null || typeof retry !== "object" || Array.isArray(retry))
    throw new ConfigError(
      "retry",
      `retry must be an object { attempts, baseMs, capMs } (deprecated: use attempts, backoffBaseMs, backoffMaxMs), got ${JSON.stringify(retry)}`,
    );
  checkOptionKeys(retry, RETRY_OPTION_KEYS, "retry");
  const renamed = { attempts: "attempts", baseMs: "backoffBaseMs", capMs: "backoffMaxMs" } as const;
  const out: Record<string, unknown> = {};
  for (const [old, now] of Object.entries(renamed)) {
    const value = retry[old as keyof RetryOptions];
    if (value === undefined) continue;
    deprecationNotice(`retry.${old}`, now);
    out[now] = value;
  }
  return out as RunOptions;
}
