// The SQLite driver: the task store contract over SqliteSyncStore, with group commit.

import type { BreakerEvent, BreakerOptions } from "../breaker.js";
import { DEFAULT_MAX_BATCH } from "../defaults.js";
import type { BatchCounters, LeaseHolder, TaskStoreDriver } from "../driver.js";
import { StoreError } from "../errors.js";
import type { FlowTaskInput, TaskLinks } from "../flows.js";
import type { KindLimitState } from "../limits.js";
import type { TaskLog, TaskReport } from "../task-reports.js";
import type * as T from "../types.js";
import { waitOn } from "../wait.js";
import { type SqliteStoreOptions, SqliteSyncStore } from "./sqlite-sync-store.js";

interface Pending {
  readonly run: () => unknown;
  /** The call may finish a task (succeed, fail, cancelRunning): waitForChange wakes on its commit. */
  readonly finish: boolean;
  /**
   * The call may let a task start (a queued claim, a retry, a release, or a finish that frees a
   * slot of a limited kind): waitForWork wakes on its commit.
   */
  readonly work: boolean;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

/** Options of the batching front. */
export interface BatchOptions {
  /**
   * Most operations committed in one transaction.
   * @default {@link DEFAULT_MAX_BATCH} (512)
   */
  readonly maxBatch?: number;
}

/**
 * The SQLite driver of the task store contract: an async front for a SqliteSyncStore that groups every
 * call made in the same turn of the event loop into one IMMEDIATE transaction (committed on
 * `setImmediate`), so 100 concurrent clients cost one commit per turn instead of one per
 * statement. A call that fails on its own (a stale transition, bad input) rejects alone; a failed
 * commit (database busy) rejects the batch. Results are delivered only after the commit.
 * Reads and the durable-queue calls run at once (SQLite answers in microseconds).
 */
export class SqliteTaskStore implements TaskStoreDriver {
  readonly dialect = "sqlite" as const;
  readonly store: SqliteSyncStore;
  readonly maxBatch: number;
  #pending: Pending[] = [];
  #scheduled = false;
  /** waitForChange callers, woken by a finish committed through this object. */
  readonly #changeWaiters = new Set<() => void>();
  /** waitForWork callers, woken by a call committed through this object that may let a task start. */
  readonly #workWaiters = new Set<() => void>();
  /** onCancelRequested listeners, told of cancels requested through this object. */
  readonly #cancelListeners = new Set<(seq: number) => void>();
  /** onBreakerChange listeners, told of the breakers this object's calls opened or closed. */
  readonly #breakerListeners = new Set<(event: BreakerEvent) => void>();
  /** Transactions committed and operations in them (to report the batching achieved). */
  batches = 0;
  operations = 0;
  /** Milliseconds spent inside store transactions (where a run's main-thread time goes). */
  busyMs = 0;

  constructor(store: SqliteSyncStore, options: BatchOptions = {}) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.store = store;
    this.maxBatch = maxBatch;
  }

