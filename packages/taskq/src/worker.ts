// The worker side of a runtime: the loop that takes tasks from the durable queue and runs them
// (`taskq serve`, and a library user's worker process).
import type { TaskStoreDriver } from "@taskq/idempotency";
import { type MetricsReport, toPrometheus, toReport } from "@taskq/metrics";
import {
  type CloseOptions,
  type ExecutorPort,
  Fetcher,
  type FetcherOptions,
  type LifecycleHooks,
  type LoggerPort,
} from "@taskq/queue";
import { ConfigError } from "./errors.js";
import { silentLogger } from "./handler.js";
import { checkIsolation, type Isolation, KindRouter } from "./isolation.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";
import { RUN_OPTION_KEYS, type RunOptions, resolveRunOptions } from "./options.js";
import { openRuntime, type Runtime } from "./runtime.js";
import { SETTINGS } from "./settings.js";
import { checkStoreLocation } from "./store-location.js";
import type { AnyKinds, HandlerModulesOf, KindMap } from "./typed-kinds.js";

/** Options of `serve`. */
export interface ServeOptions {
  /**
   * How often an idle worker looks for new tasks, in ms, when nothing wakes it earlier.
   * @default 200 on SQLite; 2000 on PostgreSQL, which wakes idle workers with LISTEN/NOTIFY
   */
  readonly pollMs?: number;
  /**
   * Return once nothing is queued or running anywhere in the store.
   * @default false
   */
  readonly exitWhenIdle?: boolean;
  /** Stops taking tasks (what was taken keeps running until the runtime closes). */
  readonly signal?: AbortSignal;
  /** A store error worth retrying (an unreachable server): reported, and the loop tries again. @default ignored */
  readonly onRetryableError?: (error: Error) => void;
  /**
   * Most tasks of a kind this worker holds at once (running, or waiting in it for a slot):
   * `{ email: 4 }`. Kinds not named share the worker's slots. For a limit across every worker,
   * see `client.setLimits`. @default none
   */
  readonly kindConcurrency?: Readonly<Record<string, number>>;
  /**
   * Tasks a worker takes beyond its free slots. `"auto"`: what its slots finished in the last
   * PREFETCH_HORIZON_MS (100 ms), at most MAX_AUTO_PREFETCH (1,000), measured as it runs: a
   * worker of fast tasks takes hundreds at a time and fetches the next batch while these run
   * (fewer, bigger takes); one whose slots are busy with slow tasks holds only what it can start,
   * so a task enqueued while it is busy (a higher priority, or any task another worker is free
   * for) is taken by the next free slot anywhere, in priority order. A number fixes it: 0 holds
   * only what it can start now; more saves takes at the cost of both (the tasks it holds run in
   * the order it took them, whatever is enqueued meanwhile).
   * @default "auto"
   */
  readonly prefetch?: number | "auto";
}

/** With `prefetch: "auto"`, a worker holds what its slots finished in this many ms. */
export const PREFETCH_HORIZON_MS = 100;
/** With `prefetch: "auto"`, the most a worker holds beyond its slots. */
export const MAX_AUTO_PREFETCH = 1000;

/** The poll interval a worker uses on a store when none is given. */
export function defaultPollMs(dialect: "sqlite" | "postgres"): number {
  return dialect === "postgres" ? 2000 : 200;
}

/**
 * Takes tasks from the runtime's store and runs them on its orchestrator until `signal` aborts
 * (or, with `exitWhenIdle`, until the store is idle). It holds at most as many tasks as it has
 * slots plus `prefetch` (by default what its slots start within 100 ms): each is leased to this
 * process and renewed by its heartbeat.
 * Resolves with the number of tasks taken. Close the runtime afterwards to drain them.
 */
export async function serve(runtime: Runtime, options: ServeOptions = {}): Promise<number> {
  // a serving process listens to the store anyway (waitForWork): cancels of its running tasks
  // reach it at once on PostgreSQL, not a cancel-watch interval later
  const unlisten = runtime.store.onCancelRequested((seq) => runtime.orchestrator.cancel(seq));
  const fetcher = new Fetcher({
    store: runtime.store,
    runner: runtime.orchestrator,
    kinds: runtime.kinds,
    ...fetchLimits(
      runtime.executor,
      runtime.kinds,
      checkPrefetch(options.prefetch ?? "auto"),
      options.kindConcurrency && checkKindConcurrency(options.kindConcurrency, runtime.kinds),
    ),
    pollMs: options.pollMs ?? defaultPollMs(runtime.store.dialect),
    ...(options.exitWhenIdle === undefined ? {} : { exitWhenIdle: options.exitWhenIdle }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onRetryableError ? { onRetryableError: options.onRetryableError } : {}),
  });
  try {
    return await fetcher.run();
  } finally {
    unlisten();
  }
}

