import type Database from "better-sqlite3";
import { BackgroundCheckpointer } from "./checkpointer.js";
import type { LeaseHolder } from "./driver.js";
import { fromSqlite, StaleTransitionError, StoreError } from "./errors.js";
import { openDatabase } from "./open-database.js";
import { isDeadLocalOwner, newOwnerId } from "./owner.js";
import { byNextRun, type DeadLetterRow, type Row, toDeadLetter, toRecord } from "./record.js";
import type {
  ClaimInput,
  ClaimResult,
  DeadLetter,
  Started,
  StoreStats,
  TaskFailure,
  TaskRecord,
  TaskResultData,
  TaskStatus,
} from "./types.js";
import {
  checkAttempts,
  checkClaim,
  checkLeaseMs,
  checkLimit,
  invalid,
  invalidPayload,
  MAX_ID_LENGTH,
} from "./validate.js";

/** Options of a task store. */
export interface TaskStoreOptions {
  /** SQLite file (created when missing), or `:memory:` for tests. */
  readonly path: string;
  /**
   * How long a statement waits for another process's lock before failing with ERR_STORE_BUSY.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Attempts before a task is dead-lettered, when the task does not say.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * How long a running task stays leased to its owner without a heartbeat, in ms.
   * @default 30000
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
 * The SQLite task store: claim and dedupe by idempotency key, a version-guarded state machine
 * (queued → running → succeeded | queued (retry) | failed → dead letter), leases, crash recovery
 * and the durable queue. Every call is synchronous (better-sqlite3); group calls into one
 * transaction with `transaction(fn)` or through `BatchedTaskStore`.
 */
export class TaskStore {
  readonly path: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  /** Tasks put back to `queued` when the store opened (left running by a dead process). */
  readonly recoveredOnOpen: number;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #s: ReturnType<typeof prepare>;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #checkpointer: BackgroundCheckpointer | undefined;
  #closed = false;

  constructor(options: TaskStoreOptions) {
    if (typeof options.path !== "string" || options.path.length === 0)
      invalid("path must be a file path or :memory:");
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0) invalid(`busyTimeoutMs must be an integer >= 0, got ${busy}`);
    this.maxAttempts = checkAttempts("maxAttempts", options.maxAttempts ?? 3);
    this.leaseMs = checkLeaseMs(options.leaseMs ?? 30_000);
    this.path = options.path;
    this.owner = options.owner ?? newOwnerId();
    this.#now = options.now ?? Date.now;
    const checkpoint = options.checkpoint ?? "auto";
    if (checkpoint !== "auto" && checkpoint !== "background")
      invalid(`checkpoint must be "auto" or "background", got ${String(checkpoint)}`);
    this.#db = openDatabase(options.path, busy);
    if (checkpoint === "background" && options.path !== ":memory:") {
      this.#db.pragma("wal_autocheckpoint = 0");
      this.#checkpointer = new BackgroundCheckpointer(options.path);
    }
    this.#s = prepare(this.#db);
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
   * idempotency key exists: one atomic INSERT ... ON CONFLICT DO NOTHING RETURNING. Of two
   * processes claiming one key, one wins.
   */
  claim(input: ClaimInput): ClaimResult {
    const { payload, maxAttempts } = checkClaim(input, this.maxAttempts);
    return this.#guard("claim", () => {
      const now = this.#now();
      // id, key, type, payload, max_attempts, created_at, updated_at, next_run_at
      const values = [input.id, input.idempotencyKey, input.type, payload, maxAttempts, now, now, now];
      const row = (
        input.start === true
          ? this.#s.insertRunning.get(...values, now, this.owner, now + this.leaseMs) // + started_at, lease
          : this.#s.insert.get(...values)
      ) as { seq: number; version: number; status: "queued" | "running"; attempts: number } | undefined;
      if (row) return { created: true, ...row };
      return { created: false, record: toRecord(this.#s.byKey.get(input.idempotencyKey) as Row) };
    });
  }

