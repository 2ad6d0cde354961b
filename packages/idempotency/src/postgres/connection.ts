// The PostgreSQL driver's connection pool: statements of queries.sql run by name, and a lost
// connection or a restarting server retried with capped exponential backoff.
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { StoreError } from "../errors.js";
import { fromPg, isTransient } from "./errors.js";
import { bindPg } from "./pg-values.js";
import { PG_QUERIES, type PgParams, type PgQueryName } from "./queries.js";

const BACKOFF_MAX_MS = 2000;

/** int8 (counts, seqs, epoch ms) as JS numbers: every value taskq stores is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as never,
};

export interface PgConnectionOptions {
  readonly url: string;
  /** The store's schema: a checked lower-case identifier, every connection's search_path. */
  readonly schema: string;
  /** The URL without its password, for messages. */
  readonly location: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly reconnectTimeoutMs: number;
}

/** A statement of queries.sql by name, inside a transaction (PgConnection.transaction). */
export type TxQuery = <N extends PgQueryName, R extends object = Record<string, unknown>>(
  name: N,
  params: PgParams[N],
) => Promise<pg.QueryResult<R>>;

/** A client checked out of a pool, until `release`. */
export interface CheckedOut {
  readonly client: pg.PoolClient;
  /** Back to the pool; discarded when `discard` is set or the connection was lost meanwhile. */
  release(discard?: boolean): void;
}

/**
 * Checks a client out of `pool` for several statements (a transaction, a migration). pg-pool
 * takes its own 'error' listener off a client it hands out, and a client whose connection is lost
 * (a terminated backend, a server restart) emits 'error', between statements too: unheard, that
 * event kills the process. Here it is heard and kept: the release hands it to the pool, which
 * discards the connection, and the statement it failed (or the next) rejects, retried by the
 * caller as any lost connection is.
 */
export async function checkOut(pool: pg.Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  client.on("error", onError);
  return {
    client,
    release(discard = false) {
      client.off("error", onError);
      client.release(lost ?? discard);
    },
  };
}

/** A pool of connections to one store's schema. */
export class PgConnection {
  readonly schema: string;
  readonly location: string;
  readonly reconnectTimeoutMs: number;
  /** The URL as given, password and all: only for fromPg (`storeError`), which masks it. */
  readonly #url: string;
  readonly pool: pg.Pool;
  /** The pool's settings, for a connection of its own (the notifier's LISTEN). */
  readonly config: pg.PoolConfig;
  #ended = false;

  constructor(options: PgConnectionOptions) {
    this.schema = options.schema;
    this.location = options.location;
    this.#url = options.url;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs;
    this.config = {
      connectionString: options.url,
      max: options.poolSize,
      types,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: "taskq",
      // The statements of queries.sql name no schema: search_path chooses the store's.
      //
      // taskq's statements are prepared once per connection and their plans do not depend on the
      // values: planning them again for every batch (a custom plan) cost more CPU than running
      // them. A generic plan is made once, often while the tables are new and nearly empty, when a
      // sequential scan looks cheapest and would stay in use as they grow: every statement of
      // taskq's is meant to go through an index, so its connections rule sequential scans out.
      // Bitmap scans too: one cannot give rows in the index's order, so a take planned on a
      // task_ready not yet analysed (26 rows guessed) read all of its 60,000 rows and sorted them
      // (16-55 ms a take of 10, where the index in order reads 10: 1.8 ms).
      // That makes any plan left with a sequential scan cost over 10^10, which switches on the JIT
      // compiler: 100-300 ms of LLVM per call for a count over 2,000 rows. Short OLTP statements
      // never gain from JIT: it is off.
      options: `-c search_path=${options.schema} -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_bitmapscan=off -c jit=off`,
    };
    this.pool = new pg.Pool(this.config);
    // An idle connection that dies (a server restart) must not crash the process: the next
    // query on the pool opens a new one, and a failed call is retried.
    this.pool.on("error", () => undefined);
  }

  /** Runs one statement of queries.sql by name, once (prepared per connection). */
  send<N extends PgQueryName, R extends object = Record<string, unknown>>(
    name: N,
    params: PgParams[N],
  ): Promise<pg.QueryResult<R>> {
    const statement = PG_QUERIES[name];
    return this.pool.query<R>({
      name: `${this.schema}_${name}`,
      text: statement.text,
      values: bindPg(statement, params),
    });
  }

  /** Runs one statement by name, retrying a lost connection or a restarting server. */
  query<N extends PgQueryName, R extends object = Record<string, unknown>>(
    name: N,
    params: PgParams[N],
  ): Promise<pg.QueryResult<R>> {
    return this.retrying(name, () => this.send<N, R>(name, params));
  }

  /**
   * Runs `fn` in a transaction on one connection of the pool (its statements by name through the
   * `query` it is given; `client` for statements that are not named, such as claimWith's),
   * committed when it resolves, rolled back when it throws; the whole transaction is retried on
   * a lost connection, as a statement is.
   */
  transaction<T>(what: string, fn: (query: TxQuery, client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.retrying(what, async () => {
      const { client, release } = await checkOut(this.pool);
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await fn((name, params) => {
          const statement = PG_QUERIES[name];
          return client.query({
            name: `${this.schema}_${name}`,
            text: statement.text,
            values: bindPg(statement, params as never),
          });
        }, client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        release(broken);
      }
    });
  }

  /**
   * Runs `run` until it succeeds, retrying transient errors (a lost or refused connection, a
   * restarting server, a deadlock) with capped exponential backoff for up to reconnectTimeoutMs;
   * a store closed meanwhile ends the retries with ERR_CLOSED.
   */
  async retrying<T>(what: string, run: (attempt: number) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.reconnectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (this.#ended && attempt > 0) throw new StoreError("ERR_CLOSED", `${what}: the task store is closed`);
      try {
        return await run(attempt);
      } catch (error) {
        if (!isTransient(error) || performance.now() >= deadline) throw this.storeError(error, what);
        await sleep(Math.min(BACKOFF_MAX_MS, 25 * 2 ** attempt));
      }
    }
  }

  /** `error` as one line naming `what` failed, the URL and any message without its password (fromPg). */
  storeError(error: unknown, what: string): StoreError {
    return fromPg(error, what, this.#url);
  }

  /** Ends the pool (calls retrying meanwhile stop with ERR_CLOSED). Idempotent. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.pool.end().catch(() => undefined);
  }
}