/**
 * What a worker holds at most: its slots and prefetch; of each kind, its own per-kind limits. With
 * isolated kinds beside other executors (a KindRouter's slots), also an isolated kind's slots and,
 * for the kinds not isolated together, the shared executor's slots and the prefetch (a group of
 * the fetcher's): a task waiting in the router for its executor holds an orchestrator slot that
 * another executor could use, so a backlog of one never keeps another's slots idle.
 */
function fetchLimits(
  executor: ExecutorPort<unknown, unknown>,
  kinds: readonly string[],
  prefetch: number | "auto",
  limits: Readonly<Record<string, number>> | undefined,
): Pick<FetcherOptions, "capacity" | "autoPrefetch" | "perKind" | "groups"> {
  const base = {
    ...prefetchOf(executor.concurrency, prefetch),
    ...(limits ? { perKind: limits } : {}),
  };
  const slots = executor instanceof KindRouter ? executor.slots : undefined;
  if (!slots) return base;
  const perKind: Record<string, number> = { ...limits };
  for (const [kind, n] of Object.entries(slots.isolated)) perKind[kind] = Math.min(perKind[kind] ?? n, n);
  const shared = kinds.filter((kind) => slots.isolated[kind] === undefined);
  return {
    ...base,
    perKind,
    ...(slots.shared === undefined || shared.length === 0
      ? {}
      : { groups: [{ kinds: shared, capacity: slots.shared + (prefetch === "auto" ? 0 : prefetch) }] }),
  };
}

/** A fetcher's capacity for its slots and a prefetch: fixed, or sized as it runs. */
function prefetchOf(slots: number, prefetch: number | "auto") {
  return prefetch === "auto"
    ? { capacity: slots, autoPrefetch: { horizonMs: PREFETCH_HORIZON_MS, max: MAX_AUTO_PREFETCH } }
    : { capacity: slots + prefetch };
}

/** A prefetch checked: "auto" or an integer from 0; ConfigError naming it. */
export function checkPrefetch(prefetch: unknown): number | "auto" {
  if (prefetch === "auto") return prefetch;
  if (typeof prefetch !== "number" || !Number.isInteger(prefetch) || prefetch < 0 || prefetch > 1_000_000)
    throw new ConfigError(
      "prefetch",
      `prefetch must be "auto" or an integer from 0 to 1000000, got ${JSON.stringify(prefetch)}`,
    );
  return prefetch;
}

/** A worker's per-kind limits checked: kinds it serves, each a positive integer; ConfigError naming it. */
export function checkKindConcurrency(
  limits: Readonly<Record<string, number>>,
  kinds: readonly string[],
  name = "kindConcurrency",
): Readonly<Record<string, number>> {
  if (limits === null || typeof limits !== "object" || Array.isArray(limits))
    throw new ConfigError(name, `${name} must be an object: { kind: limit }`);
  for (const [kind, max] of Object.entries(limits)) {
    if (!kinds.includes(kind))
      throw new ConfigError(
        name,
        `${name} names ${JSON.stringify(kind)}, a kind this worker does not serve (it serves ${kinds.join(", ")})`,
      );
    if (!Number.isInteger(max) || max < 1)
      throw new ConfigError(name, `${name} ${kind} must be a positive integer, got ${JSON.stringify(max)}`);
  }
  return limits;
}

/**
 * Options of `createWorker`. `Kinds`, the map of kinds (`createWorker<Kinds>`), limits the keys of
 * `handlers` to its kinds (typed-kinds.ts); by default any kind.
 */
export interface WorkerOptions<Kinds extends KindMap<Kinds> = AnyKinds> extends RunOptions {
  /** The handler module of each kind it serves: `{ resize: "./resize.mjs", email: new URL(...) }`. */
  readonly handlers: HandlerModulesOf<Kinds>;
  /**
   * The store to take tasks from: a SQLite file, `:memory:`, or a `postgres://` URL.
   * @default ".taskq/tasks.db"
   */
  readonly store?: string;
  /** An object store directory for `ctx.objects`. @default none */
  readonly objects?: string;
  /** Plain data every handler gets as `ctx.options`. @default undefined */
  readonly handlerOptions?: unknown;
  /** Where the worker logs (pino fits). @default silent */
  readonly logger?: LoggerPort;
  /** Called as tasks move through their lifecycle. @default none */
  readonly hooks?: LifecycleHooks;
  /**
   * How often an idle worker looks for tasks when nothing wakes it earlier, ms.
   * @default 200 on SQLite; 2000 on PostgreSQL, which wakes idle workers with LISTEN/NOTIFY
   */
  readonly pollMs?: number;
  /**
   * Most tasks of a kind this worker holds at once: `{ email: 4 }` (see ServeOptions).
   * @default none
   */
  readonly kindConcurrency?: Readonly<Record<string, number>>;
  /** Tasks it takes beyond its free slots (see ServeOptions). @default "auto" */
  readonly prefetch?: number | "auto";
  /**
   * Kinds whose handlers run apart from the others, in threads or child processes of their own:
   * `{ resize: "process" }`, `{ pdf: { in: "thread", memoryLimitMb: 256 } }` (see Isolation).
   * @default none: every kind on the shared threads
   */
  readonly isolation?: Isolation;
  /**
   * Its name, for people: monitor and the dashboard show it beside its id (host:pid:nonce);
   * 1-100 printable characters. @default the host name
   */
  readonly name?: string;
}

