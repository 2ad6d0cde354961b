// The PostgreSQL driver's facade: checks the options, then composes the connection pool
// (connection.ts), the migration runner (migrate.ts), group commit (turn-batcher.ts), the take
// planner (take-planner.ts: how takeNext becomes statements) and LISTEN/NOTIFY wake-ups
// (notifier.ts: work, finished tasks, cancel requests). Its own code is leases, cancel, reads and
// retention, one statement of queries.sql each, and claimWith (the claim through the
// application's own client; its answers, as the turn's, by claim-answers.ts).

import { type BreakerEvent, type BreakerOptions, breakerParams } from "../breaker.js";
import { DEFAULT_ATTEMPTS, DEFAULT_LEASE_MS, DEFAULT_MAX_BATCH, WORKER_STALE_MS } from "../defaults.js";
import type { BatchCounters, LeaseHolder, TaskStoreDriver } from "../driver.js";
import { StaleTransitionError, StoreError } from "../errors.js";
import { checkFlow, type FlowTaskInput, type TaskLinks } from "../flows.js";
import { startHeartbeat } from "../heartbeat.js";
import {
  checkKindLimits,
  earliestStart,
  type KindLimitRow,
  type KindLimitState,
  toKindLimitState,
} from "../limits.js";
import { deadLocalOwners, newOwnerId } from "../owner.js";
import * as records from "../record.js";
import { kindLimitParams, scheduleParams } from "../sql/params.js";
import { candidateSets, SMALL_SET, walkOf } from "../task-list.js";
import {
  boundedLine,
  checkReports,
  LOG_MAX_LINES,
  type TaskLog,
  type TaskLogRow,
  type TaskReport,
  toTaskLog,
} from "../task-reports.js";
import type * as T from "../types.js";
import * as validate from "../validate.js";
import { answerClaims, type ClaimRow } from "./claim-answers.js";
import { PgConnection } from "./connection.js";
import { redactUrl } from "./errors.js";
import { enqueueFlow, linksOf, withParents } from "./flow-enqueue.js";
import { migrate } from "./migrate.js";
import { PgNotifier } from "./notifier.js";
import { bindPg } from "./pg-values.js";
import { claimColumns, type PgParams, pgQueryIn } from "./queries.js";
import { TakePlanner } from "./take-planner.js";
import { TurnBatcher } from "./turn-batcher.js";

export { TAKE_RESCAN_EVERY } from "./take-planner.js";

