import { TimeWeightedGauge } from "./depth-gauge.js";
import { BoundedSeries, type SeriesPoint } from "./depth-series.js";
import { LatencyHistogram, type LatencySummary } from "./latency-histogram.js";

/** Options of a recorder. */
export interface RecorderOptions {
  /**
   * Worker threads (or slots) the busy time is spread over, for thread utilization.
   * @default 1
   */
  readonly threads?: number;
  /**
   * Clock in milliseconds; injected in tests.
   * @default performance.now
   */
  readonly now?: () => number;
}

/** Time split of one finished task, in milliseconds. */
export interface TaskTiming {
  /** From the client's submit call to the outcome (time blocked on a full queue counts). */
  readonly totalMs: number;
  /** Admission + time in the queue (and backoff waits between attempts). */
  readonly waitMs: number;
  /** Time inside the worker, all attempts. */
  readonly runMs: number;
}

/** Every figure at one moment. Names are the JSON export's, camel-cased. */
export interface MetricsSnapshot {
  readonly timestamp: string;
  readonly durationSeconds: number;
  readonly threads: number;
  readonly enqueued: number;
  readonly dequeued: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  readonly rejected: number;
  /** Admissions that had to wait for space in a full queue (block mode). */
  readonly blocked: number;
  readonly duplicates: number;
  readonly errorClassification: Readonly<Record<string, number>>;
  readonly latency: LatencySummary;
  readonly wait: LatencySummary;
  readonly run: LatencySummary;
  readonly avgQueueDepth: number;
  readonly maxQueueDepth: number;
  readonly queueDepth: number;
  readonly throughputTps: number;
  readonly enqueueRate: number;
  readonly dequeueRate: number;
  readonly errorRate: number;
  readonly threadUtilization: number;
  /** Queue depth over time, for charts. */
  readonly depthSeries: readonly SeriesPoint[];
  /** Latency (ms) at percentiles 0..100, for CDF charts: [percentile, ms] pairs. */
  readonly latencyCdf: ReadonlyArray<readonly [number, number]>;
}

const CDF_PERCENTILES = [0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 100];

/**
 * The one place every figure is recorded and computed. All updates run on the main thread
 * (worker threads report their run time through the task result), so plain fields are safe.
 */
export class MetricsRecorder {
  readonly threads: number;
  readonly #now: () => number;
  #start: number;
  #end: number | undefined;
  #depth: TimeWeightedGauge;
  #series = new BoundedSeries();
  latency = new LatencyHistogram();
  wait = new LatencyHistogram();
  run = new LatencyHistogram();
  readonly #errors = new Map<string, number>();
  enqueued = 0;
  dequeued = 0;
  succeeded = 0;
  failed = 0;
  retried = 0;
  rejected = 0;
  blocked = 0;
  duplicates = 0;
  #busyMs = 0;

  constructor(options: RecorderOptions = {}) {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.threads = threads;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#start = this.#now();
    this.#depth = new TimeWeightedGauge(this.#now);
  }

  /**
   * Starts over: every counter, series and gauge back to zero and the wall clock from now. For a
   * measurement that should start once the system is warm (the bench warms its threads first).
   */
  reset(): void {
    this.#start = this.#now();
    this.#end = undefined;
    this.#depth = new TimeWeightedGauge(this.#now);
    this.#series = new BoundedSeries();
    this.latency = new LatencyHistogram();
    this.wait = new LatencyHistogram();
    this.run = new LatencyHistogram();
    this.#errors.clear();
    this.enqueued = this.dequeued = this.succeeded = this.failed = 0;
    this.retried = this.rejected = this.blocked = this.duplicates = 0;
    this.#busyMs = 0;
  }

  /** A task was admitted to the queue, which now holds `depth` items. */
  recordEnqueue(depth: number): void {
    this.enqueued++;
    this.#setDepth(depth);
  }

  /** A task left the queue for a worker; the queue now holds `depth` items. */
  recordDequeue(depth: number): void {
    this.dequeued++;
    this.#setDepth(depth);
  }

  #setDepth(depth: number): void {
    this.#depth.set(depth);
    this.#series.add(this.#now() - this.#start, depth);
  }

  /** The queue was full and the task was turned away (reject mode). */
  recordRejection(): void {
    this.rejected++;
  }

  /** An admission found the queue full and waited for space (block mode). */
  recordBlocked(): void {
    this.blocked++;
  }

  /** A task was answered from the idempotency store (or joined one in flight) without running. */
  recordDuplicate(): void {
    this.duplicates++;
  }

  /** One attempt ran for `runMs` in a worker (successful or not): busy time for utilization. */
  recordAttempt(runMs: number): void {
    this.#busyMs += runMs;
  }

  /** An attempt failed with `errorClass` and the task will run again. */
  recordRetry(errorClass: string): void {
    this.retried++;
    this.#countError(errorClass);
  }

  recordSuccess(timing: TaskTiming): void {
    this.succeeded++;
    this.#recordTiming(timing);
  }

  /** A task failed for good (permanent error or attempts exhausted). */
  recordFailure(errorClass: string, timing?: TaskTiming): void {
    this.failed++;
    this.#countError(errorClass);
    if (timing) this.#recordTiming(timing);
  }

  #countError(errorClass: string): void {
    this.#errors.set(errorClass, (this.#errors.get(errorClass) ?? 0) + 1);
  }

  #recordTiming(timing: TaskTiming): void {
    this.latency.record(timing.totalMs);
    this.wait.record(timing.waitMs);
    this.run.record(timing.runMs);
  }

  /** Freezes the wall clock: later snapshots report the run as it ended. */
  finish(): MetricsSnapshot {
    this.#end ??= this.#now();
    return this.snapshot();
  }

  /** Every figure now (cheap enough for a live progress line several times a second). */
  snapshot(): MetricsSnapshot {
    const end = this.#end ?? this.#now();
    const seconds = Math.max(1e-9, (end - this.#start) / 1000);
    const finished = this.succeeded + this.failed;
    return {
      timestamp: new Date().toISOString(),
      durationSeconds: seconds,
      threads: this.threads,
      enqueued: this.enqueued,
      dequeued: this.dequeued,
      succeeded: this.succeeded,
      failed: this.failed,
      retried: this.retried,
      rejected: this.rejected,
      blocked: this.blocked,
      duplicates: this.duplicates,
      errorClassification: Object.fromEntries(this.#errors),
      latency: this.latency.summary(),
      wait: this.wait.summary(),
      run: this.run.summary(),
      avgQueueDepth: this.#depth.mean(end),
      maxQueueDepth: this.#depth.max,
      queueDepth: this.#depth.value,
      throughputTps: this.succeeded / seconds,
      enqueueRate: this.enqueued / seconds,
      dequeueRate: this.dequeued / seconds,
      errorRate: finished === 0 ? 0 : this.failed / finished,
      threadUtilization: Math.min(1, this.#busyMs / (this.threads * seconds * 1000)),
      depthSeries: this.#series.points,
      latencyCdf: CDF_PERCENTILES.map((p) => [p, this.latency.percentile(p)] as const),
    };
  }
}
