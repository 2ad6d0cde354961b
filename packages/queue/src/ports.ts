// The ports the Orchestrator and the Fetcher need. @taskq/idempotency, @taskq/metrics, @taskq/processor and pino
// satisfy them structurally; the apps wire them in. This package imports none of them.

/** A classified failure, as plain data. */
export interface FailureInfo {
  readonly errorClass: string;
  readonly retryable: boolean;
  readonly message: string;
  /** The error's stack, when it had one: kept with the attempt in the store. */
  readonly stack?: string;
}

/** A failure as the store keeps it with the attempt. */
export interface StoredFailure {
  readonly errorClass: string;
  readonly message: string;
  readonly stack?: string;
  /** Whether it would be retried (a kind's circuit breaker counts these by default). */
  readonly retryable?: boolean;
}

/** The outcome of one attempt, as an executor reports it. */
export type AttemptOutcome<O> =
  | { readonly ok: true; readonly output: O; readonly runMs: number }
  | { readonly ok: false; readonly error: FailureInfo; readonly runMs: number };

/** Runs one attempt of a task somewhere (a thread, or inline). */
export interface ExecutorPort<T, O> {
  /** Attempts that can run at once: the dispatcher never starts more (the bounded queue is the only queue). */
  readonly concurrency: number;
  /** Never rejects for a task failure; `signal` cancels the attempt (a hung task past its timeout). */
  run(task: T, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<O>>;
  /**
   * Aborts the attempt of `task` running now, if the executor can (a handler's `ctx.signal`); the
   * attempt then returns a failure. Executors that cannot let it run to its end.
   */
  cancel?(task: T): void;
  destroy(): Promise<void>;
}

/** What the store keeps of a task. */
export interface StoreClaim {
  readonly id: string;
  readonly idempotencyKey: string;
  /** The task's kind (which handler runs it); idempotency keys are unique per kind. */
  readonly kind: string;
  readonly payload: unknown;
  readonly maxAttempts?: number;
  /** Store it as `running` (leased, first attempt counted): the pool runs it at once. */
  readonly start?: boolean;
}

/** The part of a stored record the pool reads. */
export interface StoreRecord {
  readonly seq: number;
  readonly id: string;
  /** Given to `prepare` when the pool adopts the task. */
  readonly kind?: string;
  /** Given to `prepare` when the pool adopts the task. */
  readonly idempotencyKey?: string;
  readonly status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly version: number;
  readonly leaseOwner: string | null;
  readonly outputKey: string | null;
  readonly etag: string | null;
  readonly result: string | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  /** The caller's correlation id, given to `prepare` when the pool adopts the task. */
  readonly correlationId?: string | null;
  /** Workflows: the task's parents with their results (JSON text), given to `prepare` when adopted. */
  readonly parents?: readonly StoredParent[];
  /** The enqueuing span's W3C trace context: each attempt's span is its child (see TracerPort). */
  readonly traceContext?: TraceCarrier | null;
  /** When the taken attempt started and when it was due, epoch ms by the store's clock: its wait. */
  readonly startedAt?: number | null;
  readonly nextRunAt?: number;
}

/** A parent of a stored task (workflows): what its child's handler reads of it. */
export interface StoredParent {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  /** Its result as stored (JSON text), or null. */
  readonly result: string | null;
}

/** A W3C trace context as carried between processes (the `traceparent` and `tracestate` headers). */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** What an attempt's span is told of its attempt. */
export interface AttemptSpanInfo {
  readonly id: string;
  readonly kind: string;
  readonly attempt: number;
  readonly correlationId: string | undefined;
  /** The enqueuing span's context: the attempt span's parent. */
  readonly traceContext: TraceCarrier | undefined;
  /** How long the task waited for this attempt, ms (by the store's clock), when known. */
  readonly waitMs: number | undefined;
}

/** An attempt's span (OpenTelemetry's, behind this port: this package imports none of it). */
export interface AttemptSpan {
  /** Runs `fn` with this span as the active context (a handler's own spans nest under it). */
  run<R>(fn: () => R): R;
  /**
   * Ends the span with what became of the attempt: `succeeded`, `retrying`, `dead_lettered`,
   * `cancelled` or `released`; the failure, when it failed, as the span's error status.
   */
  end(outcome: string, failure?: FailureInfo): void;
}

/** Makes an attempt's span, or undefined when nothing traces (no span made, nothing done). */
export interface TracerPort {
  /**
   * Whether it traces now (OpenTelemetry with a provider registered): asked before anything of an
   * attempt's span is gathered, so a worker that traces nothing builds nothing per task.
   */
  enabled(): boolean;
  startAttempt(info: AttemptSpanInfo): AttemptSpan | undefined;
}

/** The task store: claim by idempotency key and version-guarded transitions (all async). */
export interface TaskStorePort {
  claim(input: StoreClaim): Promise<
    | {
        readonly created: true;
        readonly seq: number;
        readonly version: number;
        readonly status: "queued" | "running";
        readonly attempts: number;
      }
    | { readonly created: false; readonly record: StoreRecord }
  >;
  start(seq: number, version: number): Promise<{ readonly version: number; readonly attempts: number }>;
  succeed(
    seq: number,
    version: number,
    data: { outputKey?: string | null; etag?: string | null; result?: string | null },
  ): Promise<number>;
  retry(seq: number, version: number, failure: StoredFailure, delayMs: number): Promise<number>;
  fail(seq: number, version: number, failure: StoredFailure): Promise<number>;
  release(seq: number, version: number): Promise<number>;
  /** running → cancelled (a cancel asked for while this process ran it). */
  cancelRunning?(seq: number, version: number): Promise<number>;
}

/** Time split of one finished task, in ms. */
export interface TimingInfo {
  readonly totalMs: number;
  readonly waitMs: number;
  readonly runMs: number;
}

/** Where the pool reports what happens (MetricsRecorder satisfies it). */
export interface MetricsPort {
  recordEnqueue(depth: number): void;
  recordDequeue(depth: number): void;
  recordRejection(): void;
  recordBlocked(): void;
  recordDuplicate(): void;
  recordAttempt(runMs: number): void;
  recordRetry(errorClass: string): void;
  recordSuccess(timing: TimingInfo): void;
  recordFailure(errorClass: string, timing?: TimingInfo): void;
}

/** A structured logger (pino satisfies it). */
export interface LoggerPort {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  /**
   * Whether lines of `level` are written (pino's): a line per task on the hot path is built only
   * when they are. @default every level written
   */
  isLevelEnabled?(level: "debug"): boolean;
}

/** A validated task and what the store and the executor need of it. */
export interface PreparedTask<T> {
  readonly task: T;
  readonly id: string;
  readonly idempotencyKey: string;
  /** The task's kind (which handler runs it); idempotency keys are unique per kind. */
  readonly kind: string;
  /** Stored as the task's payload (and re-parsed by `serve`). */
  readonly payload: unknown;
  readonly maxAttempts?: number;
  /** The caller's correlation id (put on every log line of the task's attempts). */
  readonly correlationId?: string;
}

/** The durable-queue side of the task store: what a Fetcher needs (TaskStoreDriver satisfies it). */
export interface DurableQueuePort {
  /**
   * Takes up to `limit` due queued tasks (of these `kinds`, or any), leased to this process, in
   * the order they should run.
   */
  takeNext(
    limit: number,
    kinds?: readonly string[],
    options?: { readonly perKind?: Readonly<Record<string, number>> },
  ): Promise<readonly (StoreRecord & { readonly payload: unknown })[]>;
  /**
   * How long until the earliest queued task (of these `kinds`, or any) is due, in ms by the
   * store's clock: 0 when one is due now, null when none is queued.
   */
  nextDueIn(kinds?: readonly string[]): Promise<number | null>;
  /** Resolves when work may have arrived, after `timeoutMs`, or when `signal` aborts. */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * A page of tasks of one status (and kind), newest first: the fetcher asks for one running task
   * to know whether any runs anywhere (exitWhenIdle).
   */
  listTasks(query: {
    readonly status: "running";
    readonly kind?: string;
    readonly limit: number;
  }): Promise<readonly unknown[]>;
}