  /** Same as `claim`: puts a task on the durable queue (for `taskq submit`). */
  enqueue(input: ClaimInput): ClaimResult {
    return this.claim(input);
  }

  /** Runs a version-guarded UPDATE; none changed means a stale transition. Returns the new version. */
  #transition(what: string, seq: number, version: number, run: () => Database.RunResult): number {
    return this.#guard(what, () => {
      if (run().changes === 0) throw new StaleTransitionError(what, seq, version);
      return version + 1;
    });
  }

  /** queued → running: counts an attempt and leases the task to this owner. */
  start(seq: number, version: number): Started {
    return this.#guard("start", () => {
      const now = this.#now();
      const row = this.#s.start.get(now, now, this.owner, now + this.leaseMs, seq, version) as
        | { version: number; attempts: number }
        | undefined;
      if (!row) throw new StaleTransitionError("queued → running", seq, version);
      return { seq, version: row.version, attempts: row.attempts };
    });
  }

  /** running → succeeded, with what the task produced. Returns the new version. */
  succeed(seq: number, version: number, data: TaskResultData = {}): number {
    const now = this.#now();
    return this.#transition("running → succeeded", seq, version, () =>
      this.#s.succeed.run(
        data.outputKey ?? null,
        data.etag ?? null,
        data.result ?? null,
        now,
        now,
        seq,
        version,
      ),
    );
  }

  /** running → queued after a transient failure: runs again no earlier than `delayMs` from now. */
  retry(seq: number, version: number, failure: TaskFailure, delayMs: number): number {
    const now = this.#now();
    return this.#transition("running → queued (retry)", seq, version, () =>
      this.#s.retry.run(now + Math.max(0, delayMs), failure.errorClass, failure.message, now, seq, version),
    );
  }

  /** running → failed, and a dead letter with the last error. Returns the new version. */
  fail(seq: number, version: number, failure: TaskFailure): number {
    return this.transaction(() => {
      const now = this.#now();
      const next = this.#transition("running → failed", seq, version, () =>
        this.#s.fail.run(failure.errorClass, failure.message, now, now, seq, version),
      );
      this.#s.deadLetter.run(now, seq);
      return next;
    });
  }

  /** running → queued without recording a failure (graceful shutdown hands the task back; the attempt still counts). */
  release(seq: number, version: number): number {
    const now = this.#now();
    return this.#transition("running → queued (released)", seq, version, () =>
      this.#s.release.run(now, seq, version),
    );
  }

  /**
   * Takes up to `limit` due tasks for this owner: queued ones whose next run time has come,
   * ordered by next run time then creation; first reclaims tasks whose lease has expired.
   */
  takeNext(limit: number): TaskRecord[] {
    checkLimit(limit);
    return this.transaction(() => {
      this.#reclaimExpired();
      const now = this.#now();
      const rows = this.#s.take.all(now, now, this.owner, now + this.leaseMs, now, limit) as Row[];
      return rows.map(toRecord).sort(byNextRun);
    });
  }

  #reclaimExpired(): number {
    return this.#s.reclaimExpired.run(this.#now(), this.#now()).changes;
  }

  /**
   * Puts back to `queued` the running tasks whose owner is gone: a process on this host that no
   * longer exists, or any owner whose lease has expired. Returns how many.
   */
  recover(): number {
    return this.transaction(() => {
      let recovered = this.#reclaimExpired();
      const owners = this.#s.runningOwners.all() as { lease_owner: string }[];
      for (const { lease_owner } of owners) {
        if (lease_owner !== this.owner && isDeadLocalOwner(lease_owner)) {
          recovered += this.#s.releaseOwner.run(this.#now(), lease_owner).changes;
        }
      }
      return recovered;
    });
  }

  /** Extends the lease of every task this owner runs. Returns how many. */
  renewLeases(): number {
    return this.#guard(
      "renew leases",
      () => this.#s.renew.run(this.#now() + this.leaseMs, this.owner).changes,
    );
  }

  /** Renews leases every leaseMs/3 until close (the timer does not keep the process alive). */
  startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(
      () => {
        try {
          this.renewLeases();
        } catch {
          // A busy database skips one beat; the next one renews.
        }
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    this.#heartbeat.unref();
  }

  get(seq: number): TaskRecord | undefined {
    return this.#guard("get", () => {
      const row = this.#s.bySeq.get(seq) as Row | undefined;
      return row && toRecord(row);
    });
  }

  getByKey(key: string): TaskRecord | undefined {
    return this.#guard("get by key", () => {
      const row = this.#s.byKey.get(key) as Row | undefined;
      return row && toRecord(row);
    });
  }

  /** Records with this task id (ids need not be unique across idempotency keys). */
  getById(id: string): TaskRecord[] {
    return this.#guard("get by id", () => (this.#s.byId.all(id) as Row[]).map(toRecord));
  }

  /** Every task record, in creation order (for checks and exports; not for hot paths). */
  all(): TaskRecord[] {
    return this.#guard("list tasks", () => (this.#s.all.all() as Row[]).map(toRecord));
  }

  /**
   * Records a task that never became one (it failed validation) as a dead letter, so a bad line
   * in a good file is kept with its reason. Returns the dead letter's seq.
   */
  recordInvalid(taskId: string, payload: unknown, failure: TaskFailure): number {
    const json = invalidPayload(payload);
    return this.#guard("record invalid task", () =>
      Number(
        this.#s.invalid.run(
          String(taskId).slice(0, MAX_ID_LENGTH),
          json,
          failure.errorClass,
          failure.message,
          this.#now(),
        ).lastInsertRowid,
      ),
    );
  }

  /** Dead letters, oldest first; re-driven ones only when asked. */
  deadLetters(options: { includeRedriven?: boolean } = {}): DeadLetter[] {
    return this.#guard("list dead letters", () => {
      const rows = (
        options.includeRedriven ? this.#s.deadAll.all() : this.#s.deadOpen.all()
      ) as DeadLetterRow[];
      return rows.map(toDeadLetter);
    });
  }

  /**
   * Re-drives failed tasks: back to `queued` with attempts reset; their dead letters stay, marked
   * re-driven (history kept). `taskId` undefined re-drives all. Returns how many tasks.
   */
  redrive(taskId?: string): number {
    return this.transaction(() => {
      const now = this.#now();
      const letters = this.deadLetters().filter(
        (d) => d.taskSeq !== null && (taskId === undefined || d.taskId === taskId),
      );
      let count = 0;
      for (const letter of letters) {
        count += this.#s.redrive.run(now, now, letter.taskSeq).changes;
        this.#s.markRedriven.run(now, letter.seq);
      }
      return count;
    });
  }

  stats(): StoreStats {
    return this.#guard("stats", () => {
      const counts: Record<TaskStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
      for (const row of this.#s.counts.all() as { status: TaskStatus; n: number }[])
        counts[row.status] = row.n;
      const oldest = (this.#s.oldestQueued.get() as { t: number | null }).t;
      return {
        ...counts,
        total: counts.queued + counts.running + counts.succeeded + counts.failed,
        deadLetters: (this.#s.deadCount.get() as { n: number }).n,
        oldestQueuedAgeMs: oldest === null ? null : Math.max(0, this.#now() - oldest),
      };
    });
  }

  /** Tasks that succeeded at or after `since` (epoch ms): throughput over an interval. */
  succeededSince(since: number): number {
    return this.#guard("count succeeded", () => (this.#s.succeededSince.get(since) as { n: number }).n);
  }

  /** Tasks that succeeded in the last `intervalMs`, by this store's clock. */
  succeededWithin(intervalMs: number): number {
    return this.succeededSince(this.#now() - intervalMs);
  }

  /** Owners holding running tasks now, with their latest lease expiry. */
  leaseHolders(): LeaseHolder[] {
    return this.#guard("list lease holders", () =>
      (this.#s.leaseHolders.all() as { owner: string; running: number; expires: number }[]).map((r) => ({
        owner: r.owner,
        running: r.running,
        leaseExpiresAt: r.expires,
      })),
    );
  }

  /** Retention: see TaskStoreDriver.prune. */
  prune(options: { readonly olderThanMs: number; readonly limit?: number }): number {
    const limit = checkLimit(options.limit ?? 500);
    if (!(options.olderThanMs >= 0)) invalid(`olderThanMs must be >= 0, got ${options.olderThanMs}`);
    return this.transaction(() => {
      const cutoff = this.#now() - options.olderThanMs;
      this.#s.pruneLetters.run(cutoff, limit);
      return this.#s.pruneTasks.run(cutoff, limit).changes;
    });
  }

  /** See TaskStoreDriver.purgeDeadLetters. */
  purgeDeadLetters(olderThanMs: number): number {
    if (!(olderThanMs >= 0)) invalid(`olderThanMs must be >= 0, got ${olderThanMs}`);
    return this.transaction(() => {
      const cutoff = this.#now() - olderThanMs;
      const seqs = (this.#s.oldLetterTasks.all(cutoff) as { task_seq: number }[]).map((r) => r.task_seq);
      const purged = this.#s.purgeLetters.run(cutoff).changes;
      for (const seq of seqs) this.#s.purgeFailedTask.run(seq, seq);
      return purged;
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

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO tasks (id, idempotency_key, type, payload, status, attempts, max_attempts, created_at, updated_at, next_run_at, version)
       VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, 0)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING seq, version, status, attempts`,
    ),
    insertRunning: db.prepare(
      `INSERT INTO tasks (id, idempotency_key, type, payload, status, attempts, max_attempts, created_at, updated_at, next_run_at,
         started_at, lease_owner, lease_expires_at, version)
       VALUES (?, ?, ?, ?, 'running', 1, ?, ?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING seq, version, status, attempts`,
    ),
    bySeq: db.prepare("SELECT * FROM tasks WHERE seq = ?"),
    byKey: db.prepare("SELECT * FROM tasks WHERE idempotency_key = ?"),
    byId: db.prepare("SELECT * FROM tasks WHERE id = ? ORDER BY seq"),
    all: db.prepare("SELECT * FROM tasks ORDER BY seq"),
    start: db.prepare(
      `UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = ?, updated_at = ?,
         lease_owner = ?, lease_expires_at = ?
       WHERE seq = ? AND version = ? AND status = 'queued'
       RETURNING version, attempts`,
    ),
    succeed: db.prepare(
      `UPDATE tasks SET status = 'succeeded', output_key = ?, etag = ?, result = ?, finished_at = ?, updated_at = ?,
         error_class = NULL, error_message = NULL, lease_owner = NULL, lease_expires_at = NULL, version = version + 1
       WHERE seq = ? AND version = ? AND status = 'running'`,
    ),
    retry: db.prepare(
      `UPDATE tasks SET status = 'queued', next_run_at = ?, error_class = ?, error_message = ?, updated_at = ?,
         lease_owner = NULL, lease_expires_at = NULL, version = version + 1
       WHERE seq = ? AND version = ? AND status = 'running'`,
    ),
    fail: db.prepare(
      `UPDATE tasks SET status = 'failed', error_class = ?, error_message = ?, finished_at = ?, updated_at = ?,
         lease_owner = NULL, lease_expires_at = NULL, version = version + 1
       WHERE seq = ? AND version = ? AND status = 'running'`,
    ),
    deadLetter: db.prepare(
      `INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
       SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, ? FROM tasks WHERE seq = ?`,
    ),
    invalid: db.prepare(
      `INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
       VALUES (NULL, ?, NULL, ?, ?, ?, 0, ?)`,
    ),
    release: db.prepare(
      `UPDATE tasks SET status = 'queued', updated_at = ?, lease_owner = NULL,
         lease_expires_at = NULL, version = version + 1
       WHERE seq = ? AND version = ? AND status = 'running'`,
    ),
    take: db.prepare(
      `UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = ?, updated_at = ?,
         lease_owner = ?, lease_expires_at = ?
       WHERE seq IN (SELECT seq FROM tasks WHERE status = 'queued' AND next_run_at <= ? ORDER BY next_run_at, seq LIMIT ?)
       RETURNING *`,
    ),
    reclaimExpired: db.prepare(
      `UPDATE tasks SET status = 'queued', updated_at = ?, lease_owner = NULL, lease_expires_at = NULL, version = version + 1
       WHERE status = 'running' AND lease_expires_at < ?`,
    ),
    runningOwners: db.prepare(
      "SELECT DISTINCT lease_owner FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL",
    ),
    releaseOwner: db.prepare(
      `UPDATE tasks SET status = 'queued', updated_at = ?, lease_owner = NULL, lease_expires_at = NULL, version = version + 1
       WHERE status = 'running' AND lease_owner = ?`,
    ),
    renew: db.prepare("UPDATE tasks SET lease_expires_at = ? WHERE status = 'running' AND lease_owner = ?"),
    deadOpen: db.prepare("SELECT * FROM dead_letters WHERE redriven_at IS NULL ORDER BY seq"),
    deadAll: db.prepare("SELECT * FROM dead_letters ORDER BY seq"),
    deadCount: db.prepare("SELECT COUNT(*) AS n FROM dead_letters WHERE redriven_at IS NULL"),
    redrive: db.prepare(
      `UPDATE tasks SET status = 'queued', attempts = 0, next_run_at = ?, updated_at = ?, error_class = NULL,
         error_message = NULL, version = version + 1
       WHERE seq = ? AND status = 'failed'`,
    ),
    markRedriven: db.prepare("UPDATE dead_letters SET redriven_at = ? WHERE seq = ?"),
    // one count per status, each through its partial index (never a scan of the whole table)
    counts: db.prepare(
      `SELECT 'queued' AS status, COUNT(*) AS n FROM tasks WHERE status = 'queued'
       UNION ALL SELECT 'running', COUNT(*) FROM tasks WHERE status = 'running'
       UNION ALL SELECT 'succeeded', COUNT(*) FROM tasks WHERE status = 'succeeded'
       UNION ALL SELECT 'failed', COUNT(*) FROM tasks WHERE status = 'failed'`,
    ),
    oldestQueued: db.prepare("SELECT MIN(created_at) AS t FROM tasks WHERE status = 'queued'"),
    leaseHolders: db.prepare(
      `SELECT lease_owner AS owner, COUNT(*) AS running, MAX(lease_expires_at) AS expires FROM tasks
       WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner`,
    ),
    // the same batch in both statements (one transaction): the oldest succeeded tasks
    pruneLetters: db.prepare(
      `DELETE FROM dead_letters WHERE task_seq IN (
         SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < ? ORDER BY finished_at LIMIT ?)`,
    ),
    pruneTasks: db.prepare(
      `DELETE FROM tasks WHERE seq IN (
         SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < ? ORDER BY finished_at LIMIT ?)`,
    ),
    oldLetterTasks: db.prepare(
      "SELECT DISTINCT task_seq FROM dead_letters WHERE failed_at < ? AND task_seq IS NOT NULL",
    ),
    purgeLetters: db.prepare("DELETE FROM dead_letters WHERE failed_at < ?"),
    purgeFailedTask: db.prepare(
      `DELETE FROM tasks WHERE seq = ? AND status = 'failed'
         AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE task_seq = ?)`,
    ),
    succeededSince: db.prepare(
      "SELECT COUNT(*) AS n FROM tasks WHERE status = 'succeeded' AND finished_at >= ?",
    ),
  };
}