/** What claimWith needs of the application's own `pg` client (a `pg.Client` or `pg.PoolClient`). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Options of the PostgreSQL task store. */
export interface PgTaskStoreOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`). */
  readonly url: string;
  /**
   * The PostgreSQL schema that holds taskq's tables (created when missing).
   * @default "taskq"
   */
  readonly schema?: string;
  /**
   * Connections in the pool: turns, takes and reads go to the server at once over them.
   * @default 8
   */
  readonly poolSize?: number;
  /**
   * Attempts before a task is dead-lettered, when the task does not say.
   * @default {@link DEFAULT_ATTEMPTS} (3)
   */
  readonly maxAttempts?: number;
  /**
   * How long a running task stays leased without a heartbeat, in ms (judged by the database's clock).
   * @default {@link DEFAULT_LEASE_MS} (30000)
   */
  readonly leaseMs?: number;
  /**
   * This process's lease owner id.
   * @default `${hostname}:${pid}:${random}`
   */
  readonly owner?: string;
  /**
   * Clock for timestamps, in epoch ms, for tests. Left out, every time is the database's
   * (`now()`): a node with a skewed clock can neither steal a lease nor keep one.
   * @default the database's clock
   */
  readonly now?: () => number;
  /**
   * On open, put back to `queued` the running tasks of dead local owners and expired leases.
   * @default true
   */
  readonly recover?: boolean;
  /**
   * Create the schema when it is missing; false for tools that only read (a missing store is an error).
   * @default true
   */
  readonly create?: boolean;
  /**
   * Most calls of one name (claim, start, ...) in one turn statement.
   * @default {@link DEFAULT_MAX_BATCH} (512)
   */
  readonly maxBatch?: number;
  /**
   * Turn statements at the server at once; calls made meanwhile wait and go in the next one
   * (group commit: batches grow with the round trip instead of the number of statements). Two
   * measured best on the no-op chain (taskq-bench --profile overhead --store postgres: 8.7k
   * tasks/s against 7.9k with one, 8.0k with three, 7.6k with four).
   * @default 2
   */
  readonly maxInFlight?: number;
  /**
   * How long a call keeps retrying (capped exponential backoff) while the server is unreachable
   * or restarting, before it fails with ERR_STORE_UNAVAILABLE.
   * @default 60000
   */
  readonly reconnectTimeoutMs?: number;
  /**
   * How long one connection attempt may take, in ms.
   * @default 5000
   */
  readonly connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The PostgreSQL driver of the task store contract, for many workers on one database. Same
 * record, state machine and meaning as the SQLite driver; in addition:
 * - calls made in the same turn of the event loop go to the server together, as one set-based
 *   statement (`unnest` arrays) in its own transaction (TurnBatcher);
 * - `takeNext` uses `FOR UPDATE SKIP LOCKED`, so no two nodes take one task;
 * - leases are judged by the database's clock; a node that lost its lease is fenced by the
 *   version guard (its late transition is refused);
 * - idle workers wake on LISTEN/NOTIFY (`waitForWork`) when tasks are queued, callers waiting
 *   for results when tasks finish (`waitForChange`), workers when a cancel is requested
 *   (`onCancelRequested`);
 * - `claimWith` enqueues inside the application's own transaction;
 * - a lost connection or a restarting server is retried with capped backoff for up to
 *   `reconnectTimeoutMs`; a batch whose commit may have happened is re-checked, not re-applied.
 */
export class PgTaskStore implements TaskStoreDriver {
  readonly dialect = "postgres" as const;
  readonly location: string;
  readonly schema: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly maxBatch: number;
  readonly maxInFlight: number;
  readonly reconnectTimeoutMs: number;
  recoveredOnOpen = 0;
  readonly #conn: PgConnection;
  readonly #batcher: TurnBatcher;
  readonly #planner: TakePlanner;
  readonly #notifier: PgNotifier;
  readonly #now: (() => number) | undefined;
  readonly #channel: string;
  readonly #doneChannel: string;
  readonly #cancelChannel: string;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  /** Tasks this node runs (leased to it by an answer it received): the ones its heartbeat renews. */
  readonly #running = new Set<number>();
  /** The kind of each task this store took and has not seen finish (see #finished). */
  readonly #takenKinds = new Map<number, string>();
  /** The probes this store's takes let through (half-open breakers): a success closes one. */
  readonly #probes = new Set<number>();
  /** The tasks this store's takes started of kinds whose breaker has a ratio: a success counts. */
  readonly #ratioTasks = new Set<number>();
  readonly #breakerListeners = new Set<(event: BreakerEvent) => void>();

  private constructor(options: PgTaskStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      validate.invalid(`not a valid PostgreSQL URL: ${redactUrl(String(options.url))}`);
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
      validate.invalid(`not a PostgreSQL URL (it must start with postgres://): ${redactUrl(options.url)}`);
    this.location = redactUrl(options.url);
    this.schema = options.schema ?? "taskq";
    if (!SCHEMA_NAME.test(this.schema))
      validate.invalid(
        `schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(this.schema)}`,
      );
    const poolSize = options.poolSize ?? 8;
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)
      validate.invalid(`poolSize must be an integer from 1 to 1000, got ${poolSize}`);
    this.maxAttempts = validate.checkAttempts("maxAttempts", options.maxAttempts ?? DEFAULT_ATTEMPTS);
    this.leaseMs = validate.checkLeaseMs(options.leaseMs ?? DEFAULT_LEASE_MS);
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      validate.invalid(`maxBatch must be a positive integer, got ${this.maxBatch}`);
    this.maxInFlight = options.maxInFlight ?? 2;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      validate.invalid(`maxInFlight must be a positive integer, got ${this.maxInFlight}`);
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 60_000;
    if (!(this.reconnectTimeoutMs >= 0))
      validate.invalid(`reconnectTimeoutMs must be >= 0, got ${this.reconnectTimeoutMs}`);
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1)
      validate.invalid(`connectTimeoutMs must be a positive integer, got ${connectTimeoutMs}`);
    this.owner = options.owner ?? newOwnerId();
    this.#now = options.now;
    this.#channel = `taskq_work_${this.schema}`;
    this.#doneChannel = `taskq_done_${this.schema}`;
    this.#cancelChannel = `taskq_cancel_${this.schema}`;
    this.#conn = new PgConnection({
      url: options.url,
      schema: this.schema,
      location: this.location,
      poolSize,
      connectTimeoutMs,
      reconnectTimeoutMs: this.reconnectTimeoutMs,
    });
    this.#batcher = new TurnBatcher(this.#conn, {
      owner: this.owner,
      leaseMs: this.leaseMs,
      maxBatch: this.maxBatch,
      maxInFlight: this.maxInFlight,
      channel: this.#channel,
      doneChannel: this.#doneChannel,
      clock: () => this.#clock(),
      running: this.#running,
      onFinished: (seqs) => this.#finished(seqs),
      onBreaker: (event) => {
        for (const listener of this.#breakerListeners) listener(event);
      },
    });
    this.#planner = new TakePlanner(this.#conn, {
      owner: this.owner,
      leaseMs: this.leaseMs,
      doneChannel: this.#doneChannel,
      clock: () => this.#clock(),
      injectedClock: this.#now !== undefined,
      onProbe: (seq) => this.#probes.add(seq),
      onRatioTask: (seq) => this.#ratioTasks.add(seq),
    });
    this.#notifier = new PgNotifier(this.#conn.config, {
      work: this.#channel,
      done: this.#doneChannel,
      cancel: this.#cancelChannel,
    });
  }

  /** Connects, creates or migrates the schema (refusing one newer than this code), and recovers. */
  static async open(options: PgTaskStoreOptions): Promise<PgTaskStore> {
    const store = new PgTaskStore(options);
    try {
      await migrate(store.#conn.pool, {
        schema: store.schema,
        location: store.location,
        create: options.create ?? true,
      });
      if (options.recover !== false) store.recoveredOnOpen = await store.recover();
      return store;
    } catch (error) {
      await store.#conn.end();
      throw store.#conn.storeError(error, "cannot open task store");
    }
  }

  /** The injected clock's time, or null: the database's. */
  #clock(): number | null {
    return this.#now ? this.#now() : null;
  }

  #ensureOpen(what: string): void {
    if (this.#closed) throw new StoreError("ERR_CLOSED", `${what}: the task store is closed`);
  }

  async #notify(): Promise<void> {
    await this.#conn.send("notify_work", { channel: this.#channel }).catch(() => undefined);
  }

  // ---- batched calls (TurnBatcher) ------------------------------------------------------------

  claim(input: T.ClaimInput): Promise<T.ClaimResult> {
    let checked: validate.CheckedClaim;
    try {
      checked = validate.checkClaim(input, this.maxAttempts);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#batcher.defer("claim", checked);
  }

  /**
   * Transactional enqueue: claims `inputs` as `enqueueMany` does (queued; `start` is refused),
   * but through the application's own `pg` client, inside its transaction: the tasks exist, and
   * the workers waiting for work are woken (a NOTIFY in the same statement), only if that
   * transaction commits. The SQL names the store's schema (the client's search_path is not
   * ours). A duplicate key is answered with the record that holds it, as seen by that transaction.
   */
  async claimWith(client: PgQueryable, inputs: readonly T.ClaimInput[]): Promise<T.ClaimResult[]> {
    this.#ensureOpen("claim with");
    const claims = inputs.map((input) => {
      if (input.start === true) validate.invalid("claimWith stores tasks as queued: start is not supported");
      return validate.checkClaim(input, this.maxAttempts);
    });
    if (claims.length === 0) return [];
    const run = async <N extends "task_claim_with" | "task_list_by_keys">(name: N, params: PgParams[N]) => {
      // the application's connection: its search_path is not the store's
      const statement = pgQueryIn(this.schema, name);
      try {
        return (await client.query(statement.text, bindPg(statement, params))).rows as (ClaimRow & {
          readonly call?: string;
        })[];
      } catch (error) {
        throw this.#conn.storeError(error, "claim with");
      }
    };
    const rows = await run("task_claim_with", {
      now: this.#clock(),
      ...claimColumns(claims),
      channel: this.#channel,
    });
    const results = await answerClaims(
      claims,
      rows.filter((row) => row.call === "claim"),
      rows.filter((row) => row.call === "existing"),
      async (kinds, keys) =>
        (await run("task_list_by_keys", { kinds, keys })).map((row) => row.record as records.Row),
    );
    return results.map((result) => {
      if (result instanceof StoreError) throw result;
      return result;
    });
  }

  async enqueueMany(inputs: readonly T.ClaimInput[]): Promise<T.ClaimResult[]> {
    this.#ensureOpen("enqueue");
    // one statement: every task is stored, or none
    return this.#batcher.claimAll(inputs.map((input) => validate.checkClaim(input, this.maxAttempts)));
  }

  start(seq: number, version: number): Promise<T.Started> {
    return this.#batcher.defer("start", { seq, version });
  }

  succeed(seq: number, version: number, data: T.TaskResultData = {}): Promise<number> {
    return this.#batcher.defer("succeed", {
      seq,
      version,
      outputKey: data.outputKey ?? null,
      etag: data.etag ?? null,
      result: data.result ?? null,
      probe: this.#probes.size > 0 && this.#probes.delete(seq),
      counted: this.#ratioTasks.size > 0 && this.#ratioTasks.delete(seq),
    });
  }

  retry(seq: number, version: number, failure: T.TaskFailure, delayMs: number): Promise<number> {
    this.#probes.delete(seq);
    this.#ratioTasks.delete(seq);
    return this.#batcher.defer("retry", {
      seq,
      version,
      delayMs: Math.max(0, Math.round(delayMs)),
      errorClass: failure.errorClass,
      message: failure.message,
      stack: validate.boundedStack(failure.stack),
    });
  }

  fail(seq: number, version: number, failure: T.TaskFailure): Promise<number> {
    this.#probes.delete(seq);
    this.#ratioTasks.delete(seq);
    return this.#batcher.defer("fail", {
      seq,
      version,
      errorClass: failure.errorClass,
      message: failure.message,
      stack: validate.boundedStack(failure.stack),
      retryable: failure.retryable ?? false,
    });
  }

  release(seq: number, version: number): Promise<number> {
    this.#probes.delete(seq); // a probe handed back frees its slot: the release deletes its lease
    this.#ratioTasks.delete(seq);
    return this.#batcher.defer("release", { seq, version });
  }

  // ---- the durable queue and leases -----------------------------------------------------------

  async takeNext(
    limit: number,
    kinds?: readonly string[],
    options: T.TakeOptions = {},
  ): Promise<T.TaskRecord[]> {
    validate.checkLimit(limit);
    if (kinds !== undefined) validate.checkKinds(kinds);
    this.#ensureOpen("take next");
    this.#notifier.clear();
    const rows = await this.#planner.take(limit, kinds, options.perKind);
    for (const row of rows) {
      this.#running.add(row.seq);
      this.#takenKinds.set(row.seq, row.kind);
    }
    const taken = rows.map(records.toRecord);
    try {
      return await withParents(this.#conn, taken);
    } catch (error) {
      // the caller adopts none of them: hand them back (or, if that fails too, stop renewing them:
      // their leases expire and a reclaim queues them again), never leave them leased forever
      await Promise.allSettled(taken.map((t) => this.release(t.seq, t.version)));
      for (const t of taken) {
        this.#running.delete(t.seq);
        this.#takenKinds.delete(t.seq);
      }
      throw error;
    }
  }

  /**
   * Tasks this store took have finished (succeeded, failed, cancelled): when one is of a kind with
   * limits (as the take that took it read them), its slot is free, and the workers waiting for
   * work anywhere are woken, not left to their poll. Only taken tasks count: limits apply to them.
   */
  #finished(seqs: readonly number[]): void {
    let freed = false;
    for (const seq of seqs) {
      const kind = this.#takenKinds.get(seq);
      if (kind === undefined) continue;
      this.#takenKinds.delete(seq);
      if (this.#planner.isLimited(kind)) freed = true;
    }
    if (freed) void this.#notify();
  }

  async nextDueIn(kinds?: readonly string[]): Promise<number | null> {
    if (kinds !== undefined) validate.checkKinds(kinds);
    this.#ensureOpen("next due");
    const { rows } = await this.#conn.query<
      "task_next_due",
      { kind: string; due: number; clock_now: number }
    >("task_next_due", { now: this.#clock(), kinds: kinds === undefined ? null : [...new Set(kinds)] });
    if (rows.length === 0) return null;
    // a kind held back by its limits counts from when it may start one again, or not at all
    const limited = await this.#planner.limitedKinds();
    const limits = rows.some((r) => limited.includes(r.kind))
      ? new Map((await this.kindLimits()).map((l) => [l.kind, l]))
      : new Map<string, KindLimitState>();
    const at = earliestStart(
      rows.map((r) => [r.kind, Number(r.due)] as const),
      limits,
    );
    return at === null ? null : Math.max(0, at - Number(rows[0]?.clock_now));
  }

  async setKindLimits(kind: string, limits: T.KindLimits | null): Promise<void> {
    validate.checkKind(kind);
    if (limits !== null) checkKindLimits(limits);
    this.#ensureOpen("set kind limits");
    if (limits === null) await this.#conn.query("kind_limit_remove", { kind });
    else await this.#conn.query("kind_limit_put", { ...kindLimitParams(kind, limits), now: this.#clock() });
    this.#planner.limitsChanged();
  }

  async setKindPaused(kind: string, paused: boolean): Promise<boolean> {
    validate.checkKind(kind);
    this.#ensureOpen(paused ? "pause a kind" : "resume a kind");
    let changed: boolean;
    if (paused) {
      const { rows } = await this.#conn.query<"kind_pause", { changed: boolean }>("kind_pause", {
        kind,
        now: this.#clock(),
      });
      changed = rows[0]?.changed === true;
    } else {
      const { rows } = await this.#conn.query<"kind_resume", { n: number }>("kind_resume", { kind });
      changed = (rows[0]?.n ?? 0) > 0;
    }
    this.#planner.limitsChanged();
    if (changed && !paused) await this.#notify();
    return changed;
  }

  async setBreaker(kind: string, options: BreakerOptions | null): Promise<void> {
    validate.checkKind(kind);
    const params = options === null ? null : breakerParams(options);
    this.#ensureOpen("set a breaker");
    if (params === null) await this.#conn.query("kind_breaker_remove", { kind });
    else await this.#conn.query("kind_breaker_put", { kind, ...params, now: this.#clock() });
    this.#planner.limitsChanged();
    if (params === null) await this.#notify(); // its kind's tasks may start
  }

  async resetBreaker(kind: string): Promise<boolean> {
    validate.checkKind(kind);
    this.#ensureOpen("reset a breaker");
    const { rows } = await this.#conn.query<"kind_breaker_reset", { n: number }>("kind_breaker_reset", {
      kind,
      now: this.#clock(),
    });
    const changed = (rows[0]?.n ?? 0) > 0;
    if (changed) await this.#notify();
    return changed;
  }

  /** `listener` hears of the breakers this store's turns opened or closed (see TaskStoreDriver). */
  onBreakerChange(listener: (event: BreakerEvent) => void): () => void {
    this.#breakerListeners.add(listener);
    return () => this.#breakerListeners.delete(listener);
  }

  async kindLimits(): Promise<KindLimitState[]> {
    this.#ensureOpen("list kind limits");
    const { rows } = await this.#conn.query<
      "kind_limit_list",
      KindLimitRow & { clock_now: number; running: number }
    >("kind_limit_list", { now: this.#clock() });
    return rows.map((r) => toKindLimitState(r, r.running, Number(r.clock_now)));
  }

  async recover(): Promise<number> {
    this.#ensureOpen("recover");
    const now = this.#clock();
    const done_channel = this.#doneChannel;
    const reclaimed = await this.#conn.query<"task_reclaim", { n: number }>("task_reclaim", {
      now,
      owner: null,
      done_channel,
    });
    let recovered = reclaimed.rows[0]?.n ?? 0;
    const owners = await this.#conn.query<"task_running_owners", { lease_owner: string }>(
      "task_running_owners",
      {},
    );
    for (const owner of deadLocalOwners(
      owners.rows.map((r) => r.lease_owner),
      this.owner,
    ))
      recovered +=
        (
          await this.#conn.query<"task_reclaim", { n: number }>("task_reclaim", {
            now,
            owner,
            done_channel,
          })
        ).rows[0]?.n ?? 0;
    if (recovered > 0) await this.#notify();
    return recovered;
  }

  async renewLeases(): Promise<number> {
    this.#ensureOpen("renew leases");
    if (this.#running.size === 0) return 0;
    const seqs = [...this.#running];
    const { rows } = await this.#conn.query<"task_renew_leases", { seq: number }>("task_renew_leases", {
      now: this.#clock(),
      owner: this.owner,
      lease_ms: this.leaseMs,
      seqs,
    });
    // a task not renewed is no longer this owner's running task (finished, or its lease lost
    // and taken over): it is forgotten here
    const renewed = new Set(rows.map((r) => Number(r.seq)));
    for (const seq of seqs)
      if (!renewed.has(seq)) {
        this.#running.delete(seq);
        this.#takenKinds.delete(seq);
      }
    return rows.length;
  }

  startHeartbeat(): void {
    if (!this.#closed) this.#heartbeat ??= startHeartbeat(this.leaseMs, () => this.renewLeases());
  }

  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#notifier.waitForWork(timeoutMs, signal);
  }

  /**
   * Resolves when a task may have finished (a notification on `taskq_done_<schema>`, sent by the
   * turn that finished it, from any node) or after `timeoutMs`; at once on abort. A listener that
   * has just started resolves at once (it may have missed a finish): the caller looks again.
   */
  waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#notifier.waitForChange(timeoutMs, signal);
  }

  /**
   * The tasks whose state tables (task_ready, task_leases, task_done: migration 013) disagree with
   * their status, and state rows whose task is gone, one line each; empty when they agree. Not part
   * of the store contract (SQLite has no such tables): for the history checker and tests. Reads
   * every task.
   */
  async stateMismatches(): Promise<string[]> {
    this.#ensureOpen("check the state tables");
    const { rows } = await this.#conn.query<
      "task_state_check",
      { seq: string; status: string | null; ready: number | null; leased: number | null; done: string | null }
    >("task_state_check", {});
    return rows.map((r) =>
      r.status === null
        ? `seq ${r.seq}: ${r.done} row, no task`
        : `seq ${r.seq} ${r.status}: ${r.ready} ready, ${r.leased} lease(s), done ${r.done ?? "none"}`,
    );
  }

  // ---- cancel ----------------------------------------------------------------------------------

  async cancel(seq: number): Promise<T.CancelOutcome> {
    this.#ensureOpen("cancel");
    const run = async () =>
      (
        await this.#conn.query<
          "task_cancel",
          { outcome: "cancelled" | "requested" | "finished" | "told" | "done"; record: records.Row | null }
        >("task_cancel", {
          now: this.#clock(),
          seq,
          cancel_channel: this.#cancelChannel,
          done_channel: this.#doneChannel,
        })
      ).rows.find((r) => r.record !== null);
    // A transition committed while the statement waited for the row's lock: its updates read the
    // snapshot from before it and change nothing, so it answers nothing. Run again, on a new
    // snapshot; no row then means no such task.
    let row = await run();
    for (let again = 0; !row && again < 3 && (await this.get(seq)) !== undefined; again++) row = await run();
    if (!row) throw new StoreError("ERR_NOT_FOUND", `cancel: no task with seq ${seq}`);
    return {
      outcome: row.outcome as T.CancelOutcome["outcome"],
      record: records.toRecord(row.record as records.Row),
    };
  }

  async cancelRequested(seqs: readonly number[]): Promise<number[]> {
    this.#ensureOpen("cancel requested");
    if (seqs.length === 0) return [];
    const { rows } = await this.#conn.query<"task_list_cancel_requested", { seq: number }>(
      "task_list_cancel_requested",
      { seqs },
    );
    return rows.map((r) => r.seq);
  }

  async cancelRunning(seq: number, version: number): Promise<number> {
    this.#ensureOpen("cancel running");
    let retried = false;
    const { rows } = await this.#conn.retrying("cancel running", (attempt) => {
      retried = attempt > 0;
      return this.#conn.send<"task_cancel_running", { call: string; seq: number | null }>(
        "task_cancel_running",
        { now: this.#clock(), seq, version, done_channel: this.#doneChannel },
      );
    });
    let done = rows.some((r) => r.call === "cancelled");
    if (!done && retried) {
      // the first try may have committed before its connection dropped: done is done, not stale
      const record = await this.get(seq);
      done = record?.status === "cancelled" && record.version === version + 1;
    }
    if (!done) throw new StaleTransitionError("running → cancelled", seq, version);
    this.#running.delete(seq);
    this.#finished([seq]);
    return version + 1;
  }

  /**
   * Calls `listener` with the seq of every task whose cancel is requested from now on, by any
   * node of this store (`taskq_cancel_<schema>`); returns the function that stops it.
   */
  onCancelRequested(listener: (seq: number) => void): () => void {
    return this.#notifier.onCancelRequested(listener);
  }

  /** Resolves once this store listens for notifications (what is sent from then on reaches it). */
  listening(): Promise<void> {
    return this.#notifier.listening();
  }

  // ---- reads, dead letters, retention ---------------------------------------------------------

  async get(seq: number): Promise<T.TaskRecord | undefined> {
    this.#ensureOpen("get");
    const row = (await this.#conn.query<"task_get", records.Row>("task_get", { seq })).rows[0];
    return row && records.toRecord(row);
  }

  async getByKey(kind: string, key: string): Promise<T.TaskRecord | undefined> {
    this.#ensureOpen("get by key");
    const row = (
      await this.#conn.query<"task_get_by_key", records.Row>("task_get_by_key", {
        kind,
        idempotency_key: key,
      })
    ).rows[0];
    return row && records.toRecord(row);
  }

  async getById(id: string): Promise<T.TaskRecord[]> {
    this.#ensureOpen("get by id");
    return (await this.#conn.query<"task_list_by_id", records.Row>("task_list_by_id", { id })).rows.map(
      records.toRecord,
    );
  }

  /** See TaskStoreDriver.enqueueFlow (flow-enqueue.ts). */
  async enqueueFlow(tasks: readonly FlowTaskInput[]): Promise<T.ClaimResult[]> {
    this.#ensureOpen("enqueue flow");
    const flow = checkFlow(tasks, this.maxAttempts);
    return enqueueFlow(this.#conn, flow, (client) => this.claimWith(client, tasks), this.#clock());
  }

  /** See TaskStoreDriver.taskLinks. */
  async taskLinks(seq: number): Promise<TaskLinks> {
    this.#ensureOpen("task links");
    return linksOf(this.#conn, seq);
  }

  async attempts(taskSeq: number): Promise<T.AttemptRecord[]> {
    this.#ensureOpen("list attempts");
    const { rows } = await this.#conn.query<"task_attempt_list", records.AttemptRow>("task_attempt_list", {
      task_seq: taskSeq,
    });
    return rows.map(records.toAttempt);
  }

  /** See TaskStoreDriver.report: every report in one statement (task_report), each fenced. */
  async report(reports: readonly TaskReport[]): Promise<boolean[]> {
    this.#ensureOpen("write progress and log lines");
    checkReports(reports);
    if (reports.length === 0) return [];
    const n = reports.length;
    const kinds: string[] = new Array(n);
    const keys: string[] = new Array(n);
    const attempts: number[] = new Array(n);
    const progress: (string | null)[] = new Array(n);
    const dropped: number[] = new Array(n);
    const lineOf: number[] = [];
    const lines: string[] = [];
    const ats: number[] = [];
    reports.forEach((r, i) => {
      kinds[i] = r.kind;
      keys[i] = r.key;
      attempts[i] = r.attempt;
      progress[i] = r.progress ?? null;
      dropped[i] = r.dropped ?? 0;
      for (const l of r.lines ?? []) {
        lineOf.push(i + 1);
        lines.push(boundedLine(l.line));
        ats.push(Math.round(l.at));
      }
    });
    const { rows } = await this.#conn.query<"task_report", { i: string | number }>("task_report", {
      kinds,
      keys,
      attempts,
      progress,
      dropped,
      owner: this.owner,
      line_of: lineOf,
      lines,
      ats,
      cap: LOG_MAX_LINES,
      now_ms: Date.now(),
    });
    const written = new Array<boolean>(n).fill(false);
    for (const row of rows) written[Number(row.i) - 1] = true;
    return written;
  }

  async logs(taskSeq: number): Promise<TaskLog> {
    this.#ensureOpen("list log lines");
    const { rows } = await this.#conn.query<"task_log_list", TaskLogRow>("task_log_list", {
      task_seq: taskSeq,
    });
    return toTaskLog(rows);
  }

  async recordInvalid(taskId: string, payload: unknown, failure: T.TaskFailure): Promise<number> {
    this.#ensureOpen("record validate.invalid task");
    const { rows } = await this.#conn.query<"dead_letter_insert_invalid", { seq: number }>(
      "dead_letter_insert_invalid",
      {
        now: this.#clock(),
        task_id: String(taskId).slice(0, validate.MAX_ID_LENGTH),
        payload: validate.invalidPayload(payload),
        error_class: failure.errorClass,
        error_message: failure.message,
      },
    );
    return Number(rows[0]?.seq);
  }

  /** See TaskStoreDriver.redriveTasks: one statement, task_redrive, then workers woken. */
  async redriveTasks(taskSeqs: readonly number[]): Promise<number> {
    validate.checkTaskSeqs(taskSeqs);
    this.#ensureOpen("redrive tasks");
    if (taskSeqs.length === 0) return 0;
    const { rows } = await this.#conn.query<"task_redrive", { n: number }>("task_redrive", {
      task_seqs: taskSeqs,
      now: this.#clock(),
    });
    const count = rows[0]?.n ?? 0;
    if (count > 0) await this.#notify();
    return count;
  }

  /** See TaskStoreDriver.statusCounts: one statement, task_status_counts. */
  async statusCounts(cap: number): Promise<T.StatusCounts> {
    validate.checkCap(cap);
    this.#ensureOpen("status counts");
    const { rows } = await this.#conn.query<
      "task_status_counts",
      { status: string; kind: string | null; n: number | null }
    >("task_status_counts", { now: this.#clock(), cap });
    const extra = (name: string) => rows.find((r) => r.kind === null && r.status === name)?.n ?? null;
    return records.toStatusCounts(cap, rows.filter((r) => r.kind !== null) as records.StatusCountRow[], {
      now: Number(extra("now")),
      totalEstimate: extra("total_estimate") ?? 0,
      deadLetters: extra("dead_letters") ?? 0,
      oldestDue: extra("oldest_due"),
    });
  }

  async recentFinished(sinceMs: number, sampleLimit: number): Promise<T.RecentFinished> {
    validate.checkRecentFinished(sinceMs, sampleLimit);
    this.#ensureOpen("recent finished");
    const { rows } = await this.#conn.query<
      "task_recent_finished",
      { now: number; succeeded: number; failed: number; samples: records.FinishedRow[] }
    >("task_recent_finished", { now: this.#clock(), since: sinceMs, limit: sampleLimit });
    const r = rows[0] as NonNullable<(typeof rows)[0]>;
    return {
      now: r.now,
      succeeded: r.succeeded,
      failed: r.failed,
      samples: r.samples.map(records.toFinishedSample),
    };
  }

  async finishedHistory(query: T.FinishedHistoryQuery): Promise<T.FinishedHistory> {
    const q = validate.checkFinishedHistoryQuery(query);
    this.#ensureOpen("finished history");
    const now = this.#clock();
    const { rows } = await this.#conn.query<"task_finished_history", records.FinishedBucketRow>(
      "task_finished_history",
      { now, buckets: q.buckets, bucket_ms: q.bucketMs, cap: q.countCap, samples: q.sampleLimit },
    );
    const buckets = rows.map((r) => records.toFinishedBucket(r, q.countCap));
    const last = buckets.at(-1);
    return { now: last === undefined ? Number(now) : last.start + q.bucketMs, bucketMs: q.bucketMs, buckets };
  }

  /**
   * See TaskStoreDriver.listTasks: a filter's set read whole when it is small (task_page_of_set,
   * see task-list.ts) and its page read by seq, else a walk by seq along the primary key or the
   * status's own index.
   */
  async listTasks(query: T.TaskListQuery): Promise<T.TaskRecord[]> {
    const q = validate.checkTaskListQuery(query);
    this.#ensureOpen("list tasks");
    for (const set of candidateSets(q)) {
      const { rows } = await this.#conn.query<"task_page_of_set", { set_size: number; seqs: string[] }>(
        "task_page_of_set",
        { ...q, set, cap: SMALL_SET },
      );
      const page = rows[0] as NonNullable<(typeof rows)[0]>;
      if (page.set_size >= SMALL_SET) continue;
      if (page.seqs.length === 0) return [];
      const found = await this.#conn.query<"task_list_by_seqs", records.Row>("task_list_by_seqs", {
        seqs: page.seqs.map(Number),
      });
      return found.rows.map(records.toRecord);
    }
    const walk = walkOf(q);
    const { rows } =
      walk === "grouped"
        ? await this.#conn.query<"task_page_grouped", records.Row>("task_page_grouped", {
            ...q,
            group_key: q.group as string,
            correlation_id: q.correlationId,
          })
        : walk === "correlated"
          ? await this.#conn.query<"task_page_correlated", records.Row>("task_page_correlated", {
              ...q,
              correlation_id: q.correlationId as string,
            })
          : walk === "tagged"
            ? await this.#conn.query<"task_page_tagged", records.Row>("task_page_tagged", {
                ...q,
                tag: q.tag as string,
              })
            : walk === "failed"
              ? await this.#conn.query<"task_page_failed", records.Row>("task_page_failed", q)
              : walk === "cancelled"
                ? await this.#conn.query<"task_page_cancelled", records.Row>("task_page_cancelled", q)
                : await this.#conn.query<"task_page", records.Row>("task_page", q);
    return rows.map(records.toRecord);
  }

  /** See TaskStoreDriver.kinds: sorted here, in code-point order whatever the database's collation. */
  async kinds(): Promise<string[]> {
    this.#ensureOpen("list kinds");
    const { rows } = await this.#conn.query<"task_kinds", { kind: string }>("task_kinds", {});
    return rows.map((r) => r.kind).sort();
  }

  async listDeadLetters(query: T.DeadLetterListQuery): Promise<T.DeadLetter[]> {
    const { before, limit, includeRedriven, kind } = validate.checkDeadLetterListQuery(query);
    this.#ensureOpen("list dead letters");
    const { rows } =
      kind === null
        ? await this.#conn.query<"dead_letter_page_all" | "dead_letter_page_open", records.DeadLetterRow>(
            includeRedriven ? "dead_letter_page_all" : "dead_letter_page_open",
            { before, limit },
          )
        : await this.#conn.query<
            "dead_letter_page_all_of_kind" | "dead_letter_page_open_of_kind",
            records.DeadLetterRow
          >(includeRedriven ? "dead_letter_page_all_of_kind" : "dead_letter_page_open_of_kind", {
            before,
            limit,
            kind,
          });
    return rows.map(records.toDeadLetter);
  }

  async leaseHolders(): Promise<LeaseHolder[]> {
    this.#ensureOpen("list lease holders");
    const { rows } = await this.#conn.query<
      "lease_holders",
      { owner: string; running: number; expires: number }
    >("lease_holders", {});
    return rows.map((r) => ({ owner: r.owner, running: r.running, leaseExpiresAt: r.expires }));
  }

  async prune(options: { readonly olderThanMs: number; readonly limit?: number }): Promise<number> {
    this.#ensureOpen("prune");
    const limit = validate.checkLimit(options.limit ?? 500);
    const olderThanMs = validate.checkOlderThan(options.olderThanMs);
    const { rows } = await this.#conn.query<"task_prune", { n: number }>("task_prune", {
      now: this.#clock(),
      older_than_ms: Math.round(olderThanMs),
      limit,
    });
    return rows[0]?.n ?? 0;
  }

  async purgeDeadLetters(olderThanMs: number): Promise<number> {
    this.#ensureOpen("purge dead letters");
    validate.checkOlderThan(olderThanMs);
    const { rows } = await this.#conn.query<"dead_letter_purge", { n: number }>("dead_letter_purge", {
      now: this.#clock(),
      older_than_ms: Math.round(olderThanMs),
    });
    return rows[0]?.n ?? 0;
  }

  // ---- maintenance gate and the workers registry ----------------------------------------------

  async tryRunMaintenance(name: string, everyMs: number): Promise<boolean> {
    this.#ensureOpen("try run maintenance");
    validate.checkMaintenance(name, everyMs);
    const { rowCount } = await this.#conn.query("maintenance_try_run", {
      now: this.#clock(),
      name,
      owner: this.owner,
      every_ms: everyMs,
    });
    return rowCount === 1;
  }

  async reportWorker(info: T.WorkerInfo): Promise<void> {
    this.#ensureOpen("report worker");
    const json = records.workerInfoJson(info);
    await this.#conn.query("worker_report", { now: this.#clock(), owner: this.owner, info: json });
    await this.#conn.query("worker_forget_dead", { now: this.#clock(), stale_ms: WORKER_STALE_MS });
  }

  async removeWorker(): Promise<void> {
    this.#ensureOpen("remove worker");
    await this.#conn.query("worker_remove", { owner: this.owner });
  }

  async workers(): Promise<T.WorkerRecord[]> {
    this.#ensureOpen("list workers");
    return (await this.#conn.query<"worker_list", records.WorkerRow>("worker_list", {})).rows.map(
      records.toWorker,
    );
  }

  // ---- recurring tasks -------------------------------------------------------------------------

  async now(): Promise<number> {
    this.#ensureOpen("read the clock");
    const { rows } = await this.#conn.query<"clock_now", { now: number }>("clock_now", {
      now: this.#clock(),
    });
    return Number(rows[0]?.now);
  }

  async putSchedule(input: T.ScheduleInput): Promise<T.ScheduleRecord> {
    const json = validate.checkSchedule(input);
    this.#ensureOpen("put schedule");
    const { rows } = await this.#conn.query<"schedule_put", records.ScheduleRow>("schedule_put", {
      ...scheduleParams(input, json),
      now: this.#clock(),
    });
    return records.toSchedule(rows[0] as records.ScheduleRow);
  }

  async removeSchedule(name: string): Promise<boolean> {
    this.#ensureOpen("remove schedule");
    return ((await this.#conn.query("schedule_remove", { name })).rowCount ?? 0) > 0;
  }

  async getSchedule(name: string): Promise<T.ScheduleRecord | undefined> {
    this.#ensureOpen("get schedule");
    const { rows } = await this.#conn.query<"schedule_get", records.ScheduleRow>("schedule_get", { name });
    return rows[0] && records.toSchedule(rows[0]);
  }

  async schedules(): Promise<T.ScheduleRecord[]> {
    this.#ensureOpen("list schedules");
    const { rows } = await this.#conn.query<"schedule_list", records.ScheduleRow>("schedule_list", {});
    return rows.map(records.toSchedule);
  }

  async setSchedulePaused(
    name: string,
    paused: boolean,
    nextRunAt?: number,
  ): Promise<T.ScheduleRecord | undefined> {
    this.#ensureOpen("pause schedule");
    const { rows } = await this.#conn.query<"schedule_set_paused", records.ScheduleRow>(
      "schedule_set_paused",
      {
        now: this.#clock(),
        name,
        paused,
        next_run_at: nextRunAt ?? null,
      },
    );
    return rows[0] && records.toSchedule(rows[0]);
  }

  async dueSchedules(limit: number): Promise<{ now: number; due: T.ScheduleRecord[] }> {
    validate.checkLimit(limit);
    this.#ensureOpen("list due schedules");
    const { rows } = await this.#conn.query<"schedule_list_due", records.ScheduleRow & { clock_now: number }>(
      "schedule_list_due",
      { now: this.#clock(), limit },
    );
    // no row due: the clock is read on its own
    const now = rows[0] ? Number(rows[0].clock_now) : await this.now();
    return { now, due: rows.map(records.toSchedule) };
  }

  async fireSchedule(firing: T.ScheduleFiring): Promise<{ advanced: boolean; created: boolean }> {
    const claim = validate.checkClaim(firing.task, this.maxAttempts);
    this.#ensureOpen("fire schedule");
    const { rows } = await this.#conn.query<"schedule_fire", { advanced: number; seq: number | null }>(
      "schedule_fire",
      {
        now: this.#clock(),
        name: firing.name,
        expected: firing.expected,
        next_run_at: firing.nextRunAt,
        fired_at: firing.firedAt,
        id: claim.id,
        idempotency_key: claim.idempotencyKey,
        kind: claim.kind,
        payload: claim.payload,
        max_attempts: claim.maxAttempts,
        priority: claim.priority,
        channel: this.#channel,
      },
    );
    const row = rows[0];
    return { advanced: (row?.advanced ?? 0) > 0, created: row?.seq !== null && row?.seq !== undefined };
  }

  // ---- counters, flush, close -----------------------------------------------------------------

  counters(): BatchCounters {
    return this.#batcher.counters();
  }

  resetCounters(): void {
    this.#batcher.resetCounters();
  }

  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Commits what is pending, stops the heartbeat and the listener, and ends the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#batcher.close();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#notifier.close();
    await this.#conn.end();
  }
}
