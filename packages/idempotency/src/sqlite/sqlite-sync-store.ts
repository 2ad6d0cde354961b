// The SQLite store's synchronous core: every call is one or a few statements of queries.sql
// through better-sqlite3. SqliteTaskStore (sqlite-task-store.ts), the driver, batches calls into
// it; tools and benchmarks that want synchronous calls use it directly.
import type Database from "better-sqlite3";
import {
  type BreakerEvent,
  type BreakerOptions,
  breakerAfter,
  breakerAfterSuccess,
  breakerParams,
  counts,
  probesAfter,
  ratioTasks,
} from "../breaker.js";
import { DEFAULT_ATTEMPTS, DEFAULT_LEASE_MS, WORKER_STALE_MS } from "../defaults.js";
import type { LeaseHolder } from "../driver.js";
import { StaleTransitionError, StoreError } from "../errors.js";
import { checkFlow, FLOW_WAITING_AT, type FlowTaskInput, type TaskLinks } from "../flows.js";
import { startHeartbeat } from "../heartbeat.js";
import {
  allowances,
  checkKindLimits,
  countsRunning,
  earliestStart,
  GroupedShare,
  groupedPart,
  type KindLimitRow,
  type KindLimitState,
  toKindLimitState,
  windowsAfter,
} from "../limits.js";
import { deadLocalOwners, newOwnerId } from "../owner.js";
import * as records from "../record.js";
import { kindLimitParams, scheduleParams } from "../sql/params.js";
import { candidateSets, SMALL_SET, walkOf } from "../task-list.js";
import {
  checkReports,
  type TaskLog,
  type TaskLogRow,
  type TaskReport,
  toTaskLog,
  writeReportsSqlite,
} from "../task-reports.js";
import type * as T from "../types.js";
import * as validate from "../validate.js";
import { BackgroundCheckpointer } from "./checkpointer.js";
import { fromSqlite } from "./errors.js";
import { type EndedRow, linkFlow, linksOf, releaseChildren, withParents } from "./flow-release.js";
import { takeGrouped } from "./group-take.js";
import { openDatabase } from "./open-database.js";
import { prepareStatements, type SqliteStatements, type TakeParams, takeStatement } from "./queries.js";

/** A count up to a cap, with the time of the last entry counted (finishedHistory). */
type Counted = { n: number; last: number | null };

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** SQLite file (created when missing), or `:memory:` for tests. */
  readonly path: string;
  /**
   * How long a statement waits for another process's lock before failing with ERR_STORE_BUSY.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Attempts before a task is dead-lettered, when the task does not say.
   * @default {@link DEFAULT_ATTEMPTS} (3)
   */
  readonly maxAttempts?: number;
  /**
   * How long a running task stays leased to its owner without a heartbeat, in ms.
   * @default {@link DEFAULT_LEASE_MS} (30000)
   */
  readonly leaseMs?: number;
  /**
   * This process's lease owner id.
   * @default `${hostname}:${pid}:${random}`
   */
  readonly owner?: string;
  /**
   * Clock for timestamps, in epoch ms; injected in tests.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * On open, put back to `queued` the running tasks of dead owners and expired leases. Tools
   * that only read (monitor, status) pass false.
   * @default true
   */
  readonly recover?: boolean;
  /**
   * Who checkpoints the WAL (copies committed pages back into the database file, with fsyncs):
   * `auto` is SQLite's default, inside whichever commit crosses 1000 pages; `background` is a
   * worker thread with its own connection, so commits never pay for it (for a long-running
   * writer: `taskq run` and `serve`). A `:memory:` database has no WAL and ignores it.
   * @default "auto"
   */
  readonly checkpoint?: "auto" | "background";
}

/**
 * The SQLite store, synchronous: claim and dedupe by idempotency key, a version-guarded state machine
 * (queued → running → succeeded | queued (retry) | failed → dead letter), leases, crash recovery
 * and the durable queue. Every call is synchronous (better-sqlite3); group calls into one
 * transaction with `transaction(fn)`, or use the driver, `SqliteTaskStore`, which batches them.
 */
