// Group commit for the PostgreSQL driver: the claims and transitions made in one event-loop turn
// go to the server as one statement (queries.sql `task_turn`; a turn of successes alone,
// `task_turn_succeeded`), at most `maxInFlight` at a time;
// calls made while those run wait and go together in the next one.
import type { BreakerEvent } from "../breaker.js";
import type { BatchCounters } from "../driver.js";
import { StaleTransitionError, StoreError } from "../errors.js";
import type { Row } from "../record.js";
import type { ClaimResult } from "../types.js";
import type { CheckedClaim } from "../validate.js";
import { answerClaims } from "./claim-answers.js";
import type { PgConnection } from "./connection.js";
import { claimColumns, type TurnBreakerParams, type TurnParams } from "./queries.js";

/** A call that goes in a turn. */
export type CallName = "claim" | "start" | "succeed" | "retry" | "fail" | "release";
type TransitionName = Exclude<CallName, "claim">;
const CALLS: readonly CallName[] = ["claim", "start", "succeed", "retry", "fail", "release"];
const TRANSITIONS: readonly TransitionName[] = ["start", "succeed", "retry", "fail", "release"];

/** The arguments of each call, as the turn statement takes them. */
export interface CallArgs {
  claim: CheckedClaim;
  start: Guard;
  /**
   * `probe`: this store let the task through as its kind's breaker's probe; `counted`: its kind's
   * breaker has a ratio, and counts the success.
   */
  succeed: Guard & {
    outputKey: string | null;
    etag: string | null;
    result: string | null;
    probe: boolean;
    counted: boolean;
  };
  retry: Guard & { delayMs: number; errorClass: string; message: string; stack: string | null };
  fail: Guard & { errorClass: string; message: string; stack: string | null; retryable: boolean };
  release: Guard;
}

interface Guard {
  readonly seq: number;
  readonly version: number;
}

interface Call<A> {
  readonly args: A;
  readonly resolve: (value: never) => void;
  readonly reject: (error: unknown) => void;
}

/** The calls of one turn, by name. */
type Turn = { [C in CallName]: Call<CallArgs[C]>[] };

/** A row of the turn statement's answer: which call it answers, and what changed. */
interface TurnRow {
  readonly call: CallName | "existing" | "wake" | "done" | "breaker";
  readonly seq: number;
  readonly kind: string | null;
  readonly key: string | null;
  readonly version: number | null;
  readonly status: string | null;
  readonly attempts: number | null;
  /** For `existing`: the whole row that held a claimed key. */
  readonly record: Row | null;
}

/** What a transition leaves a task as, to recognise it when a retried batch finds it done already. */
const TARGET: Record<TransitionName, string> = {
  start: "running",
  succeed: "succeeded",
  retry: "queued",
  fail: "failed",
  release: "queued",
};

const WHAT: Record<TransitionName, string> = {
  start: "queued → running",
  succeed: "running → succeeded",
  retry: "running → queued (retry)",
  fail: "running → failed",
  release: "running → queued (released)",
};

const emptyTurn = (): Turn => ({ claim: [], start: [], succeed: [], retry: [], fail: [], release: [] });

export interface TurnBatcherOptions {
  readonly owner: string;
  readonly leaseMs: number;
  readonly maxBatch: number;
  readonly maxInFlight: number;
  /** The channel the turn notifies when a task became queued. */
  readonly channel: string;
  /** The channel the turn notifies (once) when it finished a task. */
  readonly doneChannel: string;
  /** The injected clock, or null for the database's. */
  readonly clock: () => number | null;
  /** Tasks this node runs (leased to it by an answer it received): the ones its heartbeat renews. */
  readonly running: Set<number>;
  /** Told the seqs of the tasks a turn finished (succeeded or failed), after the commit. */
  readonly onFinished?: (seqs: readonly number[]) => void;
  /** Told of the breakers a turn opened or closed, after the commit. */
  readonly onBreaker?: (event: BreakerEvent) => void;
}

/**
 * Batches the claims and transitions of a PostgreSQL store: each call waits for the next turn
 * statement, and is answered from its rows after the commit. A call that fails on its own (a
 * stale transition) rejects alone; a failed statement rejects its turn. A turn retried after a
 * lost connection re-checks what the first try may have committed instead of re-applying it.
 */
export class TurnBatcher {
  readonly #conn: PgConnection;
  readonly #options: TurnBatcherOptions;
  readonly #pending: Turn = emptyTurn();
  #scheduled = false;
  /** Turn statements at the server now. */
  #sending = 0;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;
  #batches = 0;
  #operations = 0;
  #busyMs = 0;

  constructor(conn: PgConnection, options: TurnBatcherOptions) {
    this.#conn = conn;
    this.#options = options;
  }