/** A running worker: it takes tasks of its kinds from the store until closed. */
export interface Worker {
  /** The kinds it serves. */
  readonly kinds: readonly string[];
  /** The task store. */
  readonly store: TaskStoreDriver;
  /** The worker's metrics (the CLI's JSON field names). */
  metrics(): MetricsReport;
  /** The worker's metrics in the Prometheus text format. */
  prometheus(): string;
  /** Stops taking tasks, finishes (drain) or hands back what it holds, and closes threads and store. */
  close(options?: CloseOptions): Promise<void>;
}

const WORKER_KEYS = [
  ...keysOf<Omit<WorkerOptions, keyof RunOptions>>()({
    handlers: true,
    store: true,
    objects: true,
    handlerOptions: true,
    logger: true,
    hooks: true,
    pollMs: true,
    kindConcurrency: true,
    prefetch: true,
    isolation: true,
    name: true,
  }),
  ...RUN_OPTION_KEYS,
];

/**
 * Starts a worker for the kinds of `handlers`: it takes queued tasks of those kinds (and no
 * other) from the store, runs them on its threads, and records their outcomes; many workers
 * with different handler sets can share one store. Every option and handler is checked first: a
 * bad one throws a ConfigError naming it, and nothing starts.
 */
export function createWorker<Kinds extends KindMap<Kinds> = AnyKinds>(
  options: WorkerOptions<Kinds>,
): Promise<Worker>;
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "createWorker needs an options object");
  checkOptionKeys(options, WORKER_KEYS);
  if (options.pollMs !== undefined && (!Number.isInteger(options.pollMs) || options.pollMs < 1))
    throw new ConfigError(
      "pollMs",
      `pollMs must be a positive integer, got ${JSON.stringify(options.pollMs)}`,
    );
  if (options.prefetch !== undefined) checkPrefetch(options.prefetch);
  const store = checkStoreLocation(options.store ?? SETTINGS.store.default, "store");
  // before anything opens: the handlers' keys are the kinds it will serve
  if (options.kindConcurrency !== undefined && options.handlers && typeof options.handlers === "object")
    checkKindConcurrency(options.kindConcurrency, Object.keys(options.handlers));
  const settings = resolveRunOptions(options);
  if (options.isolation !== undefined && options.handlers && typeof options.handlers === "object")
    checkIsolation(options.isolation, Object.keys(options.handlers), settings.threads);
  const handlerOptions = options.handlerOptions;
  const runtime = await openRuntime({
    ...settings,
    store,
    handlers: options.handlers,
    handlerOptions,
    logger: options.logger ?? silentLogger,
    ...(options.isolation === undefined ? {} : { isolation: options.isolation }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.objects === undefined ? {} : { storage: options.objects }),
  });
  const stop = new AbortController();
  const loop = serve(runtime, {
    signal: stop.signal,
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(options.kindConcurrency === undefined ? {} : { kindConcurrency: options.kindConcurrency }),
    ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    onRetryableError: (error) =>
      runtime.logger.warn(
        { error_class: "store_unavailable" },
        `taking tasks: ${error.message}; trying again`,
      ),
  }).catch((error: unknown) => {
    runtime.logger.error(
      { error_class: "worker" },
      `the worker stopped taking tasks: ${(error as Error).message}`,
    );
  });
  let closing: Promise<void> | undefined;
  return {
    kinds: runtime.kinds,
    store: runtime.store,
    metrics: () => toReport(runtime.metrics.snapshot()),
    prometheus: () => toPrometheus(runtime.metrics.snapshot()),
    close(closeOptions = {}) {
      closing ??= (async () => {
        stop.abort();
        await loop;
        await runtime.close(closeOptions);
      })();
      return closing;
    },
  };
}
