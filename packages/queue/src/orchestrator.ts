import { setMaxListeners } from "node:events";
import { BoundedQueue, type OnFull } from "./bounded-queue.js";
import {
  OrchestratorClosedError,
  QueueFullError,
  TaskCancelledError,
  TaskFailedError,
  TaskRetryingError,
} from "./errors.js";
import type {
  AttemptOutcome,
  AttemptSpan,
  ExecutorPort,
  LoggerPort,
  MetricsPort,
  PreparedTask,
  StoredParent,
  StoreRecord,
  TaskStorePort,
  TimingInfo,
  TraceCarrier,
  TracerPort,
} from "./ports.js";
import { RetryPolicy, type RetryPolicyOptions } from "./retry-policy.js";

/** A stored task's id and idempotency key, given to `prepare` when the orchestrator adopts it. */
export interface StoredIdentity {
  readonly id: string;
  readonly key?: string;
  /** The stored task's kind. */
  readonly kind?: string;
  /** The stored task's correlation id, when it has one. */
  readonly correlationId?: string;
  /** Workflows: the stored task's parents with their results, when it has any. */
  readonly parents?: readonly StoredParent[];
}

/** What a submit resolves with. */
export interface TaskResult {
  readonly id: string;
  readonly idempotencyKey: string;
  /** `running`: a duplicate of a task another process is running now. */
  readonly status: "succeeded" | "running";
  /** Answered from the store, or by joining a task in flight, without running it again. */
  readonly duplicate: boolean;
  readonly attempts: number;
  readonly outputKey: string | null;
  readonly etag: string | null;
  readonly result: string | null;
}

/** What the store keeps of a successful output. */
export interface StoredOutput {
  readonly outputKey?: string | null;
  readonly etag?: string | null;
  readonly result?: string | null;
}

/** Options of an orchestrator. */
export interface OrchestratorOptions<T, O> {
  /**
   * Validates a raw task; throws (an error with `errorClass`) for bad input: a submitted task is
   * then not stored, and one taken from the durable queue (`adopt`) fails as `validation`. For a
   * task taken from the durable queue it also gets the stored id, key and kind (`stored`, given
   * only then: its payload was read back from the store).
   */
  readonly prepare: (raw: unknown, stored?: StoredIdentity) => PreparedTask<T>;
  readonly store: TaskStorePort;
  readonly executor: ExecutorPort<T, O>;
  /**
   * Maps an executor's output to what the store keeps.
   * @default the output itself (nothing for null or undefined)
   */
  readonly toStored?: (output: O) => StoredOutput;
  /** Where counters, latencies and depth go. @default none */
  readonly metrics?: MetricsPort;
  /** Structured logger. @default none */
  readonly logger?: LoggerPort;
  /**
   * Bounded queue capacity (QUEUE_SIZE).
   * @default 200
   */
  readonly queueSize?: number;
  /**
   * When the queue is full: `block` makes submit wait for space, `reject` fails it with QueueFullError.
   * @default "block"
   */
  readonly onFull?: OnFull;
  /** Retry policy or its options (taskq's ATTEMPTS setting is `maxAttempts`). */
  readonly retry?: RetryPolicy | RetryPolicyOptions;
  /**
   * Cancels an attempt that runs longer than this (ms) as a retryable `timeout`; 0 means never.
   * @default 0
   */
  readonly taskTimeoutMs?: number;
  /**
   * Clock for latencies, in ms.
   * @default performance.now
   */
  readonly now?: () => number;
  /** Called as tasks move through their lifecycle (wire them into your own systems). @default none */
  readonly hooks?: LifecycleHooks;
  /** Runs each attempt in a span (taskq's OpenTelemetry tracer). @default none: no span */
  readonly tracer?: TracerPort;
}

/** What a lifecycle hook is told about the task. */
export interface TaskEvent {
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  /** The attempt's number, from 1 (0 when it never ran). */
  readonly attempt: number;
  /** For a failure, a retry or a dead letter: its class and message. */
  readonly errorClass?: string;
  readonly message?: string;
  /** For a retry: how long until the next attempt, ms. */
  readonly retryInMs?: number;
  /** The task's correlation id, when it was enqueued with one. */
  readonly correlationId?: string;
}

/**
 * Lifecycle hooks: each is called on the main thread after the store recorded the transition. A
 * hook that throws (or rejects) is logged and ignored: it never changes the task's outcome.
 */