  /** Adds a call to the next batch (committed on `setImmediate`). */
  #batch<T>(run: () => T, finish = false, work = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run, finish, work, resolve: resolve as (value: never) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.maxBatch);
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      const start = performance.now();
      try {
        this.store.transaction(() => {
          outcomes.length = 0;
          for (const op of batch) {
            try {
              outcomes.push({ ok: true, value: op.run() });
            } catch (error) {
              if (error instanceof StoreError && error.code === "ERR_STORE_BUSY") throw error;
              outcomes.push({ ok: false, error });
            }
          }
        });
      } catch (error) {
        this.busyMs += performance.now() - start;
        this.store.breakerEvents = [];
        for (const op of batch) op.reject(error);
        continue;
      }
      this.busyMs += performance.now() - start;
      this.batches++;
      this.operations += batch.length;
      batch.forEach((op, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) op.resolve(outcome.value as never);
        else op.reject(outcome?.error);
      });
      if (this.#changeWaiters.size > 0 && batch.some((op, i) => op.finish && outcomes[i]?.ok))
        this.#changed();
      if (this.#workWaiters.size > 0 && batch.some((op, i) => op.work && outcomes[i]?.ok)) this.#worked();
      if (this.store.breakerEvents.length > 0) {
        const events = this.store.breakerEvents;
        this.store.breakerEvents = [];
        for (const event of events) for (const listener of this.#breakerListeners) listener(event);
      }
    }
  }

  /** Opens a SQLite store and its batching front; `close()` closes both. */
  static open(options: SqliteStoreOptions & BatchOptions): SqliteTaskStore {
    return new SqliteTaskStore(new SqliteSyncStore(options), options);
  }

  get location(): string {
    return this.store.path;
  }
  get owner(): string {
    return this.store.owner;
  }
  get maxAttempts(): number {
    return this.store.maxAttempts;
  }
  get leaseMs(): number {
    return this.store.leaseMs;
  }
  get recoveredOnOpen(): number {
    return this.store.recoveredOnOpen;
  }

  /** Runs a synchronous store call as a settled promise (reads, the durable queue, dead letters). */
  #runAtOnce<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  claim(input: T.ClaimInput): Promise<T.ClaimResult> {
    return this.#batch(() => this.store.claim(input));
  }

  start(seq: number, version: number): Promise<T.Started> {
    return this.#batch(() => this.store.start(seq, version), false, false);
  }

  succeed(seq: number, version: number, data?: T.TaskResultData): Promise<number> {
    return this.#batch(() => this.store.succeed(seq, version, data), true);
  }

  retry(seq: number, version: number, failure: T.TaskFailure, delayMs: number): Promise<number> {
    return this.#batch(() => this.store.retry(seq, version, failure, delayMs));
  }

  fail(seq: number, version: number, failure: T.TaskFailure): Promise<number> {
    return this.#batch(() => this.store.fail(seq, version, failure), true);
  }

  release(seq: number, version: number): Promise<number> {
    return this.#batch(() => this.store.release(seq, version));
  }

  enqueueMany(inputs: readonly T.ClaimInput[]): Promise<T.ClaimResult[]> {
    return this.#runAtOnce(() => {
      const results = this.store.transaction(() => inputs.map((input) => this.store.claim(input)));
      this.#worked();
      return results;
    });
  }

  takeNext(limit: number, kinds?: readonly string[], options?: T.TakeOptions): Promise<T.TaskRecord[]> {
    return this.#runAtOnce(() => this.store.takeNext(limit, kinds, options));
  }

  setKindLimits(kind: string, limits: T.KindLimits | null): Promise<void> {
    return this.#runAtOnce(() => {
      this.store.setKindLimits(kind, limits);
      this.#worked(); // a raised limit lets more start
    });
  }

  enqueueFlow(tasks: readonly FlowTaskInput[]): Promise<T.ClaimResult[]> {
    return this.#runAtOnce(() => {
      const results = this.store.enqueueFlow(tasks);
      this.#worked();
      return results;
    });
  }

  taskLinks(seq: number): Promise<TaskLinks> {
    return this.#runAtOnce(() => this.store.taskLinks(seq));
  }

  attempts(taskSeq: number): Promise<T.AttemptRecord[]> {
    return this.#runAtOnce(() => this.store.attempts(taskSeq));
  }

  report(reports: readonly TaskReport[]): Promise<boolean[]> {
    return this.#runAtOnce(() => this.store.report(reports));
  }

  logs(taskSeq: number): Promise<TaskLog> {
    return this.#runAtOnce(() => this.store.logs(taskSeq));
  }

  setKindPaused(kind: string, paused: boolean): Promise<boolean> {
    return this.#runAtOnce(() => {
      const changed = this.store.setKindPaused(kind, paused);
      if (changed && !paused) this.#worked(); // its queued tasks may start
      return changed;
    });
  }

  setBreaker(kind: string, options: BreakerOptions | null): Promise<void> {
    return this.#runAtOnce(() => {
      this.store.setBreaker(kind, options);
      this.#worked(); // a breaker removed lets its kind's tasks start
    });
  }

  resetBreaker(kind: string): Promise<boolean> {
    return this.#runAtOnce(() => {
      const changed = this.store.resetBreaker(kind);
      if (changed) this.#worked();
      return changed;
    });
  }

  /** SQLite has no notifications: `listener` hears of the breakers this store object's calls changed. */
  onBreakerChange(listener: (event: BreakerEvent) => void): () => void {
    this.#breakerListeners.add(listener);
    return () => this.#breakerListeners.delete(listener);
  }

  kindLimits(): Promise<KindLimitState[]> {
    return this.#runAtOnce(() => this.store.kindLimits());
  }

  nextDueIn(kinds?: readonly string[]): Promise<number | null> {
    return this.#runAtOnce(() => this.store.nextDueIn(kinds));
  }

  recover(): Promise<number> {
    return this.#runAtOnce(() => {
      const recovered = this.store.recover();
      if (recovered > 0) this.#worked();
      return recovered;
    });
  }

  renewLeases(): Promise<number> {
    return this.#runAtOnce(() => this.store.renewLeases());
  }

  startHeartbeat(): void {
    this.store.startHeartbeat();
  }

  /**
   * SQLite has no notifications: resolves when a call committed through this store object may let
   * a task start (a queued claim, a retry, a release, a finish that frees a limited kind's slot, a
   * limit changed), else after `timeoutMs` (other processes' changes are seen at the next poll).
   */
  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || this.store.closed) return;
    await waitOn(this.#workWaiters, timeoutMs, signal);
  }

  #worked(): void {
    for (const wake of this.#workWaiters) wake();
  }

  /** See TaskStoreDriver.cancel; a cancel requested here is told to onCancelRequested listeners. */
  cancel(seq: number): Promise<T.CancelOutcome> {
    return this.#runAtOnce(() => {
      const outcome = this.store.cancel(seq);
      if (outcome.outcome === "requested") for (const listener of this.#cancelListeners) listener(seq);
      if (outcome.outcome === "cancelled") this.#changed();
      return outcome;
    });
  }

  cancelRequested(seqs: readonly number[]): Promise<number[]> {
    return this.#runAtOnce(() => this.store.cancelRequested(seqs));
  }

  cancelRunning(seq: number, version: number): Promise<number> {
    return this.#batch(() => this.store.cancelRunning(seq, version), true);
  }

  /**
   * SQLite has no notifications: `listener` hears of the cancels requested through this store
   * object only (a worker in another process polls cancelRequested from its heartbeat).
   */
  onCancelRequested(listener: (seq: number) => void): () => void {
    this.#cancelListeners.add(listener);
    return () => this.#cancelListeners.delete(listener);
  }

  #changed(): void {
    for (const wake of this.#changeWaiters) wake();
  }

  /**
   * Resolves on a finish (succeed, fail, cancel) committed through this store object, else after
   * `timeoutMs` (finishes by other processes are seen by the caller's next poll); at once on abort.
   */
  async waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || this.store.closed) return;
    await waitOn(this.#changeWaiters, timeoutMs, signal);
  }

  get(seq: number): Promise<T.TaskRecord | undefined> {
    return this.#runAtOnce(() => this.store.get(seq));
  }

  getByKey(kind: string, key: string): Promise<T.TaskRecord | undefined> {
    return this.#runAtOnce(() => this.store.getByKey(kind, key));
  }

  getById(id: string): Promise<T.TaskRecord[]> {
    return this.#runAtOnce(() => this.store.getById(id));
  }

  recordInvalid(taskId: string, payload: unknown, failure: T.TaskFailure): Promise<number> {
    return this.#runAtOnce(() => this.store.recordInvalid(taskId, payload, failure));
  }

  /** Re-drives in one transaction of its own, between the batched commits. */
  redriveTasks(taskSeqs: readonly number[]): Promise<number> {
    return this.#runAtOnce(() => {
      const redriven = this.store.redriveTasks(taskSeqs);
      if (redriven > 0) this.#worked();
      return redriven;
    });
  }

  statusCounts(cap: number): Promise<T.StatusCounts> {
    return this.#runAtOnce(() => this.store.statusCounts(cap));
  }

  recentFinished(sinceMs: number, sampleLimit: number): Promise<T.RecentFinished> {
    return this.#runAtOnce(() => this.store.recentFinished(sinceMs, sampleLimit));
  }

  finishedHistory(query: T.FinishedHistoryQuery): Promise<T.FinishedHistory> {
    return this.#runAtOnce(() => this.store.finishedHistory(query));
  }

  listTasks(query: T.TaskListQuery): Promise<T.TaskRecord[]> {
    return this.#runAtOnce(() => this.store.listTasks(query));
  }

  kinds(): Promise<string[]> {
    return this.#runAtOnce(() => this.store.kinds());
  }

  listDeadLetters(query: T.DeadLetterListQuery): Promise<T.DeadLetter[]> {
    return this.#runAtOnce(() => this.store.listDeadLetters(query));
  }

  leaseHolders(): Promise<LeaseHolder[]> {
    return this.#runAtOnce(() => this.store.leaseHolders());
  }

  /** Each batch its own short transaction, between the batched commits. */
  prune(options: { readonly olderThanMs: number; readonly limit?: number }): Promise<number> {
    return this.#runAtOnce(() => this.store.prune(options));
  }

  purgeDeadLetters(olderThanMs: number): Promise<number> {
    return this.#runAtOnce(() => this.store.purgeDeadLetters(olderThanMs));
  }

  tryRunMaintenance(name: string, everyMs: number): Promise<boolean> {
    return this.#runAtOnce(() => this.store.tryRunMaintenance(name, everyMs));
  }

  reportWorker(info: T.WorkerInfo): Promise<void> {
    return this.#runAtOnce(() => this.store.reportWorker(info));
  }

  removeWorker(): Promise<void> {
    return this.#runAtOnce(() => this.store.removeWorker());
  }

  workers(): Promise<T.WorkerRecord[]> {
    return this.#runAtOnce(() => this.store.workers());
  }

  now(): Promise<number> {
    return this.#runAtOnce(() => this.store.now());
  }

  putSchedule(input: T.ScheduleInput): Promise<T.ScheduleRecord> {
    return this.#runAtOnce(() => this.store.putSchedule(input));
  }

  removeSchedule(name: string): Promise<boolean> {
    return this.#runAtOnce(() => this.store.removeSchedule(name));
  }

  getSchedule(name: string): Promise<T.ScheduleRecord | undefined> {
    return this.#runAtOnce(() => this.store.getSchedule(name));
  }

  schedules(): Promise<T.ScheduleRecord[]> {
    return this.#runAtOnce(() => this.store.schedules());
  }

  setSchedulePaused(
    name: string,
    paused: boolean,
    nextRunAt?: number,
  ): Promise<T.ScheduleRecord | undefined> {
    return this.#runAtOnce(() => this.store.setSchedulePaused(name, paused, nextRunAt));
  }

  dueSchedules(limit: number): Promise<{ now: number; due: T.ScheduleRecord[] }> {
    return this.#runAtOnce(() => this.store.dueSchedules(limit));
  }

  fireSchedule(firing: T.ScheduleFiring): Promise<{ advanced: boolean; created: boolean }> {
    return this.#runAtOnce(() => this.store.fireSchedule(firing));
  }

  counters(): BatchCounters {
    return { batches: this.batches, operations: this.operations, busyMs: this.busyMs };
  }

  /** Zeroes the batching and busy-time counters (a measurement starting over). */
  resetCounters(): void {
    this.batches = 0;
    this.operations = 0;
    this.busyMs = 0;
  }

  /** Waits for everything queued so far to commit. */
  flush(): Promise<void> {
    return this.#batch(() => undefined);
  }

  /** Commits what is pending, then closes the SQLite store. Idempotent. */
  async close(): Promise<void> {
    if (this.store.closed) return;
    await this.flush();
    this.store.close();
    this.#changed();
  }
}
