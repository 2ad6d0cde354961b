// Isolation per kind: a kind named in `isolation` runs on an executor of its own (its own threads,
// with a heap limit if given, or its own child processes), so that what one of its handlers does
// to its thread or process (exit, an uncaught exception, running out of memory, a native abort in
// a process, a hang past the timeout) ends that attempt only. The kinds not named keep the shared
// executor, built exactly as without isolation. KindRouter sends each attempt to its kind's executor.
import type { AttemptOutcome } from "@taskq/queue";
import { ConfigError } from "./errors.js";
import { type HandlerTask, unknownKind } from "./handler.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";

/** Where an isolated kind's handlers run: threads of its own, or child processes of its own. */
export type IsolationLevel = "thread" | "process";

/** How one kind is isolated, in full (`"process"` is `{ in: "process" }`). */
export interface KindIsolation {
  /**
   * `thread`: threads of the kind's own (a thread that ends, or runs out of heap, ends only the
   * attempts on it). `process`: child processes of the kind's own, which also contain what takes a
   * thread's whole process with it (`process.abort()`, a native module's crash) and give a hard
   * timeout a process to kill.
   */
  readonly in: IsolationLevel;
  /**
   * The heap limit of each of the kind's threads or processes, MB (V8's old generation: Node's
   * `resourceLimits.maxOldGenerationSizeMb` for a thread, `--max-old-space-size` for a process;
   * buffers and native memory are not counted). An attempt past it fails as a retryable
   * `worker_crash` ("out of memory (memoryLimitMb N)"), with every attempt on that thread or process.
   * @default none: V8's own limit
   */
  readonly memoryLimitMb?: number;
  /**
   * Threads or processes of the kind's own, each started when first needed.
   * @default the worker's `threads` (1 with `threads: 0`)
   */
  readonly count?: number;
  /**
   * Attempts one of its threads or processes runs at once. With more than 1, a crash ends every
   * attempt running there (each retried).
   * @default 1
   */
  readonly concurrency?: number;
}

/**
 * Kinds whose handlers run apart from the others', by kind: `{ resize: "process" }`,
 * `{ pdf: { in: "thread", memoryLimitMb: 256 } }`. A handler there that exits, throws outside its
 * attempt, runs out of memory (past `memoryLimitMb`), aborts natively (in a process) or ignores
 * `ctx.signal` past `timeoutMs` and a second of grace (its thread or process is ended) fails that
 * attempt only, as a retryable `worker_crash` (or `timeout`) whose message says what happened; the
 * thread or process is replaced and the worker goes on. Kinds not named run as without it: on the
 * shared threads (or the main thread with `threads: 0`).
 * @default none: every kind on the shared threads
 */
export type Isolation = Readonly<Record<string, IsolationLevel | KindIsolation>>;

/** An isolated kind, checked, with every default filled in. */
export interface IsolatedKind {
  readonly kind: string;
  readonly in: IsolationLevel;
  readonly memoryLimitMb: number | undefined;
  readonly count: number;
  readonly concurrency: number;
}

const KIND_ISOLATION_KEYS = keysOf<KindIsolation>()({
  in: true,
  memoryLimitMb: true,
  count: true,
  concurrency: true,
});

/** The smallest and largest memoryLimitMb (V8 needs a few MB to start a thread or process at all). */
export const MEMORY_LIMIT_MB = { min: 16, max: 1_048_576 } as const;