export interface LifecycleHooks {
  /** An attempt started. */
  readonly started?: (event: TaskEvent) => unknown;
  readonly succeeded?: (event: TaskEvent) => unknown;
  /** An attempt failed and the task will run again after its backoff. */
  readonly retrying?: (event: TaskEvent) => unknown;
  /** The task failed for good (permanently, or out of attempts) and is in the dead letters. */
  readonly deadLettered?: (event: TaskEvent) => unknown;
  /** The task was cancelled while this process held it. */
  readonly cancelled?: (event: TaskEvent) => unknown;
  /**
   * A kind's circuit breaker opened (its counted failures reached the threshold, or its probe
   * failed): called in the one process whose attempt opened it.
   */
  readonly breakerOpened?: (event: BreakerHookEvent) => unknown;
  /** A kind's circuit breaker closed (its probe succeeded): called in the process that ran the probe. */
  readonly breakerClosed?: (event: BreakerHookEvent) => unknown;
}

/** What a breaker hook is told. */
export interface BreakerHookEvent {
  readonly kind: string;
  /** When it changed, epoch ms by the store's clock. */
  readonly at: number;
}

/** Options of `close`. */
export interface CloseOptions {
  /**
   * `true`: let admitted work finish first (up to `timeoutMs`); `false`: stop at once.
   * @default true
   */
  readonly drain?: boolean;
  /**
   * How long a draining close waits before it cancels what is left, in ms. Cancelled work goes
   * back to `queued` in the store.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

interface Job<T> {
  readonly prepared: PreparedTask<T>;
  readonly t0: number;
  readonly maxAttempts: number;
  seq: number;
  version: number;
  attempts: number;
  /** Already `running` in the store (taken from the durable queue): skip the start transition. */
  started: boolean;
  /**
   * Taken from the durable queue (adopt): a retry goes back to the store's queue, due after its
   * backoff, and is taken again from there (by any worker, through its kind's limits and its
   * priority), not re-admitted here.
   */
  adopted?: boolean;
  runMs: number;
  timer?: NodeJS.Timeout;
  /** Cancel asked for while this process held it: it ends `cancelled` at its next step. */
  cancelled?: boolean;
  /** An attempt is on the executor now. */
  executing?: boolean;
  /**
   * The store gave this process the task again, at a later version, while this job waited for a
   * slot (its lease ran out while the process was frozen, and a take reclaimed it): the newer job
   * runs it, and this one never begins (its finish would be refused anyway, after running twice).
   */
  superseded?: boolean;
  /** The enqueuing span's trace context (taken from the durable queue). */
  traceContext?: TraceCarrier;
  /** How long the taken attempt waited, ms by the store's clock (taken from the durable queue). */
  waitMs?: number;
  settle(outcome: { ok: true; value: TaskResult } | { ok: false; error: unknown }): void;
}

/** What a job starts from: its task's state in the store, and how it came (#enqueueJob). */
interface EnqueueState {
  seq: number;
  version: number;
  attempts: number;
  maxAttempts: number;
  started: boolean;
  adopted?: boolean;
  traceContext?: TraceCarrier | null;
  waitMs?: number;
}

/** The fields every log line about a task carries: its id and key, and its correlation id if any. */
function logFields(prepared: PreparedTask<unknown>): object {
  return prepared.correlationId === undefined
    ? { task_id: prepared.id, idempotency_key: prepared.idempotencyKey }
    : {
        task_id: prepared.id,
        idempotency_key: prepared.idempotencyKey,
        correlation_id: prepared.correlationId,
      };
}

function isStale(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_STALE_TRANSITION";
}

/**
 * The orchestrator: validate → claim (dedupe) → admit through the bounded queue → dispatch to a
 * free executor slot → record the outcome (succeed, retry after backoff, or dead-letter) →
 * resolve. The bounded queue is the only queue: a task is dispatched only when a slot is free,
 * and a retried task waits for its backoff outside any slot.
 */