  /** Adds a call to the next turn. */
  defer<C extends CallName, T>(call: C, args: CallArgs[C]): Promise<T> {
    if (this.#closed)
      return Promise.reject(new StoreError("ERR_CLOSED", `${call}: the task store is closed`));
    return new Promise<T>((resolve, reject) => {
      (this.#pending[call] as Call<CallArgs[C]>[]).push({
        args,
        resolve: resolve as (value: never) => void,
        reject,
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  /** Claims every task in one turn statement of its own (one transaction: all or none). */
  async claimAll(claims: readonly CheckedClaim[]): Promise<ClaimResult[]> {
    const turn = emptyTurn();
    const settled = claims.map(
      (args) =>
        new Promise<ClaimResult>((resolve, reject) => {
          turn.claim.push({ args, resolve: resolve as (value: never) => void, reject });
        }),
    );
    if (claims.length > 0) await this.#run(turn);
    return Promise.all(settled);
  }

  /**
   * Sends the pending calls as one turn statement, unless `maxInFlight` turns are at the server:
   * then they wait and go together when one returns (group commit). An idle store sends at once;
   * a busy one sends turns as large as its round trips allow.
   */
  #send(): void {
    this.#scheduled = false;
    if (this.#sending >= this.#options.maxInFlight) return;
    const turn = Object.fromEntries(
      CALLS.map((call) => [call, this.#pending[call].splice(0, this.#options.maxBatch)]),
    ) as unknown as Turn;
    if (CALLS.every((call) => turn[call].length === 0)) return;
    this.#sending++;
    const run = this.#run(turn);
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      this.#sending--;
      if (this.#hasPending()) this.#send();
    });
  }

  #hasPending(): boolean {
    return CALLS.some((call) => this.#pending[call].length > 0);
  }

  /** The turn statement's parameters: one array per column of each call. */
  #params(turn: Turn): TurnParams {
    // the claims in the calls' order: the statement numbers them so, and inserts them in key order
    const of = <C extends TransitionName, R>(call: C, pick: (args: CallArgs[C]) => R) =>
      (turn[call] as Call<CallArgs[C]>[]).map((c) => pick(c.args));
    const seq = (args: Guard) => args.seq;
    const version = (args: Guard) => args.version;
    return {
      now: this.#options.clock(),
      owner: this.#options.owner,
      lease_ms: this.#options.leaseMs,
      ...claimColumns(turn.claim.map((call) => call.args)),
      claim_start: turn.claim.map((call) => call.args.start),
      start_seq: of("start", seq),
      start_version: of("start", version),
      succeed_seq: of("succeed", seq),
      succeed_version: of("succeed", version),
      succeed_output_key: of("succeed", (a) => a.outputKey),
      succeed_etag: of("succeed", (a) => a.etag),
      succeed_result: of("succeed", (a) => a.result),
      retry_seq: of("retry", seq),
      retry_version: of("retry", version),
      retry_delay_ms: of("retry", (a) => a.delayMs),
      retry_error_class: of("retry", (a) => a.errorClass),
      retry_error_message: of("retry", (a) => a.message),
      retry_error_stack: of("retry", (a) => a.stack),
      fail_seq: of("fail", seq),
      fail_version: of("fail", version),
      fail_error_class: of("fail", (a) => a.errorClass),
      fail_error_message: of("fail", (a) => a.message),
      fail_error_stack: of("fail", (a) => a.stack),
      fail_retryable: of("fail", (a) => a.retryable),
      release_seq: of("release", seq),
      release_version: of("release", version),
      channel: this.#options.channel,
      done_channel: this.#options.doneChannel,
    };
  }

  async #run(turn: Turn): Promise<void> {
    const start = performance.now();
    const size = CALLS.reduce((n, call) => n + turn[call].length, 0);
    try {
      const params = this.#params(turn);
      const breakers = breakerParams(turn);
      let retried = false;
      // a turn of successes alone (no breaker to tell) runs task_turn's success part alone
      const succeededOnly = !breakers && CALLS.every((call) => call === "succeed" || turn[call].length === 0);
      const { rows } = await this.#conn.retrying("store batch", (attempt) => {
        retried = attempt > 0;
        if (breakers)
          return this.#conn.send<"task_turn_breakers", TurnRow>("task_turn_breakers", {
            ...params,
            ...breakers,
          });
        if (succeededOnly)
          return this.#conn.send<"task_turn_succeeded", TurnRow>("task_turn_succeeded", {
            now: params.now,
            succeed_seq: params.succeed_seq,
            succeed_version: params.succeed_version,
            succeed_output_key: params.succeed_output_key,
            succeed_etag: params.succeed_etag,
            succeed_result: params.succeed_result,
            done_channel: params.done_channel,
          });
        return this.#conn.send<"task_turn", TurnRow>("task_turn", params);
      });
      const byCall = new Map<string, TurnRow[]>();
      for (const row of rows) {
        const list = byCall.get(row.call);
        if (list) list.push(row);
        else byCall.set(row.call, [row]);
      }
      this.#batches++;
      this.#operations += size;
      // the breakers' listeners first: a caller answered below hears of them before it goes on
      for (const row of byCall.get("breaker") ?? [])
        this.#options.onBreaker?.({
          kind: row.kind as string,
          state: row.status as "opened" | "closed",
          at: Number((row.record as unknown as { at: number }).at),
        });
      await this.#settleClaims(turn.claim, byCall.get("claim") ?? [], byCall.get("existing") ?? [], retried);
      for (const call of TRANSITIONS)
        await this.#settleTransitions(call, turn[call], byCall.get(call) ?? [], retried);
    } catch (error) {
      for (const call of CALLS) for (const c of turn[call]) c.reject(error);
    } finally {
      this.#busyMs += performance.now() - start;
    }
  }

  /** Answers each claim (claim-answers.ts): created, or the record that held its key. */
  async #settleClaims(
    batch: readonly Call<CheckedClaim>[],
    inserted: readonly TurnRow[],
    held: readonly TurnRow[],
    retried: boolean,
  ) {
    if (batch.length === 0) return;
    const { owner, running } = this.#options;
    const results = await answerClaims(
      batch.map((call) => call.args),
      inserted,
      held,
      async (kinds, keys) =>
        (
          await this.#conn.query<"task_list_by_keys", { record: Row }>("task_list_by_keys", { kinds, keys })
        ).rows.map((r) => r.record),
      retried ? owner : undefined,
    );
    batch.forEach((call, i) => {
      const result = results[i] as ClaimResult | StoreError;
      if (result instanceof StoreError) call.reject(result);
      else {
        if (result.created && result.status === "running") running.add(result.seq);
        call.resolve(result as never);
      }
    });
  }

  /** Answers each transition: its new version, or StaleTransitionError when its row did not change. */
  async #settleTransitions(
    name: TransitionName,
    batch: readonly Call<Guard>[],
    changed: readonly TurnRow[],
    retried: boolean,
  ) {
    const rows = new Map(changed.map((row) => [row.seq, row]));
    const finished: number[] = [];
    for (const call of batch) {
      const { seq, version } = call.args;
      let row: { version: number | null; attempts: number | null } | undefined = rows.get(seq);
      rows.delete(seq);
      if (!row && retried) {
        // the first try may have committed before its connection dropped: done is done, not stale
        const record = (await this.#conn.query<"task_get", Row>("task_get", { seq })).rows[0];
        if (record && record.version === version + 1 && record.status === TARGET[name]) row = record;
      }
      // a refused call changed nothing: a task still leased here stays renewed (one leased
      // elsewhere now is dropped by the next renewal, which renews only this owner's)
      if (row) {
        if (name === "start") this.#options.running.add(seq);
        else this.#options.running.delete(seq);
        if (name === "succeed" || name === "fail") finished.push(seq);
      }
      if (!row) call.reject(new StaleTransitionError(WHAT[name], seq, version));
      else if (name === "start") call.resolve({ seq, version: row.version, attempts: row.attempts } as never);
      else call.resolve((version + 1) as never);
    }
    if (finished.length > 0) this.#options.onFinished?.(finished);
  }

  /** Waits for every call deferred so far to be answered. */
  async flush(): Promise<void> {
    if (this.#scheduled) this.#send();
    while (this.#inFlight.size > 0 || this.#hasPending()) {
      await Promise.allSettled([...this.#inFlight]);
      if (this.#inFlight.size === 0) this.#send();
    }
  }

  /** Refuses calls from now on (ERR_CLOSED); what was deferred before still goes. */
  close(): void {
    this.#closed = true;
  }

  counters(): BatchCounters {
    return { batches: this.#batches, operations: this.#operations, busyMs: this.#busyMs };
  }

  resetCounters(): void {
    this.#batches = 0;
    this.#operations = 0;
    this.#busyMs = 0;
  }
}

/**
 * What a turn tells the breakers, when it has something to tell (task_turn_breakers): a failed
 * attempt (a retry or a failure), a probe's success, or a success a ratio counts. Undefined for
 * a turn of successes of kinds without a breaker: it is task_turn, which reads no breaker.
 */
function breakerParams(turn: Turn): Pick<TurnBreakerParams, "probe_seq" | "counted_seq"> | undefined {
  const probe_seq: number[] = [];
  const counted_seq: number[] = [];
  for (const c of turn.succeed as Call<CallArgs["succeed"]>[]) {
    if (c.args.probe) probe_seq.push(c.args.seq);
    if (c.args.counted) counted_seq.push(c.args.seq);
  }
  if (turn.retry.length === 0 && turn.fail.length === 0 && probe_seq.length === 0 && counted_seq.length === 0)
    return undefined;
  return { probe_seq, counted_seq };
}
