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
   * Most calls of one kind in one turn statement.
   * @default 512
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

type Kind = "claim" | "start" | "succeed" | "retry" | "fail" | "release";
const KINDS: readonly Kind[] = ["claim", "start", "succeed", "retry", "fail", "release"];
const TRANSITIONS = ["start", "succeed", "retry", "fail", "release"] as const;

interface Op<A> {
  readonly args: A;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

interface TransitionArgs {
  readonly seq: number;
  readonly version: number;
}

/** The calls of one turn, by kind. */
type Turn = { claim: Op<CheckedClaim>[] } & { [K in (typeof TRANSITIONS)[number]]: Op<TransitionArgs>[] };

/** A row of the turn statement's answer: which call kind it answers, and what changed. */
interface TurnRow {
  readonly kind: Kind | "existing" | "wake";
  readonly seq: number;
  readonly key: string | null;
  readonly version: number | null;
  readonly status: string | null;
  readonly attempts: number | null;
  /** For `existing`: the whole row that held a claimed key. */
  readonly record: Row | null;
}

const byKey = (a: readonly [CheckedClaim, number], b: readonly [CheckedClaim, number]) =>
  a[0].idempotencyKey < b[0].idempotencyKey
    ? -1
    : a[0].idempotencyKey > b[0].idempotencyKey
      ? 1
      : a[1] - b[1];

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
  readonly dialect = "postgres" as const;
  // TEMPORARY until the store branch lands: ungated
  tryRunMaintenance(_name: string, _everyMs: number): Promise<boolean> {
    return Promise.resolve(true);
  }
  readonly location: string;
  readonly schema: string;
  readonly owner: string;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly maxBatch: number;
  readonly maxInFlight: number;
  readonly reconnectTimeoutMs: number;
  recoveredOnOpen = 0;
  readonly #pool: pg.Pool;
  readonly #config: pg.PoolConfig;
  readonly #sql: ReturnType<typeof statements>;
  readonly #now: (() => number) | undefined;
  readonly #channel: string;
  readonly #queues: Turn = {
    claim: [],
    start: [],
    succeed: [],
    retry: [],
    fail: [],
    release: [],
  };
  #scheduled = false;
  /** Turn statements at the server now. */
  #sending = 0;
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
    this.maxInFlight = options.maxInFlight ?? 2;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      invalid(`maxInFlight must be a positive integer, got ${this.maxInFlight}`);
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
      // taskq's statements are prepared once per connection and their plans do not depend on the
      // values: planning them again for every batch (a custom plan) cost more CPU than running
      // them. A generic plan is made once, often while the tables are new and nearly empty, when a
      // sequential scan looks cheapest and would stay in use as they grow: every statement of
      // taskq's is meant to go through an index, so its connections rule sequential scans out.
      // That makes any plan left with a sequential scan cost over 10^10, which switches on the JIT
      // compiler: 100-300 ms of LLVM per call for a count over 2,000 rows. Short OLTP statements
      // never gain from JIT: it is off.
      options: "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c jit=off",
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
  async #query<R extends object>(name: StatementName, values: unknown[]) {
    return this.#retrying(name, () =>
      this.#pool.query<R>({ name: `${this.schema}_${name}`, text: this.#sql[name], values }),
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
      (this.#queues[kind] as Op<unknown>[]).push({
        args,
        resolve: resolve as (value: never) => void,
        reject,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Sends the pending calls of every kind as one turn statement, unless `maxInFlight` turns are
   * at the server: then they wait and go together when one returns (group commit). An idle
   * store sends at once; a busy one sends turns as large as its round trips allow.
   */
  #flush(): void {
    this.#scheduled = false;
    if (this.#sending >= this.maxInFlight) return;
    const turn = Object.fromEntries(
      KINDS.map((kind) => [kind, this.#queues[kind].splice(0, this.maxBatch)]),
    ) as unknown as Turn;
    if (KINDS.every((kind) => turn[kind].length === 0)) return;
    this.#sending++;
    const run = this.#runTurn(turn);
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#sending--;
      if (KINDS.some((kind) => this.#queues[kind].length > 0)) this.#flush();
    });
  }

  async #runTurn(turn: Turn): Promise<void> {
    const start = performance.now();
    const size = KINDS.reduce((n, kind) => n + turn[kind].length, 0);
    try {
      const claims = turn.claim.map((op, i) => [op.args, i] as const).sort(byKey);
      const col = <K extends keyof CheckedClaim>(key: K) => claims.map(([claim]) => claim[key]);
      const seqs = (kind: Exclude<Kind, "claim">) => turn[kind].map((op) => op.args.seq);
      const versions = (kind: Exclude<Kind, "claim">) => turn[kind].map((op) => op.args.version);
      const field = (kind: Exclude<Kind, "claim">, name: string) =>
        turn[kind].map((op) => (op.args as unknown as Record<string, unknown>)[name] ?? null);
      const values = [
        this.#clock(),
        this.owner,
        this.leaseMs,
        ...[col("id"), col("idempotencyKey"), col("type"), col("payload"), col("maxAttempts"), col("start")],
        ...[seqs("start"), versions("start")],
        ...[
          seqs("succeed"),
          versions("succeed"),
          field("succeed", "outputKey"),
          field("succeed", "etag"),
          field("succeed", "result"),
        ],
        ...[
          seqs("retry"),
          versions("retry"),
          field("retry", "delayMs"),
          field("retry", "errorClass"),
          field("retry", "message"),
        ],
        ...[seqs("fail"), versions("fail"), field("fail", "errorClass"), field("fail", "message")],
        ...[seqs("release"), versions("release")],
        this.#channel,
      ];
      let retried = false;
      const { rows } = await this.#retrying("store batch", (attempt) => {
        retried = attempt > 0;
        return this.#pool.query<TurnRow>({ name: `${this.schema}_turn`, text: this.#sql.turn, values });
      });
      const byKind = new Map<string, TurnRow[]>();
      for (const row of rows) {
        const list = byKind.get(row.kind);
        if (list) list.push(row);
        else byKind.set(row.kind, [row]);
      }
      this.#batches++;
      this.#operations += size;
      await this.#settleClaims(turn.claim, byKind.get("claim") ?? [], byKind.get("existing") ?? [], retried);
      for (const kind of TRANSITIONS)
        await this.#settleTransitions(kind, turn[kind], byKind.get(kind) ?? [], retried);
    } catch (error) {
      for (const kind of KINDS) for (const op of turn[kind]) op.reject(error);
    } finally {
      this.#busyMs += performance.now() - start;
    }
  }

  /** Answers each claim: created, or the record that held its key (read in one more query). */
  async #settleClaims(
    batch: readonly Op<CheckedClaim>[],
    inserted: readonly TurnRow[],
    held: readonly TurnRow[],
    retried: boolean,
  ) {
    if (batch.length === 0) return;
    const created = new Map(inserted.map((row) => [row.key as string, row]));
    const results: (ClaimResult | undefined)[] = batch.map((op) => {
      const row = created.get(op.args.idempotencyKey);
      if (!row) return undefined;
      created.delete(op.args.idempotencyKey); // a key twice in one batch: the second is a duplicate
      return {
        created: true,
        seq: row.seq,
        version: row.version as number,
        status: row.status as "queued" | "running",
        attempts: row.attempts as number,
      };
    });
    const byKey = new Map(held.map((row) => [row.key as string, toRecord(row.record as Row)]));
    // keys a concurrent transaction committed while this statement ran, or twice in this batch:
    // read now (rare)
    const missing = [
      ...new Set(
        batch
          .filter((op, i) => results[i] === undefined && !byKey.has(op.args.idempotencyKey))
          .map((op) => op.args.idempotencyKey),
      ),
    ];
    if (missing.length > 0) {
      const existing = await this.#query<Row>("byKeys", [missing]);
      for (const row of existing.rows) byKey.set(row.idempotency_key, toRecord(row));
    }
    batch.forEach((op, i) => {
      const record = results[i] === undefined ? byKey.get(op.args.idempotencyKey) : undefined;
      if (!record) return;
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
    batch.forEach((op, i) => {
      const result = results[i];
      if (result?.created && result.status === "running") this.#running.add(result.seq);
      if (result) op.resolve(result as never);
      else
        op.reject(
          new StoreError("ERR_POSTGRES", `claim of ${op.args.idempotencyKey}: neither inserted nor found`),
        );
    });
  }

  /** Answers each transition: its new version, or StaleTransitionError when its row did not change. */
  async #settleTransitions(
    kind: Exclude<Kind, "claim">,
    batch: readonly Op<TransitionArgs>[],
    changed: readonly TurnRow[],
    retried: boolean,
  ) {
    const rows = new Map(changed.map((row) => [row.seq, row]));
    for (const op of batch) {
      const { seq, version } = op.args;
      let row: { version: number | null; attempts: number | null } | undefined = rows.get(seq);
      rows.delete(seq);
      if (!row && retried) {
        // the first try may have committed before its connection dropped: done is done, not stale
        const record = (await this.#query<Row>("bySeq", [seq])).rows[0];
        if (record && record.version === version + 1 && record.status === TARGET[kind]) row = record;
      }
      if (kind === "start") {
        if (row) this.#running.add(seq);
      } else this.#running.delete(seq);
      if (!row) op.reject(new StaleTransitionError(WHAT[kind], seq, version));
      else if (kind === "start") op.resolve({ seq, version: row.version, attempts: row.attempts } as never);
      else op.resolve((version + 1) as never);
    }
  }

  async #notify(): Promise<void> {
    await this.#pool.query("SELECT pg_notify($1, '')", [this.#channel]).catch(() => undefined);
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
    // one statement: every task is stored, or none
    const turn = Object.fromEntries(KINDS.map((kind) => [kind, []])) as unknown as Turn;
    const settled = checked.map(
      (args) =>
        new Promise<ClaimResult>((resolve, reject) => {
          turn.claim.push({ args, resolve: resolve as (value: never) => void, reject });
        }),
    );
    if (checked.length > 0) await this.#runTurn(turn);
    return Promise.all(settled);
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
    if (recovered > 0) await this.#notify();
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
    if (count > 0) await this.#notify();
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

  async prune(options: { readonly olderThanMs: number; readonly limit?: number }): Promise<number> {
    this.#ensureOpen("prune");
    const limit = checkLimit(options.limit ?? 500);
    if (!(options.olderThanMs >= 0)) invalid(`olderThanMs must be >= 0, got ${options.olderThanMs}`);
    const { rows } = await this.#query<{ n: number }>("prune", [
      this.#clock(),
      Math.round(options.olderThanMs),
      limit,
    ]);
    return rows[0]?.n ?? 0;
  }

  async purgeDeadLetters(olderThanMs: number): Promise<number> {
    this.#ensureOpen("purge dead letters");
    if (!(olderThanMs >= 0)) invalid(`olderThanMs must be >= 0, got ${olderThanMs}`);
    const { rows } = await this.#query<{ n: number }>("purge", [this.#clock(), Math.round(olderThanMs)]);
    return rows[0]?.n ?? 0;
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
    while (this.#inFlight.size > 0 || KINDS.some((kind) => this.#queues[kind].length > 0)) {
      await Promise.allSettled([...this.#inFlight]);
      if (this.#inFlight.size === 0) this.#flush();
    }
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