export class Orchestrator<T, O> {
  readonly queue: BoundedQueue<Job<T>>;
  readonly retry: RetryPolicy;
  readonly executor: ExecutorPort<T, O>;
  readonly #prepare: (raw: unknown, stored?: StoredIdentity) => PreparedTask<T>;
  readonly #store: TaskStorePort;
  readonly #toStored: (output: O) => StoredOutput;
  readonly #metrics: MetricsPort | undefined;
  readonly #log: LoggerPort | undefined;
  readonly #taskTimeoutMs: number;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<TaskResult>>();
  readonly #pending = new Set<Job<T>>();
  /** How many of `#pending` are of each kind (a worker's per-kind limits). */
  readonly #pendingByKind = new Map<string, number>();
  /** The pending jobs by their store seq (what a cancel names). */
  readonly #bySeq = new Map<number, Job<T>>();
  readonly #hooks: LifecycleHooks;
  readonly #tracer: TracerPort | undefined;
  readonly #cancel = new AbortController();
  readonly #lanes: Promise<void>[];
  /** Lanes running an attempt now. */
  #busy = 0;
  /**
   * Outcomes being recorded in the store: a lane hands its attempt's outcome to the store and
   * goes on to the next task (the slot is the handler's, not the commit's; the task stays pending,
   * and settles, once its outcome is stored). A close waits for them.
   */
  #recording = 0;
  /** Who waits for the outcomes being recorded (a close). */
  #recordedWaiters: (() => void)[] = [];
  /** One recording ended (one function for every task: no closure made per task). */
  readonly #recordingEnded = (): void => {
    if (--this.#recording === 0) for (const wake of this.#recordedWaiters.splice(0)) wake();
  };
  /** Slots promised to claims in flight that store their task as `running` (see #claimAndRun). */
  #reserved = 0;
  #idleWaiters: (() => void)[] = [];
  #accepting = true;
  #closing: Promise<void> | undefined;
  /** Ends a draining close's wait early (a second close with drain: false). */
  #stopDraining: (() => void) | undefined;
  /** Admissions that had to wait for space in the queue. */
  blockedAdmissions = 0;

