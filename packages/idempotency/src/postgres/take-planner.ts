// The PostgreSQL take planner: how a takeNext becomes statements. Expired leases reclaimed at a
// cadence; the kinds' scans read on from where this store's last take ended (a cursor per kind),
// from the start every few takes; a take of kinds without limits in one statement (task_take),
// of kinds with limits in a transaction that locks their rows first (kind_limit_lock), with the
// kinds that have limits read at most every second.
import { probesAfter, ratioTasks } from "../breaker.js";
import {
  allowances,
  countsRunning,
  GroupedShare,
  groupedPart,
  type KindLimitRow,
  windowsAfter,
} from "../limits.js";
import type * as records from "../record.js";
import type * as T from "../types.js";
import type { PgConnection } from "./connection.js";
import { takeGroups } from "./group-take.js";
import type { PgParams } from "./queries.js";

/** How long a store trusts its list of the kinds with limits, ms (see limitedKinds). */
const LIMITS_REFRESH_MS = 1000;

/**
 * A take reads on from where this store's last take of a kind ended (see #takeFrom), except the
 * first after a short take, and at least every TAKE_RESCAN_EVERY-th take or TAKE_RESCAN_MS ms:
 * those read the kind's due tasks from the start (and a take that read on and came back short
 * reads the rest from the start at once).
 */
export const TAKE_RESCAN_EVERY = 8;
const TAKE_RESCAN_MS = 100;

/**
 * A take returns the expired leases of every node to the queue first, at most this often, ms
 * (or every quarter lease, if less): an expired task comes back within that, and a drain's takes
 * do not each pay a statement for it.
 */
const RECLAIM_EVERY_MS = 1000;

/** A taken task's row: its rank too (see #takeFrom). */
export type TakenRow = records.Row & { readonly rank_at: number };
/** Queue order: rank, then seq (rows from two takes merged). */
const byRank = (a: TakenRow, b: TakenRow) => a.rank_at - b.rank_at || a.seq - b.seq;
/** A take's parameters but the allowances and whether limited kinds are skipped. */
type TakeBase = Omit<PgParams["task_take"], "allow_kinds" | "allow_n" | "skip_limited">;

export interface TakePlannerOptions {
  /** The owner the taken tasks are leased to, and for how long (ms). */
  readonly owner: string;
  readonly leaseMs: number;
  /** The channel a reclaim notifies when it finished tasks (cancelled or failed them). */
  readonly doneChannel: string;
  /** The injected clock's time, or null: the database's. */
  readonly clock: () => number | null;
  /** A clock is injected (tests): every take reclaims, as time moves only when the test moves it. */
  readonly injectedClock: boolean;
  /** Told of each task a take let through as its kind's breaker's probe (half-open). */
  readonly onProbe: (seq: number) => void;
  /** Told of each task a take started of a kind whose breaker has a ratio (its success counts). */
  readonly onRatioTask: (seq: number) => void;
}

/** Plans and runs the takes of one PgTaskStore (its takeNext), keeping where each kind's last take ended. */
export class TakePlanner {
  readonly #conn: PgConnection;
  readonly #options: TakePlannerOptions;
  /** The kinds with limits in the store, and when they were read (performance.now()). */
  #limited: { readonly kinds: string[]; readonly at: number } | undefined;
  /**
   * Per kind, the queue position (rank_at, seq) where this store's last take ended. The queued
   * index keeps an entry of every task taken since the last vacuum, in front of the due ones: a
   * take from the start reads them all (in a drain, each take read every task taken before it).
   * A task that becomes due ranked before the position (a higher priority, a released lease) is
   * found by the next take from the start: see TAKE_RESCAN_EVERY.
   */
  readonly #takeFrom = new Map<string, { readonly rank: number; readonly seq: number }>();
  /** Takes since the last one from the start, and when that was (performance.now()). */
  #takesSinceRescan = 0;
  #rescanAt = Number.NEGATIVE_INFINITY;
  /** A take's split between grouped kinds and the others (§5.3). */
  readonly #groupedShare = new GroupedShare();
  /** When a take last reclaimed expired leases (performance.now()). */
  #reclaimedAt = Number.NEGATIVE_INFINITY;

  constructor(conn: PgConnection, options: TakePlannerOptions) {
    this.#conn = conn;
    this.#options = options;
  }

