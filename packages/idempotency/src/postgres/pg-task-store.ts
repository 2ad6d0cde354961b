import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { BatchCounters, LeaseHolder, TaskStoreDriver } from "../driver.js";
import { StaleTransitionError, StoreError } from "../errors.js";
import { isDeadLocalOwner, newOwnerId } from "../owner.js";
import { byNextRun, type DeadLetterRow, type Row, toDeadLetter, toRecord } from "../record.js";
import type {
  ClaimInput,
  ClaimResult,
  DeadLetter,
  Started,
  StoreStats,
  TaskFailure,
  TaskRecord,
  TaskResultData,
} from "../types.js";
import {
  type CheckedClaim,
  checkAttempts,
  checkClaim,
  checkLeaseMs,
  checkLimit,
  invalid,
  invalidPayload,
  MAX_ID_LENGTH,
} from "../validate.js";
import { fromPg, isTransient, redactUrl } from "./errors.js";
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from "./schema.js";
import { type StatementName, statements } from "./statements.js";

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
   * Connections in the pool: batches of different kinds go to the server at once over them.
   * @default 8
   */
  readonly poolSize?: number;
  /**
   * Attempts before a task is dead-lettered, when the task does not say.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * How long a running task stays leased without a heartbeat, in ms (judged by the database's clock).
   * @default 30000
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
   * Most calls of one kind in one statement.
   * @default 512
   */
  readonly maxBatch?: number;
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

type Kind = "claim" | "start" | "succeed" | "retry" | "fail" | "release";

interface Op<A> {
  readonly args: A;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

interface TransitionArgs {
  readonly seq: number;
  readonly version: number;
}

type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const BACKOFF_MAX_MS = 2000;

/** int8 (counts, seqs, epoch ms) as JS numbers: every value taskq stores is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as never,
};

/** What a transition leaves a task as, to recognise it when a retried batch finds it done already. */
const TARGET: Record<Exclude<Kind, "claim">, string> = {
  start: "running",
  succeed: "succeeded",
  retry: "queued",
  fail: "failed",
  release: "queued",
};

const WHAT: Record<Exclude<Kind, "claim">, string> = {
  start: "queued → running",
  succeed: "running → succeeded",
  retry: "running → queued (retry)",
  fail: "running → failed",
  release: "running → queued (released)",
};

/**
 * The PostgreSQL driver of the task store contract, for many managers on one database. Same
 * record, state machine and meaning as the SQLite driver; in addition:
 * - calls made in the same turn of the event loop go to the server together, one set-based
 *   statement per kind (`unnest` arrays), each its own transaction, kinds in parallel over the pool;
 * - `takeNext` uses `FOR UPDATE SKIP LOCKED`, so no two nodes take one task;
 * - leases are judged by the database's clock; a node that lost its lease is fenced by the
 *   version guard (its late transition is refused);
 * - idle managers wake on LISTEN/NOTIFY (`waitForWork`) when tasks are queued;
 * - a lost connection or a restarting server is retried with capped backoff for up to
 *   `reconnectTimeoutMs`; a batch whose commit may have happened is re-checked, not re-applied.
 */
export class PgTaskStore implements TaskStoreDriver {
  readonly kind = "postgres" as const;
  readonly location: string;
  readonly schema: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly maxBatch: number;
  readonly reconnectTimeoutMs: number;
  recoveredOnOpen = 0;
  readonly #pool: pg.Pool;
  readonly #config: pg.PoolConfig;
  readonly #sql: ReturnType<typeof statements>;
  readonly #now: (() => number) | undefined;
  readonly #channel: string;
  readonly #queues: { [K in Kind]: Op<unknown>[] } = {
    claim: [],
    start: [],
    succeed: [],
    retry: [],
    fail: [],
    release: [],
  };
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();
  #heartbeat: NodeJS.Timeout | undefined;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  #notified = false;
  #wakers = new Set<() => void>();
  #closed = false;
  /** Tasks this node runs (leased to it by an answer it received): the ones its heartbeat renews. */
  readonly #running = new Set<number>();
  #batches = 0;
  #operations = 0;
  #busyMs = 0;

