import { Tinypool } from "tinypool";
import type { AttemptOutcome, ExecutorPort } from "./ports.js";

/** Options of the executor on threads. */
export interface TinypoolExecutorOptions<T> {
  /** The threads' entry module (its default export runs one attempt and returns an AttemptOutcome). */
  readonly filename: string | URL;
  /**
   * Threads (THREADS); tinypool keeps exactly this many.
   * @default 4
   */
  readonly threads?: number;
  /**
   * Attempts one thread runs at once, so I/O waits overlap while CPU work stays parallel across threads.
   * @default 1
   */
  readonly concurrentTasksPerThread?: number;
  /**
   * @deprecated The option is `concurrentTasksPerThread` (a worker is a process in taskq; this
   * is per thread). Taken when that is not given.
   */
  readonly concurrentTasksPerWorker?: number;
  /**
   * Builds the message a thread receives for one attempt.
   * @default (task, attempt) => ({ task, attempt })
   */
  readonly request?: (task: T, attempt: number) => unknown;
  /**
   * Data every thread receives once at start-up (tinypool's `workerData`): what the thread needs
   * for every attempt, so it is not cloned into each message.
   * @default undefined
   */
  readonly workerData?: unknown;
  /**
   * Hears what tinypool reports outside any attempt: a result that comes after its attempt was
   * aborted (a process frozen past a task timeout wakes to both at once), a thread that fails
   * with no attempt on it. The attempts themselves are unaffected.
   * @default ignored
   */
  readonly onError?: (error: Error) => void;
  /**
   * Each thread's heap limits (Node's Worker `resourceLimits`): a thread past
   * `maxOldGenerationSizeMb` is ended (its attempts fail) and replaced.
   * @default none: V8's own limits
   */
  readonly resourceLimits?: { readonly maxOldGenerationSizeMb?: number };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Runs attempts on tinypool's threads. A thread that dies, throws outside the task or is
 * aborted (a hung task past its timeout) costs only that attempt: it comes back as a retryable
 * `worker_crash` or `timeout` failure, and tinypool starts a new thread in its place.
 */
export class TinypoolExecutor<T, O> implements ExecutorPort<T, O> {
  readonly concurrency: number;
  readonly threads: number;
  readonly pool: Tinypool;
  readonly #request: (task: T, attempt: number) => unknown;

  constructor(options: TinypoolExecutorOptions<T>) {
    this.threads = positiveInteger("threads", options.threads ?? 4);
    const perThread = positiveInteger(
      options.concurrentTasksPerThread === undefined && options.concurrentTasksPerWorker !== undefined
        ? "concurrentTasksPerWorker"
        : "concurrentTasksPerThread",
      options.concurrentTasksPerThread ?? options.concurrentTasksPerWorker ?? 1,
    );
    this.concurrency = this.threads * perThread;
    this.#request = options.request ?? ((task, attempt) => ({ task, attempt }));
    const filename = options.filename instanceof URL ? options.filename.href : options.filename;
    this.pool = new Tinypool({
      filename,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: perThread, // tinypool's name for it
      idleTimeout: 60_000,
      isolateWorkers: false,
      ...(options.workerData === undefined ? {} : { workerData: options.workerData }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: { ...options.resourceLimits } }),
    });
    // tinypool emits 'error' on the pool for these, and an 'error' nobody hears ends the process
    this.pool.on("error", (error: Error) => options.onError?.(error));
  }

  async run(task: T, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<O>> {
    const start = performance.now();
    try {
      return (await this.pool.run(
        this.#request(task, attempt),
        signal ? { signal } : {},
      )) as AttemptOutcome<O>;
    } catch (error) {
      const aborted = signal?.aborted === true;
      return {
        ok: false,
        error: {
          errorClass: aborted ? "timeout" : "worker_crash",
          retryable: true,
          message: aborted
            ? `attempt cancelled: ${String((signal?.reason as Error | undefined)?.message ?? signal?.reason)}`
            : `thread failed: ${(error as Error).message}`,
        },
        runMs: performance.now() - start,
      };
    }
  }

  /** Threads alive now. */
  get threadCount(): number {
    return this.pool.threads.length;
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

/**
 * Runs attempts on the main thread (no thread hop): for no-op overhead runs and the baseline.
 * `destroy()` settles attempts still running as cancelled (their code cannot be killed), so a
 * forced close never waits on them.
 */
export class InlineExecutor<T, O> implements ExecutorPort<T, O> {
  readonly concurrency: number;
  readonly #run: (task: T, attempt: number, signal?: AbortSignal) => Promise<AttemptOutcome<O>>;
  readonly #running = new Set<(outcome: AttemptOutcome<O>) => void>();

  constructor(
    run: (task: T, attempt: number, signal?: AbortSignal) => Promise<AttemptOutcome<O>>,
    concurrency = 1,
  ) {
    this.concurrency = positiveInteger("concurrency", concurrency);
    this.#run = run;
  }

  run(task: T, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<O>> {
    const start = performance.now();
    // one promise an attempt, answered by its run or by destroy, whichever comes first (no race
    // of two promises, no async frame: this is every inline attempt's path)
    return new Promise<AttemptOutcome<O>>((resolve) => {
      this.#running.add(resolve);
      const failed = (error: unknown) => {
        this.#running.delete(resolve);
        resolve({
          ok: false,
          error: {
            errorClass: "internal",
            retryable: false,
            message: (error as Error)?.message ?? String(error),
          },
          runMs: performance.now() - start,
        });
      };
      let running: Promise<AttemptOutcome<O>>;
      try {
        // a run that answers a plain value is taken as its outcome (Promise.resolve of a promise is
        // that promise: nothing made for the usual case)
        running = Promise.resolve(this.#run(task, attempt, signal));
      } catch (error) {
        failed(error);
        return;
      }
      running.then((outcome) => {
        this.#running.delete(resolve);
        resolve(outcome);
      }, failed);
    });
  }

  async destroy(): Promise<void> {
    for (const settle of this.#running) {
      settle({
        ok: false,
        error: { errorClass: "cancelled", retryable: true, message: "the executor was destroyed" },
        runMs: 0,
      });
    }
    this.#running.clear();
  }
}