  /**
   * Up to `limit` due tasks of `kinds` (every kind when left out), within their limits and the
   * caller's `perKind` caps, leased to the owner, in queue order (rank_at, then seq): their rows.
   */
  async take(
    limit: number,
    kinds: readonly string[] | undefined,
    perKind: T.TakeOptions["perKind"],
  ): Promise<TakenRow[]> {
    const { clock, owner, leaseMs } = this.#options;
    // on an injected clock (tests), at every take: time moves only when the test moves it
    const at = performance.now();
    if (this.#options.injectedClock || at - this.#reclaimedAt >= Math.min(RECLAIM_EVERY_MS, leaseMs / 4)) {
      await this.#conn.query("task_reclaim", {
        now: clock(),
        owner: null,
        done_channel: this.#options.doneChannel,
      });
      this.#reclaimedAt = at;
    }
    const serve = kinds === undefined ? null : [...new Set(kinds)];
    const served = (kind: string) => serve === null || serve.includes(kind);
    const from = this.#takeStarts(served);
    const base: TakeBase = {
      now: clock(),
      owner,
      lease_ms: leaseMs,
      limit,
      kinds: serve,
      from_kinds: from.map(([kind]) => kind),
      from_rank: from.map(([, at]) => at.rank),
      from_seq: from.map(([, at]) => at.seq),
    };
    let limited = (await this.limitedKinds()).filter(served);
    let rows: TakenRow[] = [];
    if (limited.length === 0) {
      rows = await this.#takeUnlimited(base, limit, from.length > 0, perKind, served);
      // Short: perhaps a kind served has limits this store has not read yet (set by another
      // process since the last read): then the statement took nothing, and the whole take is
      // made now within the limits, in queue order across every kind.
      if (rows.length < limit) limited = (await this.limitedKinds(true)).filter(served);
    }
    if (limited.length > 0 && rows.length < limit) {
      const more = await this.#takeLimited(base, limit - rows.length, serve, perKind);
      rows = rows.length === 0 ? more : [...rows, ...more].sort(byRank);
    }
    this.#tookUpTo(rows, limit);
    return rows;
  }

  /**
   * A take of kinds this store read no limits for: one statement, with the caller's caps if any.
   * The statement skips a kind that has limits after all (set since the read), so a limit binds
   * the next take anywhere, whatever a store believed.
   */
  async #takeUnlimited(
    base: TakeBase,
    limit: number,
    readOn: boolean,
    perKind: T.TakeOptions["perKind"],
    served: (kind: string) => boolean,
  ): Promise<TakenRow[]> {
    const caps = Object.entries(perKind ?? {}).filter(([kind]) => served(kind));
    const take = (n: number, after: boolean, took: readonly TakenRow[] = []) =>
      this.#conn.query<"task_take", TakenRow>("task_take", {
        ...base,
        limit: n,
        ...(after ? {} : { from_kinds: [], from_rank: [], from_seq: [] }),
        allow_kinds: caps.map(([kind]) => kind),
        allow_n: caps.map(([kind, cap]) =>
          Math.max(0, Math.min(n, cap - took.filter((r) => r.kind === kind).length)),
        ),
        skip_limited: true,
      });
    const rows = (await take(limit, true)).rows;
    // a take that read on came back short: what is due may be behind where it started (a higher
    // priority, a released lease), so the rest is read from the start now, not at the next take
    if (!readOn || rows.length >= limit) return rows;
    const rest = (await take(limit - rows.length, false, rows)).rows;
    this.#tookFromStart();
    return [...rows, ...rest].sort(byRank);
  }

  /**
   * A take within the served kinds' limits, in one transaction: their kind_limits rows locked
   * (every limited kind served, read now: never a cached list), the running counts of those with
   * a concurrency limit (and not paused), the take
   * with each kind's allowance, and the rate windows and breaker probes after it.
   */
  #takeLimited(
    base: TakeBase,
    limit: number,
    serve: string[] | null,
    perKind: T.TakeOptions["perKind"],
  ): Promise<TakenRow[]> {
    return this.#conn.transaction("take next", async (query) => {
      const locked = (
        await query<"kind_limit_lock", KindLimitRow & { clock_now: number }>("kind_limit_lock", {
          now: base.now,
          kinds: serve,
        })
      ).rows;
      const now = Number(locked[0]?.clock_now ?? base.now ?? Date.now());
      // running tasks are counted only for the kinds a concurrency limit binds (a grouped kind's
      // per-group caps are counted by its own statement): a take of those alone sends no count
      const concurrent = locked.filter(countsRunning).map((r) => r.kind);
      const counted =
        concurrent.length === 0
          ? []
          : (
              await query<"task_count_running_by_kind", { kind: string; n: number }>(
                "task_count_running_by_kind",
                {
                  kinds: concurrent,
                },
              )
            ).rows;
      const running = new Map(counted.map((r) => [r.kind, r.n]));
      const allow = allowances(limit, locked, running, now, perKind);
      const allowed = new Map(allow);
      // a grouped kind (per-group limits, §5.3) is taken in rotation between its groups by
      // group-take.ts, and task_take takes none of it; the others exactly as without groups when
      // no grouped kind is served, else first with the limit less the grouped kinds' share
      // (GroupedShare), and again for what the grouped kinds left of it: neither side starves
      // (one that may start nothing now, paused or full, leaves the take to the others)
      const groupedRows = locked.filter(
        (r) =>
          r.per_group_concurrency != null &&
          (serve === null || serve.includes(r.kind)) &&
          (allow.get(r.kind) ?? limit) > 0,
      );
      for (const row of locked) if (row.per_group_concurrency != null) allow.set(row.kind, 0);
      // a take of every kind (serve null) counts the other kinds as one
      const others =
        serve === null
          ? 1
          : serve.filter((k) => !locked.some((r) => r.kind === k && r.per_group_concurrency != null)).length;
      const share = this.#groupedShare.of(limit, groupedRows.length, others);
      const takeOthers = async (n: number, before: readonly TakenRow[]) =>
        n <= 0 || others === 0
          ? []
          : (
              await query<"task_take", TakenRow>("task_take", {
                ...base,
                // the time the windows were judged by is the tasks' start time too
                now,
                limit: n,
                allow_kinds: [...allow.keys()],
                allow_n: [...allow].map(([kind, a]) =>
                  Math.max(0, Math.min(n, a - before.filter((r) => r.kind === kind).length)),
                ),
                skip_limited: false,
              })
            ).rows;
      const ungrouped = await takeOthers(limit - share, []);
      const grouped: TakenRow[] = [];
      const lease = { now, owner: base.owner, leaseMs: base.lease_ms };
      for (let i = 0; i < groupedRows.length; i++) {
        const left = limit - ungrouped.length - grouped.length;
        if (left <= 0) break;
        const row = groupedRows[i] as KindLimitRow;
        const n = groupedPart(left, i, groupedRows.length, allowed.get(row.kind) ?? limit);
        if (n > 0) grouped.push(...(await takeGroups(query, row, n, lease)));
      }
      // the grouped kinds left part of their share, and the first take may have left tasks behind
      const rest = limit - ungrouped.length - grouped.length;
      if (share > 0 && rest > 0 && ungrouped.length >= limit - share) {
        ungrouped.push(...(await takeOthers(rest, ungrouped)));
        ungrouped.sort(byRank);
      }
      const taken = [...ungrouped, ...grouped];
      const started = new Map<string, number>();
      for (const r of taken) started.set(r.kind, (started.get(r.kind) ?? 0) + 1);
      const windows = windowsAfter(locked, started, now);
      if (windows.length > 0)
        await query("kind_limit_set_windows", {
          kinds: windows.map((w) => w[0]),
          window_start: windows.map((w) => w[1]),
          window_count: windows.map((w) => w[2]),
        });
      const probes = probesAfter(locked, taken, now);
      if (probes.length > 0) {
        await query("kind_breaker_probes", { kinds: probes.map((p) => p[0]), seqs: probes.map((p) => p[1]) });
        for (const [, seq] of probes) this.#options.onProbe(seq);
      }
      for (const seq of ratioTasks(locked, taken)) this.#options.onRatioTask(seq);
      return taken;
    });
  }

  /** Where this take's scan of each served kind starts: none (from the start) when a rescan is due. */
  #takeStarts(served: (kind: string) => boolean): [string, { rank: number; seq: number }][] {
    // every TAKE_RESCAN_EVERY-th take (the ones between read on), or once TAKE_RESCAN_MS passed
    const rescan =
      this.#takesSinceRescan + 1 >= TAKE_RESCAN_EVERY || performance.now() - this.#rescanAt >= TAKE_RESCAN_MS;
    if (rescan) this.#tookFromStart();
    else this.#takesSinceRescan++;
    return [...this.#takeFrom].filter(([kind]) => served(kind));
  }

  /** A take read from the start: the positions start over, and so does the count to the next. */
  #tookFromStart(): void {
    this.#takeFrom.clear();
    this.#takesSinceRescan = 0;
    this.#rescanAt = performance.now();
  }

  /**
   * Remembers where a take ended, per kind: its last task taken from the due range (ranked no
   * later than its start; a negative priority's task ranked later comes from its own index). A
   * short take (fewer than `limit`: its kinds ran out, or their allowances) forgets them all.
   */
  #tookUpTo(rows: readonly TakenRow[], limit: number): void {
    if (rows.length < limit) {
      this.#takeFrom.clear();
      this.#takesSinceRescan = TAKE_RESCAN_EVERY;
      return;
    }
    for (const row of rows) {
      if (row.rank_at > (row.started_at ?? row.rank_at)) continue;
      const at = this.#takeFrom.get(row.kind);
      if (!at || row.rank_at > at.rank || (row.rank_at === at.rank && row.seq > at.seq))
        this.#takeFrom.set(row.kind, { rank: row.rank_at, seq: row.seq });
    }
  }

  /**
   * The kinds that have limits in the store, read at most every LIMITS_REFRESH_MS (and at once
   * after this store sets some): a take of kinds without limits stays one statement. A limit set
   * by another process applies here within that time.
   */
  async limitedKinds(fresh = false): Promise<string[]> {
    const cached = this.#limited;
    if (!fresh && cached && performance.now() - cached.at < LIMITS_REFRESH_MS) return cached.kinds;
    const { rows } = await this.#conn.query<"kind_limit_kinds", { kind: string }>("kind_limit_kinds", {});
    this.#limited = { kinds: rows.map((r) => r.kind), at: performance.now() };
    return this.#limited.kinds;
  }

  /** Whether `kind` had limits when they were last read. */
  isLimited(kind: string): boolean {
    return this.#limited?.kinds.includes(kind) ?? false;
  }

  /** This store changed a kind's limits: the next take reads them again. */
  limitsChanged(): void {
    this.#limited = undefined;
  }
}