  private constructor(options: PgTaskStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      invalid(`not a valid PostgreSQL URL: ${redactUrl(String(options.url))}`);
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
      invalid(`not a PostgreSQL URL (it must start with postgres://): ${redactUrl(options.url)}`);
    this.location = redactUrl(options.url);
    this.schema = options.schema ?? "taskq";
    if (!SCHEMA_NAME.test(this.schema))
      invalid(
        `schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(this.schema)}`,
      );
    const poolSize = options.poolSize ?? 8;
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000)
      invalid(`poolSize must be an integer from 1 to 1000, got ${poolSize}`);
    this.maxAttempts = checkAttempts("maxAttempts", options.maxAttempts ?? 3);
    this.leaseMs = checkLeaseMs(options.leaseMs ?? 30_000);
    this.maxBatch = options.maxBatch ?? 512;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      invalid(`maxBatch must be a positive integer, got ${this.maxBatch}`);
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 60_000;
    if (!(this.reconnectTimeoutMs >= 0))
      invalid(`reconnectTimeoutMs must be >= 0, got ${this.reconnectTimeoutMs}`);
    const connectTimeout = options.connectTimeoutMs ?? 5000;
    if (!Number.isInteger(connectTimeout) || connectTimeout < 1)
      invalid(`connectTimeoutMs must be a positive integer, got ${connectTimeout}`);
    this.owner = options.owner ?? newOwnerId();
    this.#now = options.now;
    this.#channel = `taskq_work_${this.schema}`;
    this.#sql = statements(`"${this.schema}"`);
    this.#config = {
      connectionString: options.url,
      max: poolSize,
      types,
      connectionTimeoutMillis: connectTimeout,
      application_name: "taskq",
    };
    this.#pool = new pg.Pool(this.#config);
    // An idle connection that dies (a server restart) must not crash the process: the next
    // query on the pool opens a new one, and a failed call is retried.
    this.#pool.on("error", () => undefined);
  }

  /** Connects, creates or migrates the schema (refusing one newer than this code), and recovers. */
  static async open(options: PgTaskStoreOptions): Promise<PgTaskStore> {
    const store = new PgTaskStore(options);
    try {
      await store.#migrate(options.create ?? true);
      if (options.recover !== false) store.recoveredOnOpen = await store.recover();
      return store;
    } catch (error) {
      await store.#pool.end().catch(() => undefined);
      throw fromPg(error, "cannot open task store", store.location);
    }
  }

  async #migrate(create: boolean): Promise<void> {
    const q = `"${this.schema}"`;
    const client = await this.#pool.connect();
    try {
      if (!create) {
        const found = await client.query("SELECT to_regclass($1) AS t", [`${q}.migrations`]);
        if (found.rows[0]?.t === null)
          throw new StoreError("ERR_NOT_FOUND", `no task store (schema ${this.schema}) at ${this.location}`);
      }
      await client.query("BEGIN");
      // one migrator at a time, whatever the number of nodes starting together
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`taskq:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${q}.migrations`);
      const current = Number(rows[0]?.v ?? 0);
      if (current > PG_SCHEMA_VERSION) {
        throw new StoreError(
          "ERR_SCHEMA_TOO_NEW",
          `task store at ${this.location} (schema ${this.schema}) has schema version ${current}, newer than this taskq understands (${PG_SCHEMA_VERSION}); upgrade taskq`,
        );
      }
      for (let version = current; version < PG_SCHEMA_VERSION; version++) {
        await client.query((PG_MIGRATIONS[version] as string).replaceAll("$S", q));
        await client.query(`INSERT INTO ${q}.migrations (version) VALUES ($1)`, [version + 1]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #clock(): number | null {
    return this.#now ? this.#now() : null;
  }

  /** Runs one statement by name, retrying a lost connection or a restarting server with capped backoff. */
  async #query<R extends object>(name: StatementName, values: unknown[], on: Queryable = this.#pool) {
    return this.#retrying(name, () =>
      on.query<R>({ name: `${this.schema}_${name}`, text: this.#sql[name], values }),
    );
  }

  async #retrying<T>(what: string, run: (attempt: number) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.reconnectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (this.#closed && attempt > 0)
        throw new StoreError("ERR_CLOSED", `${what}: the task store is closed`);
      try {
        return await run(attempt);
      } catch (error) {
        if (!isTransient(error) || performance.now() >= deadline) throw fromPg(error, what, this.location);
        await sleep(Math.min(BACKOFF_MAX_MS, 25 * 2 ** attempt));
      }
    }
  }

  #ensureOpen(what: string): void {
    if (this.#closed) throw new StoreError("ERR_CLOSED", `${what}: the task store is closed`);
  }

  // ---- batched calls --------------------------------------------------------------------------

  #enqueue<T>(kind: Kind, args: unknown): Promise<T> {
    if (this.#closed)
      return Promise.reject(new StoreError("ERR_CLOSED", `${kind}: the task store is closed`));
    return new Promise<T>((resolve, reject) => {
      this.#queues[kind].push({ args, resolve: resolve as (value: never) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    for (const kind of Object.keys(this.#queues) as Kind[]) {
      const queue = this.#queues[kind];
      while (queue.length > 0) {
        const batch = queue.splice(0, this.maxBatch);
        const run = this.#runBatch(kind, batch);
        this.#inFlight.add(run);
        void run.finally(() => this.#inFlight.delete(run));
      }
    }
  }

  async #runBatch(kind: Kind, batch: Op<unknown>[]): Promise<void> {
    const start = performance.now();
    try {
      if (kind === "claim") await this.#claimBatch(batch as Op<CheckedClaim>[], this.#pool);
      else await this.#transitionBatch(kind, batch as Op<TransitionArgs>[]);
      this.#batches++;
      this.#operations += batch.length;
    } catch (error) {
      for (const op of batch) op.reject(error);
    } finally {
      this.#busyMs += performance.now() - start;
    }
  }

  /** One INSERT ... ON CONFLICT DO NOTHING for the whole batch, then the records that held a key already. */
  async #claimBatch(batch: readonly Op<CheckedClaim>[], on: Queryable): Promise<ClaimResult[]> {
    const order = batch
      .map((op, i) => [op.args, i] as const)
      .sort((a, b) =>
        a[0].idempotencyKey < b[0].idempotencyKey
          ? -1
          : a[0].idempotencyKey > b[0].idempotencyKey
            ? 1
            : a[1] - b[1],
      );
    const column = <K extends keyof CheckedClaim>(key: K) => order.map(([claim]) => claim[key]);
    let retried = false;
    const inserted = await this.#retrying("claim", (attempt) => {
      retried = attempt > 0;
      return on.query<{
        seq: number;
        idempotency_key: string;
        version: number;
        status: "queued" | "running";
        attempts: number;
      }>({
        name: `${this.schema}_claim`,
        text: this.#sql.claim,
        values: [
          this.#clock(),
          this.owner,
          this.leaseMs,
          column("id"),
          column("idempotencyKey"),
          column("type"),
          column("payload"),
          column("maxAttempts"),
          column("start"),
        ],
      });
    });
    const created = new Map(inserted.rows.map((row) => [row.idempotency_key, row]));
    const results: (ClaimResult | undefined)[] = batch.map((op) => {
      const row = created.get(op.args.idempotencyKey);
      if (!row) return undefined;
      created.delete(op.args.idempotencyKey); // a key twice in one batch: the second is a duplicate
      const { idempotency_key: _, ...fields } = row;
      return { created: true, ...fields };
    });
    const missing = [
      ...new Set(batch.filter((_, i) => results[i] === undefined).map((op) => op.args.idempotencyKey)),
    ];
    if (missing.length > 0) {
      const existing = await this.#query<Row>("byKeys", [missing], on);
      const byKey = new Map(existing.rows.map((row) => [row.idempotency_key, toRecord(row)]));
      batch.forEach((op, i) => {
        if (results[i] !== undefined) return;
        const record = byKey.get(op.args.idempotencyKey);
        if (!record) {
          results[i] = undefined;
          return;
        }
        // A retried batch may find its own insert, committed before the connection dropped.
        const mine =
          retried &&
          record.id === op.args.id &&
          record.version === 0 &&
          (op.args.start
            ? record.status === "running" && record.leaseOwner === this.owner
            : record.status === "queued");
        results[i] = mine
          ? {
              created: true,
              seq: record.seq,
              version: 0,
              status: record.status as "queued" | "running",
              attempts: record.attempts,
            }
          : { created: false, record };
      });
    }
    for (const r of results) if (r?.created && r.status === "running") this.#running.add(r.seq);
    if (results.some((r) => r?.created === true && r.status === "queued")) await this.#notify(on);
    batch.forEach((op, i) => {
      const result = results[i];
      if (result) op.resolve(result as never);
      else
        op.reject(
          new StoreError("ERR_POSTGRES", `claim of ${op.args.idempotencyKey}: neither inserted nor found`),
        );
    });
    return results as ClaimResult[];
  }

  async #transitionBatch(kind: Exclude<Kind, "claim">, batch: readonly Op<TransitionArgs>[]): Promise<void> {
    const seqs = batch.map((op) => op.args.seq);
    const versions = batch.map((op) => op.args.version);
    const args = batch.map((op) => op.args as TransitionArgs & Record<string, unknown>);
    const values: unknown[] = (() => {
      const now = this.#clock();
      switch (kind) {
        case "start":
          return [now, this.owner, this.leaseMs, seqs, versions];
        case "succeed":
          return [
            now,
            seqs,
            versions,
            args.map((a) => a["outputKey"]),
            args.map((a) => a["etag"]),
            args.map((a) => a["result"]),
          ];
        case "retry":
          return [
            now,
            seqs,
            versions,
            args.map((a) => a["delayMs"]),
            args.map((a) => a["errorClass"]),
            args.map((a) => a["message"]),
          ];
        case "fail":
          return [now, seqs, versions, args.map((a) => a["errorClass"]), args.map((a) => a["message"])];
        case "release":
          return [now, seqs, versions];
      }
    })();
    let retried = false;
    const result = await this.#retrying(WHAT[kind], (attempt) => {
      retried = attempt > 0;
      return this.#pool.query<{ seq: number; version?: number; attempts?: number }>({
        name: `${this.schema}_${kind}`,
        text: this.#sql[kind],
        values,
      });
    });
    const rows = new Map(result.rows.map((row) => [row.seq, row]));
    if (kind === "release" || kind === "retry") {
      if (rows.size > 0) await this.#notify(this.#pool);
    }
    for (const op of batch) {
      const { seq, version } = op.args;
      const row = rows.get(seq);
      rows.delete(seq);
      if (kind === "start") {
        if (row) this.#running.add(seq);
      } else this.#running.delete(seq);
      if (row) {
        op.resolve(
          (kind === "start" ? { seq, version: row.version, attempts: row.attempts } : version + 1) as never,
        );
        continue;
      }
      if (retried) {
        // the first try may have committed before its connection dropped: done is done, not stale
        const now = await this.#query<Row>("bySeq", [seq]);
        const record = now.rows[0];
        if (record && record.version === version + 1 && record.status === TARGET[kind]) {
          if (kind === "start") this.#running.add(seq);
          op.resolve(
            (kind === "start"
              ? { seq, version: record.version, attempts: record.attempts }
              : version + 1) as never,
          );
          continue;
        }
      }
      op.reject(new StaleTransitionError(WHAT[kind], seq, version));
    }
  }

  async #notify(on: Queryable): Promise<void> {
    await on.query("SELECT pg_notify($1, '')", [this.#channel]).catch(() => undefined);
  }

  claim(input: ClaimInput): Promise<ClaimResult> {
    let checked: CheckedClaim;
    try {
      checked = checkClaim(input, this.maxAttempts);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue("claim", checked);
  }

  async enqueueMany(inputs: readonly ClaimInput[]): Promise<ClaimResult[]> {
    this.#ensureOpen("enqueue");
    const checked = inputs.map((input) => checkClaim(input, this.maxAttempts));
    if (checked.length === 0) return [];
    const results: ClaimResult[] = [];
    // one statement: every task is stored, or none
    const ops = checked.map((args, i) => ({
      args,
      resolve: (value: never) => {
        results[i] = value;
      },
      reject: () => undefined,
    }));
    await this.#claimBatch(ops, this.#pool);
    return results;
  }

  start(seq: number, version: number): Promise<Started> {
    return this.#enqueue("start", { seq, version });
  }

  succeed(seq: number, version: number, data: TaskResultData = {}): Promise<number> {
    return this.#enqueue("succeed", {
      seq,
      version,
      outputKey: data.outputKey ?? null,
      etag: data.etag ?? null,
      result: data.result ?? null,
    });
  }

  retry(seq: number, version: number, failure: TaskFailure, delayMs: number): Promise<number> {
    return this.#enqueue("retry", {
      seq,
      version,
      delayMs: Math.max(0, Math.round(delayMs)),
      errorClass: failure.errorClass,
      message: failure.message,
    });
  }

  fail(seq: number, version: number, failure: TaskFailure): Promise<number> {
    return this.#enqueue("fail", { seq, version, errorClass: failure.errorClass, message: failure.message });
  }

  release(seq: number, version: number): Promise<number> {
    return this.#enqueue("release", { seq, version });
  }

  // ---- the durable queue ----------------------------------------------------------------------

  async takeNext(limit: number): Promise<TaskRecord[]> {
    checkLimit(limit);
    this.#ensureOpen("take next");
    this.#notified = false;
    await this.#query("reclaimExpired", [this.#clock()]);
    const { rows } = await this.#query<Row>("take", [this.#clock(), this.owner, this.leaseMs, limit]);
    for (const row of rows) this.#running.add(row.seq);
    return rows.map(toRecord).sort(byNextRun);
  }

  async recover(): Promise<number> {
    this.#ensureOpen("recover");
    let recovered = (await this.#query("reclaimExpired", [this.#clock()])).rowCount ?? 0;
    const owners = await this.#query<{ lease_owner: string }>("runningOwners", []);
    for (const { lease_owner } of owners.rows) {
      if (lease_owner !== this.owner && isDeadLocalOwner(lease_owner))
        recovered += (await this.#query("releaseOwner", [this.#clock(), lease_owner])).rowCount ?? 0;
    }
    if (recovered > 0) await this.#notify(this.#pool);
    return recovered;
  }

  async renewLeases(): Promise<number> {
    this.#ensureOpen("renew leases");
    if (this.#running.size === 0) return 0;
    return (
      (await this.#query("renew", [this.#clock(), this.owner, this.leaseMs, [...this.#running]])).rowCount ??
      0
    );
  }

  startHeartbeat(): void {
    if (this.#heartbeat || this.#closed) return;
    this.#heartbeat = setInterval(
      () => {
        this.renewLeases().catch(() => undefined); // an unreachable server skips a beat
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    this.#heartbeat.unref();
  }

  /** LISTENs on a connection of its own (opened on first use, reopened after a loss). */
  #listen(): Promise<void> {
    if (this.#listener) return Promise.resolve();
    this.#listening ??= (async () => {
      const client = new pg.Client({ ...this.#config });
      const drop = () => {
        if (this.#listener === client) this.#listener = undefined;
        client.end().catch(() => undefined);
        this.#wake(); // a lost listener may have missed a notification: look once
      };
      client.on("error", drop);
      client.on("end", drop);
      client.on("notification", () => this.#wake());
      try {
        await client.connect();
        await client.query(`LISTEN "${this.#channel}"`);
        if (this.#closed) await client.end();
        else {
          this.#listener = client;
          this.#wake(); // what was queued before LISTEN took effect sent nothing here: look once
        }
      } catch {
        client.end().catch(() => undefined);
      } finally {
        this.#listening = undefined;
      }
    })();
    return this.#listening;
  }

  #wake(): void {
    this.#notified = true;
    for (const wake of this.#wakers) wake();
  }

  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return;
    await this.#listen();
    if (this.#notified) {
      this.#notified = false;
      return;
    }
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => wake?.();
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#wakers.add(resolve);
        timer = setTimeout(resolve, timeoutMs);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (wake) this.#wakers.delete(wake);
      signal?.removeEventListener("abort", onAbort);
      this.#notified = false;
    }
  }

  // ---- reads, dead letters --------------------------------------------------------------------

  async get(seq: number): Promise<TaskRecord | undefined> {
    this.#ensureOpen("get");
    const row = (await this.#query<Row>("bySeq", [seq])).rows[0];
    return row && toRecord(row);
  }

  async getByKey(key: string): Promise<TaskRecord | undefined> {
    this.#ensureOpen("get by key");
    const row = (await this.#query<Row>("byKey", [key])).rows[0];
    return row && toRecord(row);
  }

  async getById(id: string): Promise<TaskRecord[]> {
    this.#ensureOpen("get by id");
    return (await this.#query<Row>("byId", [id])).rows.map(toRecord);
  }

  async all(): Promise<TaskRecord[]> {
    this.#ensureOpen("list tasks");
    return (await this.#query<Row>("all", [])).rows.map(toRecord);
  }

  async recordInvalid(taskId: string, payload: unknown, failure: TaskFailure): Promise<number> {
    this.#ensureOpen("record invalid task");
    const { rows } = await this.#query<{ seq: number }>("invalid", [
      this.#clock(),
      String(taskId).slice(0, MAX_ID_LENGTH),
      invalidPayload(payload),
      failure.errorClass,
      failure.message,
    ]);
    return Number(rows[0]?.seq);
  }

  async deadLetters(options: { includeRedriven?: boolean } = {}): Promise<DeadLetter[]> {
    this.#ensureOpen("list dead letters");
    const { rows } = await this.#query<DeadLetterRow>(options.includeRedriven ? "deadAll" : "deadOpen", []);
    return rows.map(toDeadLetter);
  }

  async redrive(taskId?: string): Promise<number> {
    this.#ensureOpen("redrive");
    const { rows } = await this.#query<{ n: number }>("redrive", [this.#clock(), taskId ?? null]);
    const count = rows[0]?.n ?? 0;
    if (count > 0) await this.#notify(this.#pool);
    return count;
  }

  async stats(): Promise<StoreStats> {
    this.#ensureOpen("stats");
    const { rows } = await this.#query<{
      queued: number;
      running: number;
      succeeded: number;
      failed: number;
      dead_letters: number;
      oldest_age: number | null;
    }>("stats", [this.#clock()]);
    const r = rows[0] as NonNullable<(typeof rows)[0]>;
    return {
      queued: r.queued,
      running: r.running,
      succeeded: r.succeeded,
      failed: r.failed,
      total: r.queued + r.running + r.succeeded + r.failed,
      deadLetters: r.dead_letters,
      oldestQueuedAgeMs: r.oldest_age === null ? null : Math.max(0, r.oldest_age),
    };
  }

  async succeededWithin(intervalMs: number): Promise<number> {
    this.#ensureOpen("count succeeded");
    const { rows } = await this.#query<{ n: number }>("succeededWithin", [
      this.#clock(),
      Math.round(intervalMs),
    ]);
    return rows[0]?.n ?? 0;
  }

  async leaseHolders(): Promise<LeaseHolder[]> {
    this.#ensureOpen("list lease holders");
    const { rows } = await this.#query<{ owner: string; running: number; expires: number }>(
      "leaseHolders",
      [],
    );
    return rows.map((r) => ({ owner: r.owner, running: r.running, leaseExpiresAt: r.expires }));
  }

  counters(): BatchCounters {
    return { batches: this.#batches, operations: this.#operations, busyMs: this.#busyMs };
  }

  resetCounters(): void {
    this.#batches = 0;
    this.#operations = 0;
    this.#busyMs = 0;
  }

  async flush(): Promise<void> {
    if (this.#scheduled) this.#flush();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Commits what is pending, stops the heartbeat and the listener, and ends the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#wake();
    await this.#listening;
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
    await this.#pool.end().catch(() => undefined);
  }
}