function integerIn(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(
      option,
      `${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return value;
}

/**
 * An `isolation` option checked against the kinds the worker serves, with every default filled
 * in (`threads`: the worker's); a mistake is a ConfigError naming the option and the kind.
 */
export function checkIsolation(
  isolation: unknown,
  kinds: readonly string[],
  threads: number,
  option = "isolation",
): IsolatedKind[] {
  if (isolation === null || typeof isolation !== "object" || Array.isArray(isolation))
    throw new ConfigError(
      option,
      `${option} must be an object { kind: "thread" | "process" | { in, memoryLimitMb, count, concurrency } }, got ${JSON.stringify(isolation)}`,
    );
  const checked: IsolatedKind[] = [];
  for (const [kind, value] of Object.entries(isolation)) {
    const at = `${option}.${kind}`;
    if (!kinds.includes(kind))
      throw new ConfigError(
        at,
        `${option} names ${JSON.stringify(kind)}, a kind this worker does not serve (it serves ${kinds.join(", ")})`,
      );
    const full: Partial<KindIsolation> =
      typeof value === "string" ? { in: value as IsolationLevel } : (value as Partial<KindIsolation>);
    if (full === null || typeof full !== "object" || Array.isArray(full))
      throw new ConfigError(
        at,
        `${at} must be "thread", "process" or { in, memoryLimitMb, count, concurrency }, got ${JSON.stringify(value)}`,
      );
    checkOptionKeys(full, KIND_ISOLATION_KEYS, at);
    if (full.in !== "thread" && full.in !== "process")
      throw new ConfigError(
        typeof value === "string" ? at : `${at}.in`,
        `${typeof value === "string" ? at : `${at}.in`} must be "thread" or "process", got ${JSON.stringify(full.in)}`,
      );
    checked.push({
      kind,
      in: full.in,
      memoryLimitMb:
        full.memoryLimitMb === undefined
          ? undefined
          : integerIn(`${at}.memoryLimitMb`, full.memoryLimitMb, MEMORY_LIMIT_MB.min, MEMORY_LIMIT_MB.max),
      count: full.count === undefined ? Math.max(1, threads) : integerIn(`${at}.count`, full.count, 1, 256),
      concurrency:
        full.concurrency === undefined ? 1 : integerIn(`${at}.concurrency`, full.concurrency, 1, 10_000),
    });
  }
  return checked;
}

/** What KindRouter routes to: an executor of handler attempts. */
export interface KindExecutor {
  readonly concurrency: number;
  run(task: HandlerTask, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<string | null>>;
  cancel(task: HandlerTask): void;
  destroy(): Promise<void>;
}

/** An executor and the attempts it runs now; the ones past its concurrency wait their turn here. */
interface Route {
  readonly executor: KindExecutor;
  running: number;
  readonly waiting: (() => void)[];
}

/**
 * Sends each attempt to its kind's executor: an isolated kind's own, or the shared one for the
 * others (none when every kind is isolated: a task of a kind served nowhere here fails as
 * `unknown_kind`, as the shared executor says it). Its concurrency is theirs added up, so the
 * orchestrator has a slot for each; an executor is never given more than its own concurrency at
 * once (an attempt past it waits here for one of that executor's attempts to end).
 */
export class KindRouter implements KindExecutor {
  readonly concurrency: number;
  readonly #byKind: ReadonlyMap<string, Route>;
  readonly #shared: Route | undefined;
  readonly #routes: readonly Route[];
  readonly #isolated: Readonly<Record<string, number>>;
  #destroyed = false;

  constructor(shared: KindExecutor | undefined, isolated: ReadonlyMap<string, KindExecutor>) {
    const route = (executor: KindExecutor): Route => ({ executor, running: 0, waiting: [] });
    this.#shared = shared && route(shared);
    this.#byKind = new Map([...isolated].map(([kind, executor]) => [kind, route(executor)]));
    this.#routes = [...(this.#shared ? [this.#shared] : []), ...this.#byKind.values()];
    this.concurrency = this.#routes.reduce((sum, r) => sum + r.executor.concurrency, 0);
    this.#isolated = Object.fromEntries([...this.#byKind].map(([kind, r]) => [kind, r.executor.concurrency]));
  }

  /** The executors: the shared one (if any), then each isolated kind's. */
  get executors(): KindExecutor[] {
    return this.#routes.map((r) => r.executor);
  }

  /**
   * The slots of each executor, when there is more than one: `shared`, those of the executor of
   * the kinds not isolated (undefined when every kind is), and each isolated kind's. A worker then
   * holds no more of an isolated kind than its slots, and no more of the other kinds together than
   * the shared slots and its prefetch (serve's fetch groups): a task waiting here for its executor
   * holds an orchestrator slot that another executor could use (undefined: one executor).
   */
  get slots():
    | { readonly shared: number | undefined; readonly isolated: Readonly<Record<string, number>> }
    | undefined {
    return this.#routes.length > 1
      ? { shared: this.#shared?.executor.concurrency, isolated: this.#isolated }
      : undefined;
  }

  run(task: HandlerTask, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<string | null>> {
    const route = this.#byKind.get(task.kind) ?? this.#shared;
    if (!route) return Promise.resolve(unknownKind(task.kind));
    if (route.running < route.executor.concurrency) {
      route.running++;
      return this.#run(route, task, attempt, signal);
    }
    return new Promise<void>((resolve) => route.waiting.push(resolve)).then(() =>
      this.#run(route, task, attempt, signal),
    );
  }

  async #run(
    route: Route,
    task: HandlerTask,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<AttemptOutcome<string | null>> {
    try {
      if (this.#destroyed)
        return {
          ok: false,
          error: { errorClass: "worker_crash", retryable: true, message: "the executor was destroyed" },
          runMs: 0,
        };
      return await route.executor.run(task, attempt, signal);
    } finally {
      // the slot passes to the attempt waiting longest, or is free
      const next = route.waiting.shift();
      if (next) next();
      else route.running--;
    }
  }

  cancel(task: HandlerTask): void {
    (this.#byKind.get(task.kind) ?? this.#shared)?.executor.cancel(task);
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const route of this.#routes) for (const next of route.waiting.splice(0)) next();
    await Promise.all(this.#routes.map((r) => r.executor.destroy()));
  }
}