export class SqliteSyncStore {
  readonly path: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  /** Tasks put back to `queued` when the store opened (left running by a dead process). */
  readonly recoveredOnOpen: number;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #s: SqliteStatements;
  /** task_take by number of kinds, prepared on first use. */
  readonly #takes = new Map<number, (params: TakeParams) => records.Row[]>();
  /** A take's split between grouped kinds and the others (§5.3). */
  readonly #groupedShare = new GroupedShare();
  #heartbeat: NodeJS.Timeout | undefined;
  /** The probes this store's takes let through (half-open breakers), by seq: a success closes one. */
  readonly #probes = new Set<number>();
  /** The tasks this store's takes started of kinds whose breaker has a ratio: a success counts. */
  readonly #ratioTasks = new Set<number>();
  /**
   * Breakers this store's calls opened or closed, in the transaction open now: the driver tells
   * its listeners after the commit (and drops them after a rollback).
   */
  breakerEvents: BreakerEvent[] = [];
  readonly #checkpointer: BackgroundCheckpointer | undefined;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    if (typeof options.path !== "string" || options.path.length === 0)
      validate.invalid("path must be a file path or :memory:");
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0)
      validate.invalid(`busyTimeoutMs must be an integer >= 0, got ${busy}`);
    this.maxAttempts = validate.checkAttempts("maxAttempts", options.maxAttempts ?? DEFAULT_ATTEMPTS);
    this.leaseMs = validate.checkLeaseMs(options.leaseMs ?? DEFAULT_LEASE_MS);
    this.path = options.path;
    this.owner = options.owner ?? newOwnerId();
    this.#now = options.now ?? Date.now;
    const checkpoint = options.checkpoint ?? "auto";
    if (checkpoint !== "auto" && checkpoint !== "background")
      validate.invalid(`checkpoint must be "auto" or "background", got ${String(checkpoint)}`);
    this.#db = openDatabase(options.path, busy);
    if (checkpoint === "background" && options.path !== ":memory:") {
      this.#db.pragma("wal_autocheckpoint = 0");
      this.#checkpointer = new BackgroundCheckpointer(options.path);
    }
    this.#s = prepareStatements(this.#db);
    this.recoveredOnOpen = options.recover === false ? 0 : this.recover();
  }

  #guard<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StoreError("ERR_CLOSED", `${what}: the task store is closed`);
    try {
      return fn();
    } catch (error) {
      throw fromSqlite(error, what);
    }
  }

  /** Runs `fn` in one transaction (IMMEDIATE: takes the write lock at once); nests as a savepoint. */
  transaction<T>(fn: () => T): T {
    return this.#guard("transaction", () => this.#db.transaction(fn).immediate());
  }

  /**
   * Inserts the task as `queued` (or, with `start`, as `running` for this owner) unless its
   * idempotency key exists: one atomic INSERT ... ON CONFLICT DO NOTHING (a created task's seq is
   * the insert's rowid). Of two processes claiming one key, one wins.
   */
  claim(input: T.ClaimInput): T.ClaimResult {
    const {
      kind,
      payload,
      maxAttempts,
      priority,
      runAt,
      delayMs,
      start,
      tags,
      correlationId,
      traceContext,
      group,
    } = validate.checkClaim(input, this.maxAttempts);
    return this.#guard("claim", () => {
      const now = this.#now();
      // one params object for either statement (each binds the names it has): a spread of a
      // shared part cost ~2 µs a call
      const params = {
        id: input.id,
        idempotency_key: input.idempotencyKey,
        kind,
        payload,
        max_attempts: maxAttempts,
        now,
        next_run_at: runAt ?? now + delayMs,
        priority,
        owner: this.owner,
        lease_expires_at: now + this.leaseMs,
        tags,
        correlation_id: correlationId,
        trace_context: traceContext,
        group_key: group,
      };
      const insert = () => {
        const inserted = (start ? this.#s.task_claim_running : this.#s.task_claim).run(params);
        if (inserted.changes === 1 && tags !== null)
          this.#s.task_tags_insert.run({ seq: Number(inserted.lastInsertRowid), tags });
        return inserted;
      };
      // only a tagged task writes task_tags, with its row in one transaction (a savepoint inside
      // the turn's); a trigger would cost every claim a statement journal
      const inserted = tags === null ? insert() : this.#db.transaction(insert)();
      if (inserted.changes === 1) return records.createdClaim(Number(inserted.lastInsertRowid), start);
      return {
        created: false,
        record: records.toRecord(
          this.#s.task_get_by_key.get({ kind, idempotency_key: input.idempotencyKey }) as records.Row,
        ),
      };
    });
  }

  /** Runs a version-guarded UPDATE; none changed means a stale transition. Returns the new version. */
  #transition(what: string, seq: number, version: number, run: () => Database.RunResult): number {
    return this.#guard(what, () => {
      if (run().changes === 0) throw new StaleTransitionError(what, seq, version);
      return version + 1;
    });
  }

  /**
   * A transition that may end a task: `run` answers its row (RETURNING seq, id, status,
   * has_children), whose children are then released when it ended with any (flow-release.ts).
   */
  #ending(what: string, seq: number, version: number, now: number, run: () => unknown): number {
    return this.#guard(what, () => {
      const row = run() as EndedRow | undefined;
      if (!row) throw new StaleTransitionError(what, seq, version);
      releaseChildren(this.#s, row, now);
      return version + 1;
    });
  }

  /** queued → running: counts an attempt and leases the task to this owner. */
  start(seq: number, version: number): T.Started {
    return this.#guard("start", () => {
      const now = this.#now();
      const row = this.#s.task_start.get({
        now,
        owner: this.owner,
        lease_expires_at: now + this.leaseMs,
        seq,
        version,
      }) as { version: number; attempts: number } | undefined;
      if (!row) throw new StaleTransitionError("queued → running", seq, version);
      return { seq, version: row.version, attempts: row.attempts };
    });
  }

  /** running → succeeded, with what the task produced. Returns the new version. */
  succeed(seq: number, version: number, data: T.TaskResultData = {}): number {
    const now = this.#now();
    const params = {
      output_key: data.outputKey ?? null,
      etag: data.etag ?? null,
      result: data.result ?? null,
      now,
      seq,
      version,
    };
    // a task with children matches no row of task_succeed: it is ended, and its children counted,
    // by task_succeed_parent (a task without children pays nothing more; a stale call one read)
    const next = this.#transition("running → succeeded", seq, version, () => {
      const done = this.#s.task_succeed.run(params);
      if (done.changes > 0 || this.#s.task_running_parent.get({ seq, version }) === undefined) return done;
      return this.transaction(() => {
        const parent = this.#s.task_succeed_parent.get(params) as EndedRow | undefined;
        releaseChildren(this.#s, parent, now);
        return { changes: parent === undefined ? 0 : 1, lastInsertRowid: seq };
      });
    });
    // a probe's success closes its breaker (counts start again); another counts with a ratio
    const counted = this.#ratioTasks.delete(seq);
    if (this.#probes.delete(seq)) this.#probeSucceeded(seq, now);
    else if (counted) this.#ratioSucceeded(seq, now);
    return next;
  }

  /** A probe succeeded: its kind's breaker closes (when the probe is still the breaker's). */
  #probeSucceeded(seq: number, now: number): void {
    const kind = (this.#s.task_get.get({ seq }) as records.Row | undefined)?.kind;
    if (kind !== undefined && this.#s.kind_breaker_close.run({ kind, now, probe_seq: seq }).changes > 0)
      this.breakerEvents.push({ kind, state: "closed", at: now });
  }

  /** Writes a breaker's state (its row as breaker.ts left it). */
  #writeBreaker(row: KindLimitRow): void {
    this.#s.kind_breaker_set_state.run({
      kind: row.kind,
      breaker_window_start: row.breaker_window_start,
      breaker_count: row.breaker_count,
      breaker_attempts: row.breaker_attempts,
      breaker_opened_at: row.breaker_opened_at,
      breaker_probe_seq: row.breaker_probe_seq,
    });
  }

  /** A success of a kind whose breaker has a ratio, taken by this store: one more ended attempt. */
  #ratioSucceeded(seq: number, now: number): void {
    const row = this.#s.kind_breaker_of_task.get({ seq }) as KindLimitRow | undefined;
    const after = row && breakerAfterSuccess(row, now);
    if (after) this.#writeBreaker(after);
  }

  /**
   * A failed attempt of task `seq` counts in its kind's breaker, when the kind has one (one read
   * by key otherwise): breaker.ts breakerAfter, in the transaction that ends the attempt.
   */
  #attemptFailed(seq: number, failure: T.TaskFailure, retryable: boolean, now: number): void {
    this.#probes.delete(seq);
    this.#ratioTasks.delete(seq);
    const row = this.#s.kind_breaker_of_task.get({ seq }) as KindLimitRow | undefined;
    if (!row) return;
    const counted = counts(row.breaker_errors, failure.errorClass, retryable);
    const { row: after, change } = breakerAfter(row, seq, counted, now);
    if (change === null) return;
    this.#writeBreaker(after);
    if (change === "opened" || change === "reopened")
      this.breakerEvents.push({ kind: row.kind, state: "opened", at: now });
  }

  /** running → queued after a transient failure: runs again no earlier than `delayMs` from now. */
  retry(seq: number, version: number, failure: T.TaskFailure, delayMs: number): number {
    return this.transaction(() => {
      const now = this.#now();
      this.#attemptEnded("retried", seq, version, now, failure);
      const next = this.#ending("running → queued (retry)", seq, version, now, () =>
        this.#s.task_retry.get({
          next_run_at: now + Math.max(0, delayMs),
          error_class: failure.errorClass,
          error_message: failure.message,
          now,
          seq,
          version,
        }),
      );
      this.#attemptFailed(seq, failure, failure.retryable ?? true, now);
      return next;
    });
  }

  /** Keeps the attempt that `seq` at `version` ends now (before the statement that ends it). */
  #attemptEnded(
    outcome: "retried" | "failed" | "released" | "cancelled",
    seq: number,
    version: number,
    now: number,
    failure?: T.TaskFailure,
  ): void {
    this.#s.task_attempt_insert.run({
      seq,
      version,
      now,
      outcome,
      error_class: failure?.errorClass ?? null,
      error_message: failure?.message ?? null,
      error_stack: validate.boundedStack(failure?.stack),
    });
  }

  /** See TaskStoreDriver.enqueueFlow: the claims, the edges and the children's states in one transaction. */
  enqueueFlow(tasks: readonly FlowTaskInput[]): T.ClaimResult[] {
    const flow = checkFlow(tasks, this.maxAttempts);
    return this.transaction(() => {
      const results = tasks.map((task) => this.claim(task));
      linkFlow(this.#s, flow, results, this.#now());
      return results;
    });
  }

  /** See TaskStoreDriver.taskLinks. */
  taskLinks(seq: number): TaskLinks {
    return this.#guard("task links", () => linksOf(this.#s, seq));
  }

  /** See TaskStoreDriver.attempts. */
  attempts(taskSeq: number): T.AttemptRecord[] {
    return this.#guard("list attempts", () =>
      (this.#s.task_attempt_list.all({ task_seq: taskSeq }) as records.AttemptRow[]).map(records.toAttempt),
    );
  }

  /** See TaskStoreDriver.report. */
  report(reports: readonly TaskReport[]): boolean[] {
    checkReports(reports);
    return this.transaction(() => writeReportsSqlite(this.#s, this.owner, reports));
  }

  /** See TaskStoreDriver.logs. */
  logs(taskSeq: number): TaskLog {
    return this.#guard("list log lines", () =>
      toTaskLog(this.#s.task_log_list.all({ task_seq: taskSeq }) as TaskLogRow[]),
    );
  }

  /** running → failed, and a dead letter with the last error. Returns the new version. */
  fail(seq: number, version: number, failure: T.TaskFailure): number {
    return this.transaction(() => {
      const now = this.#now();
      this.#attemptEnded("failed", seq, version, now, failure);
      const next = this.#ending("running → failed", seq, version, now, () =>
        this.#s.task_fail.get({
          error_class: failure.errorClass,
          error_message: failure.message,
          now,
          seq,
          version,
        }),
      );
      this.#s.dead_letter_insert.run({ now, seq });
      this.#attemptFailed(seq, failure, failure.retryable ?? false, now);
      return next;
    });
  }

  /** running → queued without recording a failure (graceful shutdown hands the task back; the attempt still counts). */
  release(seq: number, version: number): number {
    this.#probes.delete(seq); // a probe handed back frees its slot: its task is no longer running
    this.#ratioTasks.delete(seq);
    return this.transaction(() => {
      const now = this.#now();
      this.#attemptEnded("released", seq, version, now);
      // a release of a task whose cancel was asked for ends it cancelled: its children are released
      return this.#ending("running → queued (released)", seq, version, now, () =>
        this.#s.task_release.get({ now, seq, version }),
      );
    });
  }

  /**
   * Takes up to `limit` due tasks for this owner: queued ones whose next run time has come, of
   * `kinds` (every kind when left out), in queue order (next run time, then creation); first
   * reclaims tasks whose lease has expired.
   */
  takeNext(limit: number, kinds?: readonly string[], options: T.TakeOptions = {}): T.TaskRecord[] {
    validate.checkLimit(limit);
    if (kinds !== undefined) validate.checkKinds(kinds);
    return this.transaction(() => {
      this.#reclaimExpired();
      const now = this.#now();
      // the limited kinds' rows and the running counts a concurrency limit needs, read in this
      // (immediate, so serial) transaction
      const rows = this.#s.kind_limit_list.all() as KindLimitRow[];
      const allow = allowances(
        limit,
        rows,
        this.#runningOf(rows.filter(countsRunning)),
        now,
        options.perKind,
      );
      const served = (
        kinds ?? (this.#s.task_queued_kinds.all() as { kind: string }[]).map((r) => r.kind)
      ).filter((kind) => (allow.get(kind) ?? limit) > 0);
      // a grouped kind (per-group limits, §5.3) is taken in rotation between its groups, by
      // group-take.ts; the others by task_take, exactly as without groups when no grouped kind is
      // served, else first with the limit less the grouped kinds' share (GroupedShare), and again
      // for what the grouped kinds left of it: neither side starves the other
      const grouped = rows.filter((r) => r.per_group_concurrency != null && served.includes(r.kind));
      const serve = grouped.length === 0 ? served : served.filter((k) => !grouped.some((r) => r.kind === k));
      if (serve.length === 0 && grouped.length === 0) return [];
      const share = this.#groupedShare.of(limit, grouped.length, serve.length);
      const taken = this.#takeOrdinary(serve, limit - share, allow, limit, now, []);
      const groupTaken: records.Row[] = [];
      const lease = { now, owner: this.owner, leaseMs: this.leaseMs };
      for (let i = 0; i < grouped.length; i++) {
        const left = limit - taken.length - groupTaken.length;
        if (left <= 0) break;
        const row = grouped[i] as KindLimitRow;
        const n = groupedPart(left, i, grouped.length, allow.get(row.kind) ?? limit);
        if (n > 0) groupTaken.push(...takeGrouped(this.#s, row, n, lease));
      }
      // the grouped kinds left part of their share, and the first take may have left tasks behind
      const rest = limit - taken.length - groupTaken.length;
      if (share > 0 && rest > 0 && taken.length >= limit - share)
        taken.push(...this.#takeOrdinary(serve, rest, allow, limit, now, taken));
      if (taken.length === 0 && groupTaken.length === 0) return [];
      // the taken rows as the update left them (RETURNING has no order): in queue order; a
      // grouped kind's after them, in their rotation's order
      const rank = (row: records.Row) => (row as records.Row & { rank_at: number }).rank_at;
      taken.sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
      const takenRecords = [...taken, ...groupTaken].map(records.toRecord);
      if (rows.length > 0) {
        const started = new Map<string, number>();
        for (const r of takenRecords) started.set(r.kind, (started.get(r.kind) ?? 0) + 1);
        for (const [kind, windowStart, windowCount] of windowsAfter(rows, started, now))
          this.#s.kind_limit_set_window.run({ kind, window_start: windowStart, window_count: windowCount });
        for (const [kind, seq] of probesAfter(rows, takenRecords, now)) {
          const row = rows.find((r) => r.kind === kind) as KindLimitRow;
          this.#writeBreaker({ ...row, breaker_probe_seq: seq });
          this.#probes.add(seq);
        }
        for (const seq of ratioTasks(rows, takenRecords)) this.#ratioTasks.add(seq);
      }
      return withParents(this.#s, takenRecords);
    });
  }

  /**
   * Up to `n` due tasks of the kinds `serve` (none grouped) by task_take, each within its
   * allowance (`allow`, else `limit`) less what `before` (this take's earlier rows) took of it.
   */
  #takeOrdinary(
    serve: readonly string[],
    n: number,
    allow: ReadonlyMap<string, number>,
    limit: number,
    now: number,
    before: readonly records.Row[],
  ): records.Row[] {
    if (serve.length === 0 || n <= 0) return [];
    let take = this.#takes.get(serve.length);
    if (!take) {
      take = takeStatement(this.#db, serve.length);
      this.#takes.set(serve.length, take);
    }
    const params: Record<string, unknown> = {
      now,
      owner: this.owner,
      lease_expires_at: now + this.leaseMs,
      limit: n,
    };
    for (let i = 0; i < serve.length; i++) {
      const kind = serve[i] as string;
      const took = before.length === 0 ? 0 : before.filter((r) => r.kind === kind).length;
      params[`kind_${i}`] = kind;
      params[`kind_${i}_limit`] = Math.max(0, Math.min(n, (allow.get(kind) ?? limit) - took));
    }
    return take(params as unknown as TakeParams);
  }

  /** Running tasks of each limited kind, in every process. */
  #runningOf(rows: readonly KindLimitRow[]): Map<string, number> {
    return new Map(
      rows.map((r) => [
        r.kind,
        (this.#s.task_count_running_of_kind.get({ kind: r.kind }) as { n: number }).n,
      ]),
    );
  }

  /**
   * How long until the earliest queued task of `kinds` (default: every kind) is due, in ms by the
   * store's clock: 0 when one is due now, null when none is queued. A kind held back by its
   * limits counts from when it may start one again (its rate window's end), or not at all while
   * its concurrency is full (a finish frees it).
   */
  nextDueIn(kinds?: readonly string[]): number | null {
    if (kinds !== undefined) validate.checkKinds(kinds);
    return this.#guard("nextDueIn", () => {
      const now = this.#now();
      const serve = kinds ?? (this.#s.task_queued_kinds.all() as { kind: string }[]).map((r) => r.kind);
      const due: [string, number][] = [];
      for (const kind of serve) {
        const row = this.#s.task_next_due.get({ kind, waiting_at: FLOW_WAITING_AT }) as {
          due: number | null;
        };
        if (row.due !== null) due.push([kind, row.due]);
      }
      const limits = new Map(this.kindLimits().map((l) => [l.kind, l]));
      const at = earliestStart(due, limits);
      return at === null ? null : Math.max(0, at - now);
    });
  }

  /** See TaskStoreDriver.setKindLimits. */
  setKindLimits(kind: string, limits: T.KindLimits | null): void {
    validate.checkKind(kind);
    if (limits !== null) checkKindLimits(limits);
    this.#guard("set kind limits", () => {
      if (limits === null) {
        this.#s.kind_limit_remove.run({ kind });
        this.#s.kind_limit_clear.run({ kind }); // a paused kind keeps its row, and its pause
      } else this.#s.kind_limit_put.run({ ...kindLimitParams(kind, limits), now: this.#now() });
    });
  }

  /** See TaskStoreDriver.setKindPaused. */
  setKindPaused(kind: string, paused: boolean): boolean {
    validate.checkKind(kind);
    return this.#guard(paused ? "pause a kind" : "resume a kind", () =>
      this.transaction(() => {
        if (paused) {
          const before = this.#s.kind_paused_at.get({ kind }) as { paused_at: number | null } | undefined;
          this.#s.kind_pause.run({ kind, now: this.#now() });
          return before?.paused_at == null;
        }
        const changed = this.#s.kind_resume.run({ kind }).changes > 0;
        this.#s.kind_resume_gone.run({ kind });
        return changed;
      }),
    );
  }

  /** See TaskStoreDriver.setBreaker. */
  setBreaker(kind: string, options: BreakerOptions | null): void {
    validate.checkKind(kind);
    const params = options === null ? null : breakerParams(options);
    this.#guard("set a breaker", () =>
      this.transaction(() => {
        if (params === null) {
          this.#s.kind_breaker_remove.run({ kind });
          this.#s.kind_resume_gone.run({ kind }); // the row goes when it held nothing else
        } else this.#s.kind_breaker_put.run({ kind, ...params, now: this.#now() });
      }),
    );
  }

  /** See TaskStoreDriver.resetBreaker. */
  resetBreaker(kind: string): boolean {
    validate.checkKind(kind);
    return this.#guard(
      "reset a breaker",
      () => this.#s.kind_breaker_close.run({ kind, now: this.#now(), probe_seq: null }).changes > 0,
    );
  }

  /** See TaskStoreDriver.kindLimits. */
  kindLimits(): KindLimitState[] {
    return this.#guard("list kind limits", () => {
      const rows = this.#s.kind_limit_list.all() as KindLimitRow[];
      const running = this.#runningOf(rows);
      const now = this.#now();
      return rows.map((r) => toKindLimitState(r, running.get(r.kind) ?? 0, now));
    });
  }

  #reclaimExpired(): number {
    return this.#reclaim(this.#now(), null);
  }

  /** task_reclaim for `owner` (null: expired leases), with what it ends kept and released. */
  #reclaim(now: number, owner: string | null): number {
    this.#s.dead_letter_insert_abandoned.run({ now, owner });
    this.#s.task_attempt_insert_lost.run({ now, owner });
    const ended = this.#s.task_reclaim.all({ now, owner }) as EndedRow[];
    for (const row of ended) releaseChildren(this.#s, row, now);
    return ended.length;
  }

  /**
   * Puts back to `queued` the running tasks whose owner is gone: a process on this host that no
   * longer exists, or any owner whose lease has expired. Returns how many.
   */
  recover(): number {
    return this.transaction(() => {
      let recovered = this.#reclaimExpired();
      const owners = (this.#s.task_running_owners.all() as { lease_owner: string }[]).map(
        (r) => r.lease_owner,
      );
      for (const owner of deadLocalOwners(owners, this.owner)) {
        recovered += this.#reclaim(this.#now(), owner);
      }
      return recovered;
    });
  }

  /**
   * Cancels a task: a queued one becomes `cancelled` at once (version-guarded, in one
   * transaction with the read), a running one gets `cancel_requested_at` (its worker ends it
   * with cancelRunning), a finished one is left alone. An unknown seq is ERR_NOT_FOUND.
   */
  cancel(seq: number): T.CancelOutcome {
    return this.transaction(() => {
      const row = this.#s.task_get.get({ seq }) as records.Row | undefined;
      if (!row) throw new StoreError("ERR_NOT_FOUND", `cancel: no task with seq ${seq}`);
      const now = this.#now();
      const guard = { now, seq, version: row.version };
      if (row.status === "queued") {
        const after = this.#s.task_cancel_queued.get(guard) as records.Row;
        releaseChildren(this.#s, after, now);
        return { outcome: "cancelled", record: records.toRecord(after) };
      }
      if (row.status === "running") {
        const after = this.#s.task_request_cancel.get(guard) as records.Row;
        return { outcome: "requested", record: records.toRecord(after) };
      }
      return { outcome: "finished", record: records.toRecord(row) };
    });
  }

  /** Which of these running tasks have a cancel requested (a worker's heartbeat asks). */
  cancelRequested(seqs: readonly number[]): number[] {
    if (seqs.length === 0) return [];
    return this.#guard("cancel requested", () =>
      (this.#s.task_list_cancel_requested.all({ seqs: JSON.stringify(seqs) }) as { seq: number }[]).map(
        (r) => r.seq,
      ),
    );
  }

  /** running → cancelled (the worker ends a task whose cancel was requested); clears the lease. */
  cancelRunning(seq: number, version: number): number {
    return this.transaction(() => {
      const now = this.#now();
      this.#attemptEnded("cancelled", seq, version, now, {
        errorClass: "cancelled",
        message: "the task was cancelled while it ran",
      });
      return this.#ending("running → cancelled", seq, version, now, () =>
        this.#s.task_cancel_running.get({ now, seq, version }),
      );
    });
  }

  /** Extends the lease of every task this owner runs. Returns how many. */
  renewLeases(): number {
    return this.#guard(
      "renew leases",
      () =>
        this.#s.task_renew_leases.run({ lease_expires_at: this.#now() + this.leaseMs, owner: this.owner })
          .changes,
    );
  }

  /** Renews leases every leaseMs/3 until close (the timer does not keep the process alive). */
  startHeartbeat(): void {
    if (!this.#closed) this.#heartbeat ??= startHeartbeat(this.leaseMs, () => this.renewLeases());
  }

  get(seq: number): T.TaskRecord | undefined {
    return this.#guard("get", () => {
      const row = this.#s.task_get.get({ seq }) as records.Row | undefined;
      return row && records.toRecord(row);
    });
  }

  /** The task of this kind holding this idempotency key. */
  getByKey(kind: string, key: string): T.TaskRecord | undefined {
    return this.#guard("get by key", () => {
      const row = this.#s.task_get_by_key.get({ kind, idempotency_key: key }) as records.Row | undefined;
      return row && records.toRecord(row);
    });
  }

  /** Records with this task id (ids need not be unique across idempotency keys). */
  getById(id: string): T.TaskRecord[] {
    return this.#guard("get by id", () =>
      (this.#s.task_list_by_id.all({ id }) as records.Row[]).map(records.toRecord),
    );
  }

  /**
   * Records a task that never became one (it failed validation) as a dead letter, so a bad line
   * in a good file is kept with its reason. Returns the dead letter's seq.
   */
  recordInvalid(taskId: string, payload: unknown, failure: T.TaskFailure): number {
    const json = validate.invalidPayload(payload);
    return this.#guard("record validate.invalid task", () =>
      Number(
        this.#s.dead_letter_insert_invalid.run({
          task_id: String(taskId).slice(0, validate.MAX_ID_LENGTH),
          payload: json,
          error_class: failure.errorClass,
          error_message: failure.message,
          now: this.#now(),
        }).lastInsertRowid,
      ),
    );
  }

  /**
   * See TaskStoreDriver.redriveTasks: each of these tasks that is failed goes back to queued
   * (attempts reset, ranked by its priority from now) and its open dead letters are marked
   * re-driven, in one transaction; the others are skipped. Returns how many.
   */
  redriveTasks(taskSeqs: readonly number[]): number {
    validate.checkTaskSeqs(taskSeqs);
    return this.transaction(() => {
      const now = this.#now();
      let count = 0;
      for (const seq of taskSeqs) {
        if (this.#s.task_redrive.run({ now, seq }).changes === 0) continue;
        this.#s.dead_letter_mark_redriven.run({ now, task_seq: seq });
        count++;
      }
      return count;
    });
  }

  /** Tasks that succeeded at or after `since` (epoch ms): throughput over an interval. */
  succeededSince(since: number): number {
    return this.#guard(
      "count succeeded",
      () => (this.#s.task_count_succeeded_since.get({ since }) as { n: number }).n,
    );
  }

  /**
   * See TaskStoreDriver.statusCounts: running, succeeded, failed and cancelled counted by kind in
   * one statement (task_count_by_kind_capped); queued kind by kind (a skip scan of tasks_queued),
   * each kind's due and later ranges of tasks_due counted within what the kinds before it left of
   * the cap, and its earliest run time (task_next_due) for the longest wait.
   */
  statusCounts(cap: number): T.StatusCounts {
    validate.checkCap(cap);
    return this.#guard("status counts", () => {
      const now = this.#now();
      const rows = this.#s.task_count_by_kind_capped.all({ cap }) as records.StatusCountRow[];
      let dueLeft = cap;
      let laterLeft = cap;
      let oldestDue: number | null = null;
      for (const { kind } of this.#s.task_queued_kinds.all() as { kind: string }[]) {
        const first = (
          this.#s.task_next_due.get({ kind, waiting_at: FLOW_WAITING_AT }) as { due: number | null }
        ).due;
        if (first !== null && first <= now && (oldestDue === null || first < oldestDue)) oldestDue = first;
        const { due, later } = this.#s.task_count_queued_of_kind.get({
          kind,
          now,
          due_cap: dueLeft,
          later_cap: laterLeft,
          waiting_at: FLOW_WAITING_AT,
        }) as { due: number; later: number };
        dueLeft -= due;
        laterLeft -= later;
        rows.push({ status: "queued", kind, n: due }, { status: "scheduled", kind, n: later });
      }
      const range = this.#s.task_seq_range.get() as { lo: number | null; hi: number | null };
      return records.toStatusCounts(cap, rows, {
        now,
        totalEstimate: range.lo === null || range.hi === null ? 0 : range.hi - range.lo + 1,
        deadLetters: (this.#s.dead_letter_count_open_capped.get({ cap }) as { n: number }).n,
        oldestDue,
      });
    });
  }

  /** See TaskStoreDriver.recentFinished. */
  recentFinished(sinceMs: number, sampleLimit: number): T.RecentFinished {
    validate.checkRecentFinished(sinceMs, sampleLimit);
    return this.#guard("recent finished", () => {
      const since = sinceMs;
      const samples = this.#s.task_list_succeeded_since.all({ since, limit: sampleLimit });
      return {
        now: this.#now(),
        succeeded: (this.#s.task_count_succeeded_since.get({ since }) as { n: number }).n,
        failed: (this.#s.dead_letter_count_since.get({ since }) as { n: number }).n,
        samples: (samples as records.FinishedRow[]).map(records.toFinishedSample),
      };
    });
  }

  /** See TaskStoreDriver.finishedHistory: bucket by bucket, oldest first. */
  finishedHistory(query: T.FinishedHistoryQuery): T.FinishedHistory {
    const q = validate.checkFinishedHistoryQuery(query);
    return this.#guard("finished history", () => {
      const now = this.#now();
      const buckets: T.FinishedBucket[] = [];
      for (let i = 0; i < q.buckets; i++) {
        const lo = now - (q.buckets - i) * q.bucketMs;
        const span = { lo, hi: lo + q.bucketMs };
        const ok = this.#s.task_count_succeeded_between.get({ ...span, cap: q.countCap }) as Counted;
        const failed = this.#s.dead_letter_count_between.get({ ...span, cap: q.countCap }) as Counted;
        const samples =
          q.sampleLimit === 0 || ok.n === 0
            ? []
            : this.#s.task_list_succeeded_between.all({ ...span, limit: q.sampleLimit });
        const row = {
          start: lo,
          succeeded: ok.n,
          succeeded_last: ok.last,
          failed: failed.n,
          failed_last: failed.last,
          samples: samples as records.FinishedRow[],
        };
        buckets.push(records.toFinishedBucket(row, q.countCap));
      }
      return { now, bucketMs: q.bucketMs, buckets };
    });
  }

  /**
   * See TaskStoreDriver.listTasks: a filter's set read whole when it is small (task_page_of_set,
   * see task-list.ts), else a walk by seq along the primary key or the status's own index.
   */
  listTasks(query: T.TaskListQuery): T.TaskRecord[] {
    const q = validate.checkTaskListQuery(query);
    return this.#guard("list tasks", () => {
      for (const set of candidateSets(q)) {
        const page = this.#s.task_page_of_set.get({ ...q, set, cap: SMALL_SET }) as {
          set_size: number;
          seqs: string;
        };
        if (page.set_size < SMALL_SET)
          return (this.#s.task_list_by_seqs.all({ seqs: page.seqs }) as records.Row[]).map(records.toRecord);
      }
      const walk = walkOf(q);
      const rows =
        walk === "grouped"
          ? this.#s.task_page_grouped.all({
              ...q,
              group_key: q.group as string,
              correlation_id: q.correlationId,
            })
          : walk === "correlated"
            ? this.#s.task_page_correlated.all({ ...q, correlation_id: q.correlationId as string })
            : walk === "tagged"
              ? this.#s.task_page_tagged.all({ ...q, tag: q.tag as string })
              : walk === "failed"
                ? this.#s.task_page_failed.all(q)
                : walk === "cancelled"
                  ? this.#s.task_page_cancelled.all(q)
                  : this.#s.task_page.all(q);
      return (rows as records.Row[]).map(records.toRecord);
    });
  }

  /** See TaskStoreDriver.kinds: a loose index scan of the (kind, idempotency_key) index. */
  kinds(): string[] {
    return this.#guard("list kinds", () =>
      (this.#s.task_kinds.all() as { kind: string }[]).map((r) => r.kind).sort(),
    );
  }

  /** See TaskStoreDriver.listDeadLetters. */
  listDeadLetters(query: T.DeadLetterListQuery): T.DeadLetter[] {
    const { before, limit, includeRedriven, kind } = validate.checkDeadLetterListQuery(query);
    return this.#guard("list dead letters", () => {
      const rows =
        kind === null
          ? (includeRedriven ? this.#s.dead_letter_page_all : this.#s.dead_letter_page_open).all({
              before,
              limit,
            })
          : (includeRedriven
              ? this.#s.dead_letter_page_all_of_kind
              : this.#s.dead_letter_page_open_of_kind
            ).all({ before, limit, kind });
      return (rows as records.DeadLetterRow[]).map(records.toDeadLetter);
    });
  }

  /** Owners holding running tasks now, with their latest lease expiry. */
  leaseHolders(): LeaseHolder[] {
    return this.#guard("list lease holders", () =>
      (this.#s.lease_holders.all() as { owner: string; running: number; expires: number }[]).map((r) => ({
        owner: r.owner,
        running: r.running,
        leaseExpiresAt: r.expires,
      })),
    );
  }

  /** Retention: see TaskStoreDriver.prune. */
  prune(options: { readonly olderThanMs: number; readonly limit?: number }): number {
    const limit = validate.checkLimit(options.limit ?? 500);
    const olderThanMs = validate.checkOlderThan(options.olderThanMs);
    return this.transaction(() => {
      const cutoff = this.#now() - olderThanMs;
      this.#s.task_tags_prune.run({ cutoff, limit });
      this.#s.task_edges_prune.run({ cutoff, limit });
      this.#s.dead_letter_prune.run({ cutoff, limit });
      this.#s.task_attempt_prune.run({ cutoff, limit });
      this.#s.task_log_prune.run({ cutoff, limit });
      return this.#s.task_prune.run({ cutoff, limit }).changes;
    });
  }

  /** See TaskStoreDriver.purgeDeadLetters. */
  purgeDeadLetters(olderThanMs: number): number {
    validate.checkOlderThan(olderThanMs);
    return this.transaction(() => {
      const cutoff = this.#now() - olderThanMs;
      const seqs = (this.#s.dead_letter_old_tasks.all({ cutoff }) as { task_seq: number }[]).map(
        (r) => r.task_seq,
      );
      const purged = this.#s.dead_letter_purge.run({ cutoff }).changes;
      for (const seq of seqs) {
        this.#s.task_tags_purge.run({ seq });
        this.#s.task_purge_failed.run({ seq });
        this.#s.task_attempt_purge.run({ seq });
        this.#s.task_log_purge.run({ seq });
        this.#s.task_edges_purge.run({ seq });
      }
      return purged;
    });
  }

  /** See TaskStoreDriver.tryRunMaintenance. */
  tryRunMaintenance(name: string, everyMs: number): boolean {
    validate.checkMaintenance(name, everyMs);
    return this.#guard(
      "try run maintenance",
      () =>
        this.#s.maintenance_try_run.get({ name, owner: this.owner, now: this.#now(), every_ms: everyMs }) !==
        undefined,
    );
  }

  /** See TaskStoreDriver.reportWorker. */
  reportWorker(info: T.WorkerInfo): void {
    const json = records.workerInfoJson(info);
    this.#guard("report worker", () => {
      const now = this.#now();
      this.#s.worker_report.run({ owner: this.owner, now, info: json });
      this.#s.worker_forget_dead.run({ now, stale_ms: WORKER_STALE_MS });
    });
  }

  /** See TaskStoreDriver.removeWorker. */
  removeWorker(): void {
    this.#guard("remove worker", () => this.#s.worker_remove.run({ owner: this.owner }));
  }

  /** See TaskStoreDriver.workers. */
  workers(): T.WorkerRecord[] {
    return this.#guard("list workers", () =>
      (this.#s.worker_list.all() as records.WorkerRow[]).map(records.toWorker),
    );
  }

  /** See TaskStoreDriver.now. */
  now(): number {
    return this.#now();
  }

  /** See TaskStoreDriver.putSchedule. */
  putSchedule(input: T.ScheduleInput): T.ScheduleRecord {
    const json = validate.checkSchedule(input);
    return this.#guard("put schedule", () =>
      records.toSchedule(
        this.#s.schedule_put.get({ ...scheduleParams(input, json), now: this.#now() }) as records.ScheduleRow,
      ),
    );
  }

  /** See TaskStoreDriver.removeSchedule. */
  removeSchedule(name: string): boolean {
    return this.#guard("remove schedule", () => this.#s.schedule_remove.run({ name }).changes > 0);
  }

  /** See TaskStoreDriver.getSchedule. */
  getSchedule(name: string): T.ScheduleRecord | undefined {
    return this.#guard("get schedule", () => {
      const row = this.#s.schedule_get.get({ name }) as records.ScheduleRow | undefined;
      return row && records.toSchedule(row);
    });
  }

  /** See TaskStoreDriver.schedules. */
  schedules(): T.ScheduleRecord[] {
    return this.#guard("list schedules", () =>
      (this.#s.schedule_list.all() as records.ScheduleRow[]).map(records.toSchedule),
    );
  }

  /** See TaskStoreDriver.setSchedulePaused. */
  setSchedulePaused(name: string, paused: boolean, nextRunAt?: number): T.ScheduleRecord | undefined {
    return this.#guard("pause schedule", () => {
      const row = this.#s.schedule_set_paused.get({
        name,
        paused: paused ? 1 : 0,
        next_run_at: nextRunAt ?? null,
        now: this.#now(),
      }) as records.ScheduleRow | undefined;
      return row && records.toSchedule(row);
    });
  }

  /** See TaskStoreDriver.dueSchedules. */
  dueSchedules(limit: number): { now: number; due: T.ScheduleRecord[] } {
    validate.checkLimit(limit);
    return this.#guard("list due schedules", () => {
      const now = this.#now();
      const rows = this.#s.schedule_list_due.all({ now, limit }) as records.ScheduleRow[];
      return { now, due: rows.map(records.toSchedule) };
    });
  }

  /** See TaskStoreDriver.fireSchedule: the compare-and-set and the claim in one transaction. */
  fireSchedule(firing: T.ScheduleFiring): { advanced: boolean; created: boolean } {
    // a task the claim refuses rolls the compare-and-set back with it
    return this.transaction(() => {
      const advanced =
        this.#s.schedule_advance.run({
          name: firing.name,
          expected: firing.expected,
          next_run_at: firing.nextRunAt,
          fired_at: firing.firedAt,
          now: this.#now(),
        }).changes > 0;
      if (!advanced) return { advanced, created: false };
      return { advanced, created: this.claim({ ...firing.task, runAt: firing.firedAt }).created };
    });
  }

  /** Stops the heartbeat and closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.#closed) return;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#closed = true;
    this.#checkpointer?.stop(); // first, so this connection is the last and removes the WAL
    this.#db.close();
  }

  get closed(): boolean {
    return this.#closed;
  }
}