  constructor(options: OrchestratorOptions<T, O>) {
    if (typeof options.prepare !== "function") throw new TypeError("prepare must be a function");
    if (!options.store) throw new TypeError("store is required");
    if (!options.executor) throw new TypeError("executor is required");
    const timeout = options.taskTimeoutMs ?? 0;
    if (!(timeout >= 0 && Number.isFinite(timeout)))
      throw new RangeError(`taskTimeoutMs must be >= 0, got ${options.taskTimeoutMs}`);
    this.queue = new BoundedQueue({
      ...(options.queueSize === undefined ? {} : { maxSize: options.queueSize }),
      ...(options.onFull === undefined ? {} : { onFull: options.onFull }),
    });
    this.retry = options.retry instanceof RetryPolicy ? options.retry : new RetryPolicy(options.retry);
    this.executor = options.executor;
    this.#prepare = options.prepare;
    this.#store = options.store;
    // an output of nothing (null, undefined) stores nothing, as `{}` does
    this.#toStored = options.toStored ?? ((output) => (output ?? {}) as StoredOutput);
    this.#metrics = options.metrics;
    this.#log = options.logger;
    this.#taskTimeoutMs = timeout;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#hooks = options.hooks ?? {};
    this.#tracer = options.tracer;
    // Every blocked admission listens to the cancel signal: hundreds at once is by design.
    setMaxListeners(0, this.#cancel.signal);
    this.#lanes = Array.from({ length: this.executor.concurrency }, () => this.#lane());
  }

  /** Tasks submitted and not settled yet (queued, running, or waiting for a retry). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Tasks of `kind` submitted or adopted and not settled yet. */
  pendingOf(kind: string): number {
    return this.#pendingByKind.get(kind) ?? 0;
  }

  /** The store seqs of the tasks this process holds (pending), for a cancel watch. */
  heldSeqs(): number[] {
    return [...this.#bySeq.keys()];
  }

  /** Attempts running on the executor now (the rest of `pending` waits for a slot or a retry). */
  get executing(): number {
    return this.#busy;
  }

  #countKind(kind: string, by: 1 | -1): void {
    const n = (this.#pendingByKind.get(kind) ?? 0) + by;
    if (n === 0) this.#pendingByKind.delete(kind);
    else this.#pendingByKind.set(kind, n);
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Runs a task through the whole chain. Resolves with its result (at once, from the store, for
   * a duplicate of a finished task; by joining it, for a duplicate in flight); rejects with the
   * validation error, QueueFullError (reject mode), TaskFailedError, or OrchestratorClosedError.
   */
  submit(raw: unknown): Promise<TaskResult> {
    const t0 = this.#now();
    if (!this.#accepting) return Promise.reject(new OrchestratorClosedError());
    let prepared: PreparedTask<T>;
    try {
      prepared = this.#prepare(raw);
    } catch (error) {
      this.#metrics?.recordFailure((error as { errorClass?: string }).errorClass ?? "validation");
      return Promise.reject(error);
    }
    return this.#submit(prepared, t0);
  }

  /**
   * `submit` for a task the caller already validated and shaped with the same rules as
   * `prepare` (a task file checked up front, say): it is not validated a second time.
   */
  submitPrepared(prepared: PreparedTask<T>): Promise<TaskResult> {
    const t0 = this.#now();
    if (!this.#accepting) return Promise.reject(new OrchestratorClosedError());
    return this.#submit(prepared, t0);
  }

  #submit(prepared: PreparedTask<T>, t0: number): Promise<TaskResult> {
    // the same key under two kinds is two tasks
    const key = `${prepared.kind}\u0000${prepared.idempotencyKey}`;
    const joined = this.#inflight.get(key);
    if (joined) {
      this.#metrics?.recordDuplicate();
      return joined.then((result) => ({ ...result, duplicate: true }));
    }
    const promise = this.#claimAndRun(prepared, t0);
    this.#inflight.set(key, promise);
    const forget = () => this.#inflight.delete(key);
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Runs a task already taken from the durable queue (status `running`, leased to this process):
   * the Fetcher (`taskq serve`, `createWorker`, a queue's enqueued tasks) feeds the orchestrator
   * this way. Its payload is validated like a submitted task's.
   */
  adopt(record: StoreRecord & { readonly payload: unknown }): Promise<TaskResult> {
    const t0 = this.#now();
    if (!this.#accepting) return Promise.reject(new OrchestratorClosedError());
    let prepared: PreparedTask<T>;
    try {
      // one object, its fields set as present (no spread, and no object made per field)
      const stored: { -readonly [K in keyof StoredIdentity]: StoredIdentity[K] } = { id: record.id };
      if (record.idempotencyKey !== undefined) stored.key = record.idempotencyKey;
      if (record.kind !== undefined) stored.kind = record.kind;
      if (record.correlationId != null) stored.correlationId = record.correlationId;
      if (record.parents !== undefined) stored.parents = record.parents;
      prepared = this.#prepare(record.payload, stored);
    } catch (error) {
      const failure = { errorClass: "validation", message: (error as Error).message };
      this.#metrics?.recordFailure("validation");
      return this.#store.fail(record.seq, record.version, failure).then(() => Promise.reject(error));
    }
    // the fields the job reads, not a copy of the whole record (a wide object per task)
    const state: EnqueueState = {
      seq: record.seq,
      version: record.version,
      attempts: record.attempts,
      maxAttempts: record.maxAttempts,
      started: true,
      adopted: true,
    };
    // the enqueuing span's context goes with the job whatever the tracer says now (a provider
    // may be registered before the attempt runs); the wait is worked out only for a tracer
    if (record.traceContext != null) state.traceContext = record.traceContext;
    if (this.#tracer?.enabled() && record.startedAt != null && record.nextRunAt !== undefined)
      state.waitMs = Math.max(0, record.startedAt - record.nextRunAt);
    return this.#enqueueJob(prepared, t0, state);
  }

  /**
   * When nothing waits in the queue and a slot is free (counting the ones already promised), the
   * task will be dispatched as soon as its claim commits: promise it the slot, and let the claim
   * store it as `running` at once, saving the queued → running transition.
   */
  #reserveSlot(): boolean {
    if (this.queue.size > 0 || this.#busy + this.#reserved >= this.executor.concurrency) return false;
    this.#reserved++;
    return true;
  }

  async #claimAndRun(prepared: PreparedTask<T>, t0: number): Promise<TaskResult> {
    const maxAttempts = prepared.maxAttempts ?? this.retry.maxAttempts;
    const start = this.#reserveSlot();
    let claim: Awaited<ReturnType<TaskStorePort["claim"]>>;
    try {
      claim = await this.#store.claim({
        id: prepared.id,
        idempotencyKey: prepared.idempotencyKey,
        kind: prepared.kind,
        payload: prepared.payload,
        maxAttempts,
        ...(start ? { start } : {}),
      });
    } finally {
      if (start) this.#reserved--;
    }
    if (claim.created) {
      return this.#enqueueJob(prepared, t0, {
        seq: claim.seq,
        version: claim.version,
        attempts: claim.attempts,
        maxAttempts,
        started: claim.status === "running",
      });
    }
    const record = claim.record;
    if (record.status === "queued") {
      // Claimed earlier but never finished (a crash, a rejection, `submit`): run it now.
      return this.#enqueueJob(prepared, t0, { ...record, started: false });
    }
    this.#metrics?.recordDuplicate();
    if (record.status === "cancelled") throw new TaskCancelledError(record.id);
    if (record.status === "failed") {
      throw new TaskFailedError(
        record.id,
        record.errorClass ?? "unknown",
        record.attempts,
        record.errorMessage ?? "",
      );
    }
    return this.#result(prepared, record.attempts, record, true, record.status);
  }

  #result(
    prepared: PreparedTask<T>,
    attempts: number,
    stored: StoredOutput,
    duplicate: boolean,
    status: "succeeded" | "running" = "succeeded",
  ): TaskResult {
    return {
      id: prepared.id,
      idempotencyKey: prepared.idempotencyKey,
      status,
      duplicate,
      attempts,
      outputKey: stored.outputKey ?? null,
      etag: stored.etag ?? null,
      result: stored.result ?? null,
    };
  }

  #enqueueJob(prepared: PreparedTask<T>, t0: number, state: EnqueueState): Promise<TaskResult> {
    return new Promise<TaskResult>((resolve, reject) => {
      const job: Job<T> = {
        prepared,
        t0,
        seq: state.seq,
        version: state.version,
        attempts: state.attempts,
        maxAttempts: state.maxAttempts,
        started: state.started,
        runMs: 0,
        settle: (outcome) => {
          if (!this.#pending.delete(job)) return;
          this.#countKind(job.prepared.kind, -1);
          if (this.#bySeq.get(job.seq) === job) this.#bySeq.delete(job.seq);
          if (outcome.ok) resolve(outcome.value);
          else reject(outcome.error);
          if (this.#pending.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
        },
      };
      if (state.adopted) job.adopted = true;
      if (state.traceContext) job.traceContext = state.traceContext;
      if (state.waitMs !== undefined) job.waitMs = state.waitMs;
      this.#pending.add(job);
      this.#countKind(job.prepared.kind, 1);
      const older = this.#bySeq.get(job.seq);
      if (older && older.version < job.version) older.superseded = true;
      this.#bySeq.set(job.seq, job);
      // A job already running in the store was promised a slot: it waits for one, never rejected.
      void this.#admit(job, !job.started);
    });
  }

  async #admit(job: Job<T>, initial: boolean): Promise<void> {
    const queue = this.queue;
    // (an adopted job is `started` until its attempt begins: this is its first admission)
    if (job.adopted && job.started && !queue.closed) {
      // taken from the durable queue by a fetcher, whose capacity bounds what it holds (slots and
      // prefetch): never blocked by the queue's size, which bounds what producers submit here
      queue.putBeyondCapacity(job);
      this.#metrics?.recordEnqueue(queue.size);
      return;
    }
    const willWait = queue.size >= queue.maxSize || queue.waitingPutters > 0;
    if (willWait && (!initial || queue.onFull === "block")) {
      this.blockedAdmissions++;
      this.#metrics?.recordBlocked();
    }
    try {
      // A re-admitted retry always waits: it was admitted once already.
      await queue.put(job, { signal: this.#cancel.signal, ...(initial ? {} : { onFull: "block" as const }) });
      this.#metrics?.recordEnqueue(queue.size);
    } catch (error) {
      if (error instanceof QueueFullError) {
        this.#metrics?.recordRejection();
        this.#log?.warn(logFields(job.prepared), "queue full: task rejected");
        job.settle({ ok: false, error });
      } else {
        await this.#handBack(job);
      }
    }
  }

  async #lane(): Promise<void> {
    for (;;) {
      let job: Job<T>;
      try {
        job = await this.queue.take();
      } catch {
        return; // closed and drained
      }
      this.#metrics?.recordDequeue(this.queue.size);
      this.#busy++;
      let recording: Promise<void> | undefined;
      try {
        recording = (await this.#attempt(job))?.recording;
      } catch (error) {
        job.settle({ ok: false, error });
      } finally {
        this.#busy--;
      }
      if (recording) {
        this.#recording++;
        // #record settles its job and does not reject; counted down either way, so a close never waits forever
        void recording.then(this.#recordingEnded, this.#recordingEnded);
      }
    }
  }

  #timing(job: Job<T>): TimingInfo {
    const totalMs = this.#now() - job.t0;
    return { totalMs, waitMs: Math.max(0, totalMs - job.runMs), runMs: job.runMs };
  }

  /**
   * Runs one attempt of a job on the executor; what it returns records its outcome in the store
   * (the lane does not wait for that: see #recording). Undefined when it ended without running.
   */
  async #attempt(job: Job<T>): Promise<{ readonly recording: Promise<void> } | undefined> {
    const { prepared } = job;
    if (this.#cancel.signal.aborted) {
      await this.#handBack(job);
      return;
    }
    if (job.superseded && job.started) {
      // taken again at a later version while it waited here: the newer job runs it, not this one
      this.#metrics?.recordDuplicate();
      job.settle({ ok: true, value: this.#result(prepared, job.attempts, {}, true, "running") });
      return;
    }
    if (job.cancelled) {
      // cancelled while it waited for a slot: running in the store only if it was leased to us
      await this.#endCancelled(job, job.started);
      return;
    }
    let version = job.version;
    let attempt = job.attempts;
    if (job.started) {
      job.started = false;
    } else {
      try {
        const started = await this.#store.start(job.seq, job.version);
        version = started.version;
        attempt = started.attempts;
      } catch (error) {
        if (isStale(error) && job.cancelled) {
          await this.#endCancelled(job, false); // the store cancelled it while it was queued
          return;
        }
        if (isStale(error)) {
          // Another process took it first (or cancelled it): it is its business, not twice.
          this.#metrics?.recordDuplicate();
          job.settle({ ok: true, value: this.#result(prepared, job.attempts, {}, true, "running") });
          return;
        }
        if ((error as { retryable?: unknown }).retryable === true) {
          this.#metrics?.recordRetry("store_busy");
          this.#log?.warn(
            { ...logFields(prepared), error_class: "store_busy" },
            "task store busy: admission retried",
          );
          this.#schedule(job, this.retry.delayMs(Math.max(1, job.attempts)));
          return;
        }
        throw error;
      }
    }
    // Only a task timeout passes a signal down: tinypool runs a task that has a signal alone on
    // its thread (aborting it terminates the thread), which would defeat concurrentTasksPerThread.
    // A forced close cancels running attempts by destroying the executor instead.
    const signal =
      this.#taskTimeoutMs > 0
        ? AbortSignal.any([this.#cancel.signal, AbortSignal.timeout(this.#taskTimeoutMs)])
        : undefined;
    job.version = version;
    job.attempts = attempt;
    if (job.cancelled) {
      // cancelled while the store started it: running there, leased to us
      await this.#endCancelled(job, true);
      return;
    }
    this.#emit("started", job);
    job.executing = true;
    // a span only when a tracer is wired in and traces (OpenTelemetry with a provider)
    const span = this.#tracer?.enabled()
      ? this.#tracer.startAttempt({
          id: prepared.id,
          kind: prepared.kind,
          attempt,
          correlationId: prepared.correlationId,
          traceContext: job.traceContext,
          waitMs: job.waitMs,
        })
      : undefined;
    if (span) job.waitMs = undefined; // a retry's wait is its own (it is taken again from the store)
    let outcome: AttemptOutcome<O>;
    try {
      outcome = await (span
        ? span.run(() => this.executor.run(prepared.task, attempt, signal))
        : this.executor.run(prepared.task, attempt, signal));
    } catch (error) {
      span?.end("crashed", { errorClass: "worker_crash", retryable: true, message: String(error) });
      throw error;
    } finally {
      job.executing = false;
    }
    this.#metrics?.recordAttempt(outcome.runMs);
    job.runMs += outcome.runMs;
    return { recording: this.#record(job, outcome, version, attempt, span) };
  }

  /**
   * Records an attempt's outcome in the store, then settles the job (or schedules its retry); a write
   * that fails settles the job with its error: the promise never rejects.
   */
  async #record(
    job: Job<T>,
    outcome: AttemptOutcome<O>,
    version: number,
    attempt: number,
    span?: AttemptSpan,
  ): Promise<void> {
    try {
      if (!span) {
        await this.#recorded(job, outcome, version, attempt);
        return;
      }
      try {
        span.end(
          await this.#recorded(job, outcome, version, attempt),
          outcome.ok ? undefined : outcome.error,
        );
      } catch (error) {
        span.end("unrecorded", outcome.ok ? undefined : outcome.error);
        throw error;
      }
    } catch (error) {
      job.settle({ ok: false, error }); // the store refused or failed the write
    }
  }

  /** Records an attempt's outcome (see #record); what became of it, in a word, for its span. */
  async #recorded(
    job: Job<T>,
    outcome: AttemptOutcome<O>,
    version: number,
    attempt: number,
  ): Promise<string> {
    const { prepared } = job;
    if (outcome.ok) {
      // a cancel that came too late: the task had finished, and succeeded it stays
      const stored = this.#toStored(outcome.output);
      job.version = await this.#store.succeed(job.seq, version, stored);
      this.#metrics?.recordSuccess(this.#timing(job));
      // the line's fields are made only for a logger that writes debug lines
      if (this.#log && this.#log.isLevelEnabled?.("debug") !== false)
        this.#log.debug({ ...logFields(prepared), attempt }, "task succeeded");
      this.#emit("succeeded", job);
      job.settle({ ok: true, value: this.#result(prepared, attempt, stored, false) });
      return "succeeded";
    }
    if (job.cancelled) {
      await this.#endCancelled(job, true);
      return "cancelled";
    }
    const { error } = outcome;
    if (this.#cancel.signal.aborted) {
      // Cancelled by close: hand it back to the durable queue, not a failure.
      job.version = await this.#store.release(job.seq, version);
      job.settle({
        ok: false,
        error: new OrchestratorClosedError(
          "the orchestrator closed while the task ran; it was returned to the queue",
        ),
      });
      return "released";
    }
    const fields = logFields(prepared);
    const failure = { errorClass: error.errorClass, message: error.message };
    const stored = {
      ...failure,
      retryable: error.retryable,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
    if (this.retry.shouldRetry(error, attempt, job.maxAttempts)) {
      const delay = this.retry.delayMs(attempt);
      job.version = await this.#store.retry(job.seq, version, stored, delay);
      this.#metrics?.recordRetry(error.errorClass);
      this.#log?.warn(
        { ...fields, attempt, error_class: error.errorClass, retry_in_ms: Math.round(delay) },
        error.message,
      );
      this.#emit("retrying", job, { ...failure, retryInMs: Math.round(delay) });
      if (job.adopted) {
        // queued in the store, due after the backoff: the durable queue hands it out again
        job.settle({ ok: false, error: new TaskRetryingError(prepared.id, attempt, delay) });
        return "retrying";
      }
      this.#schedule(job, delay);
      return "retrying";
    }
    job.version = await this.#store.fail(job.seq, version, stored);
    this.#metrics?.recordFailure(error.errorClass, this.#timing(job));
    this.#log?.error({ ...fields, attempt, error_class: error.errorClass }, error.message);
    this.#emit("deadLettered", job, failure);
    job.settle({
      ok: false,
      error: new TaskFailedError(prepared.id, error.errorClass, attempt, error.message),
    });
    return "dead_lettered";
  }

  /**
   * Settles a job that never ran because the orchestrator closed. One already `running` in the store
   * (claimed to run at once, or adopted from the durable queue) goes back to `queued` there.
   */
  async #handBack(job: Job<T>): Promise<void> {
    if (job.started) {
      try {
        job.version = await this.#store.release(job.seq, job.version);
      } catch (error) {
        this.#log?.warn(
          logFields(job.prepared),
          `could not hand the task back to the queue: ${(error as Error).message}`,
        );
      }
    }
    job.settle({
      ok: false,
      error: new OrchestratorClosedError(
        "the orchestrator closed before the task ran; it stays queued in the store",
      ),
    });
  }

  /**
   * Cancels a task this process holds, by its store seq, after the store has recorded the cancel
   * (a queued task is `cancelled` there already; a running one has its cancel requested). One
   * waiting for a slot or backing off ends at once; one executing has its attempt aborted through
   * the executor's `cancel` (a handler's `ctx.signal`) and ends when the attempt returns, unless
   * it succeeded first. Its submitter gets TaskCancelledError. False when this process does not
   * hold the task.
   */
  cancel(seq: number): boolean {
    const job = this.#bySeq.get(seq);
    if (!job) return false;
    const again = job.cancelled === true;
    job.cancelled = true;
    // Sent again on every call while the attempt runs (the cancel watch calls every second while
    // the store still says running): a cancel can reach a thread before the attempt it names.
    if (job.executing) this.executor.cancel?.(job.prepared.task);
    else if (again) return true;
    else if (job.timer) {
      // backing off: `queued` in the store, which cancelled it already
      clearTimeout(job.timer);
      job.timer = undefined;
      void this.#endCancelled(job, false);
    }
    // waiting in the bounded queue: the lane that takes it ends it
    return true;
  }

  /** Ends a cancelled job: running in the store → cancelled there; then its submitter is told. */
  async #endCancelled(job: Job<T>, runningInStore: boolean): Promise<void> {
    if (runningInStore && this.#store.cancelRunning) {
      try {
        job.version = await this.#store.cancelRunning(job.seq, job.version);
      } catch (error) {
        if (!isStale(error)) throw error; // a lease lost meanwhile: its new holder ends it
      }
    }
    this.#emit("cancelled", job);
    job.settle({ ok: false, error: new TaskCancelledError(job.prepared.id) });
  }

  /**
   * Fires the breaker hooks for a breaker this process's store call opened or closed (the runtime
   * wires the store's onBreakerChange here); a hook that throws is logged and ignored.
   */
  breakerChanged(change: { kind: string; state: "opened" | "closed"; at: number }): void {
    const hook = change.state === "opened" ? "breakerOpened" : "breakerClosed";
    const line = `the circuit breaker of kind ${change.kind} ${change.state}`;
    if (change.state === "opened") this.#log?.warn({ kind: change.kind }, line);
    else this.#log?.info({ kind: change.kind }, line);
    const fn = this.#hooks[hook];
    if (!fn) return;
    const report = (error: unknown) =>
      this.#log?.warn(
        { kind: change.kind, hook },
        `the ${hook} hook failed: ${(error as Error)?.message ?? String(error)}`,
      );
    try {
      const returned = fn({ kind: change.kind, at: change.at });
      if (returned instanceof Promise) returned.catch(report);
    } catch (error) {
      report(error);
    }
  }

  /** Calls a lifecycle hook; one that throws or rejects is logged, never in the task's way. */
  #emit(
    hook: Exclude<keyof LifecycleHooks, "breakerOpened" | "breakerClosed">,
    job: Job<T>,
    extra?: Partial<TaskEvent>,
  ): void {
    const fn = this.#hooks[hook];
    if (!fn) return;
    const { prepared } = job;
    const event: TaskEvent = {
      id: prepared.id,
      key: prepared.idempotencyKey,
      kind: prepared.kind,
      attempt: job.attempts,
      ...(prepared.correlationId === undefined ? {} : { correlationId: prepared.correlationId }),
      ...extra,
    };
    const report = (error: unknown) =>
      this.#log?.warn(
        { ...logFields(prepared), hook },
        `the ${hook} hook failed: ${(error as Error)?.message ?? String(error)}`,
      );
    try {
      const returned = fn(event);
      if (returned instanceof Promise) returned.catch(report);
    } catch (error) {
      report(error);
    }
  }

  /** Re-admits a job after its backoff; it holds no slot while it waits. */
  #schedule(job: Job<T>, delayMs: number): void {
    job.timer = setTimeout(() => {
      job.timer = undefined;
      void this.#admit(job, false);
    }, delayMs);
  }

  /** Resolves when nothing is pending. */
  #idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops admission, lets admitted work finish (drain) up to `timeoutMs`, then cancels the rest:
   * running attempts are aborted and returned to `queued` in the store, queued and backing-off
   * tasks stay `queued` there; their submitters get OrchestratorClosedError. Then the executor is
   * destroyed. Idempotent: every call returns the same promise; a call with `drain: false` while
   * a draining close waits cuts the wait short (the second Ctrl-C).
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) {
      if (options.drain === false) this.#stopDraining?.();
      return this.#closing;
    }
    this.#closing = this.#close(options.drain ?? true, options.timeoutMs ?? 30_000);
    return this.#closing;
  }

  async #close(drain: boolean, timeoutMs: number): Promise<void> {
    this.#accepting = false;
    if (drain && this.#pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#idle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          this.#stopDraining = resolve;
        }),
      ]);
      clearTimeout(timer);
    }
    this.#cancel.abort(new OrchestratorClosedError("the orchestrator is closing"));
    // Running attempts end when their threads do; they come back as failures and are released.
    const destroyed = this.executor.destroy();
    const closed = new OrchestratorClosedError(
      "the orchestrator closed before the task ran; it stays queued in the store",
    );
    for (const job of [...this.#pending]) {
      if (job.timer) {
        clearTimeout(job.timer);
        job.settle({ ok: false, error: closed });
      }
    }
    this.queue.close();
    const handedBack: Promise<void>[] = [];
    for (let job = this.queue.tryTake(); job; job = this.queue.tryTake())
      handedBack.push(this.#handBack(job));
    await Promise.all([...this.#lanes, ...handedBack]);
    if (this.#recording > 0) await new Promise<void>((resolve) => this.#recordedWaiters.push(resolve));
    await destroyed;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
