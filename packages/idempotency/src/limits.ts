// Limits of a kind across every worker (issue 22), one meaning for both drivers: each driver reads
// the limited kinds' rows (locked, on PostgreSQL) and their running counts in the take's
// transaction, and these functions decide how many of each kind it may take and what the rate
// windows become after it.
import {
  type BreakerRow,
  type BreakerState,
  breakerFreeAt,
  breakerSlots,
  toBreakerState,
} from "./breaker.js";
import type { KindLimits, PerGroupLimits, RateLimit } from "./types.js";
import { invalid } from "./validate.js";

/** A `kind_limits` row (its breaker's columns: breaker.ts). */
export interface KindLimitRow extends BreakerRow {
  kind: string;
  concurrency: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  window_start: number;
  window_count: number;
  /** Since when the kind is paused (pauseKind), epoch ms; null: it runs. */
  paused_at: number | null;
  /** Each group's cap on running tasks (migration 019); null: the kind is not grouped. */
  per_group_concurrency?: number | null;
  /** The group the kind's last take drew from last (rotation: the next take starts after it). */
  group_cursor?: string | null;
}

/** Checks limits as every driver stores them; ERR_INVALID_INPUT naming the field. */
export function checkKindLimits(limits: KindLimits): void {
  const { concurrency, rate, perGroup } = limits;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    invalid(`concurrency must be a positive integer, got ${concurrency}`);
  if (rate !== undefined) {
    if (!Number.isInteger(rate.limit) || rate.limit < 1)
      invalid(`rate.limit must be a positive integer, got ${rate.limit}`);
    if (!Number.isInteger(rate.intervalMs) || rate.intervalMs < 1)
      invalid(`rate.intervalMs must be a positive integer, got ${rate.intervalMs}`);
  }
  if (perGroup !== undefined) {
    const n = typeof perGroup === "object" && perGroup !== null ? perGroup.concurrency : undefined;
    if (!Number.isInteger(n) || (n as number) < 1)
      invalid(`perGroup.concurrency must be a positive integer, got ${n}`);
  }
  if (concurrency === undefined && rate === undefined && perGroup === undefined)
    invalid("limits need concurrency, rate or perGroup (or null to remove them)");
}

/** Starts left in the kind's current rate window (Infinity without a rate limit). */
function startsLeft(row: KindLimitRow, now: number): number {
  if (row.rate_limit === null || row.rate_interval_ms === null) return Number.POSITIVE_INFINITY;
  const current = now < Number(row.window_start) + Number(row.rate_interval_ms);
  return Math.max(0, row.rate_limit - (current ? row.window_count : 0));
}

/**
 * Whether a take needs the kind's running tasks counted (the `running` map of `allowances`): only
 * under a concurrency limit, while not paused; `slotsLeft` reads no count otherwise.
 */
export function countsRunning(row: KindLimitRow): boolean {
  return row.concurrency !== null && row.paused_at === null;
}

/** Slots left under the kind's concurrency (Infinity without one); none while it is paused. */
function slotsLeft(row: KindLimitRow, running: number): number {
  if (row.paused_at !== null) return 0;
  return row.concurrency === null ? Number.POSITIVE_INFINITY : Math.max(0, row.concurrency - running);
}

/**
 * How many tasks of each limited or capped kind a take may start: the least of `limit`, the
 * caller's own cap for the kind (`perKind`, a worker's per-process limit), the slots left under
 * the kind's concurrency, and the starts left in its rate window. Kinds not in the map: `limit`.
 */
export function allowances(
  limit: number,
  rows: readonly KindLimitRow[],
  running: ReadonlyMap<string, number>,
  now: number,
  perKind: Readonly<Record<string, number>> = {},
): Map<string, number> {
  const allow = new Map<string, number>();
  for (const [kind, cap] of Object.entries(perKind)) allow.set(kind, Math.max(0, Math.min(limit, cap)));
  for (const row of rows) {
    const left = Math.min(
      slotsLeft(row, running.get(row.kind) ?? 0),
      startsLeft(row, now),
      breakerSlots(row, now),
    );
    allow.set(row.kind, Math.min(allow.get(row.kind) ?? limit, left));
  }
  return allow;
}

/** The lease of the tasks a grouped kind's take takes (group-take.ts, on each driver). */
export interface GroupTakeLease {
  /** The take's time, epoch ms: the tasks' start. */
  readonly now: number;
  readonly owner: string;
  /** How long the lease lasts, ms. */
  readonly leaseMs: number;
}

/**
 * How a take that serves grouped kinds (§5.3) and other kinds too splits its `limit`, so neither
 * side starves the other: the other kinds are taken first with `limit` less the grouped kinds'
 * share, the grouped kinds then get what is left, and the other kinds what the grouped kinds left
 * of their share. The share is the grouped kinds' part of the kinds served (a worker serving every
 * kind counts the others as one kind), its fractions carried from take to take (so a take of 1
 * alternates). One per store: the carry is its only state.
 */
export class GroupedShare {
  #carry = 0;

  /** The grouped kinds' share of a take of `limit` serving `grouped` grouped and `ordinary` other kinds. */
  of(limit: number, grouped: number, ordinary: number): number {
    if (grouped === 0) return 0;
    if (ordinary === 0) return limit;
    const exact = this.#carry + (limit * grouped) / (grouped + ordinary);
    const share = Math.min(limit, Math.floor(exact));
    this.#carry = exact - share;
    return share;
  }
}

/**
 * How many of a take's `left` tasks the `i`-th of `count` grouped kinds may take: an even part of
 * what is left (the later kinds get what earlier ones left), no more than its allowance.
 */
export function groupedPart(left: number, i: number, count: number, allowance: number): number {
  return Math.min(Math.ceil(left / (count - i)), allowance);
}

/** The rate windows after a take that started `taken` tasks of each kind: [kind, start, count] of each changed. */
export function windowsAfter(
  rows: readonly KindLimitRow[],
  taken: ReadonlyMap<string, number>,
  now: number,
): [kind: string, windowStart: number, windowCount: number][] {
  const changed: [string, number, number][] = [];
  for (const row of rows) {
    const n = taken.get(row.kind) ?? 0;
    if (n === 0 || row.rate_limit === null || row.rate_interval_ms === null) continue;
    const current = now < Number(row.window_start) + Number(row.rate_interval_ms);
    changed.push(current ? [row.kind, Number(row.window_start), row.window_count + n] : [row.kind, now, n]);
  }
  return changed;
}

/**
 * When a limited kind may start a task again: `now` when it may, the end of its rate window
 * when that is used up, or of its open breaker's cool-down (or its probe's hold), whichever is
 * later; null when its concurrency is full (a task of it must finish first) or it is paused (a
 * resume frees it).
 */
export function openAgainAt(row: KindLimitRow, running: number, now: number): number | null {
  if (slotsLeft(row, running) === 0) return null;
  const breakerAt = breakerFreeAt(row, now);
  if (startsLeft(row, now) === 0)
    return Math.max(Number(row.window_start) + Number(row.rate_interval_ms), breakerAt);
  return breakerAt;
}

/**
 * When a task of these kinds may start first (epoch ms): each kind's earliest due time, no
 * earlier than when its limits let it start one again; a kind whose concurrency is full is left
 * out (a finish frees it, not the clock). `due`: kind → its earliest queued task's run time.
 * null: none may start by the clock.
 */
export function earliestStart(
  due: Iterable<readonly [kind: string, at: number]>,
  limits: ReadonlyMap<string, KindLimitState>,
): number | null {
  let earliest: number | null = null;
  for (const [kind, at] of due) {
    const state = limits.get(kind);
    if (state?.heldBack === "concurrency" || state?.heldBack === "paused") continue;
    const start = Math.max(at, state?.openAgainAt ?? at);
    if (earliest === null || start < earliest) earliest = start;
  }
  return earliest;
}

/** A limits row as the contract reads it. */
export function toKindLimitState(row: KindLimitRow, running: number, now: number): KindLimitState {
  const rate =
    row.rate_limit === null || row.rate_interval_ms === null
      ? null
      : { limit: row.rate_limit, intervalMs: Number(row.rate_interval_ms) };
  const current = rate !== null && now < Number(row.window_start) + rate.intervalMs;
  const at = openAgainAt(row, running, now);
  const breaker = toBreakerState(row, now);
  const heldBack =
    row.paused_at !== null
      ? "paused"
      : at === null
        ? "concurrency"
        : breakerSlots(row, now) === 0
          ? "breaker"
          : at > now
            ? "rate"
            : null;
  return {
    kind: row.kind,
    concurrency: row.concurrency,
    rate,
    perGroup: row.per_group_concurrency == null ? null : { concurrency: row.per_group_concurrency },
    paused: row.paused_at !== null,
    pausedAt: row.paused_at === null ? null : Number(row.paused_at),
    running,
    startsInWindow: current ? row.window_count : 0,
    breaker,
    heldBack,
    openAgainAt: at !== null && at > now ? at : null,
  };
}

/**
 * A kind's limits and where it stands against them now. A paused kind, or one with a breaker, is
 * listed whether or not it has limits (a pause is a limit of zero).
 */
export interface KindLimitState {
  readonly kind: string;
  readonly concurrency: number | null;
  readonly rate: RateLimit | null;
  /** Each group's cap (a grouped kind, §5.3), or null: the kind is not grouped. */
  readonly perGroup: PerGroupLimits | null;
  /** Paused across the fleet (pauseKind): no worker takes its tasks until resumeKind. */
  readonly paused: boolean;
  /** Since when it is paused, epoch ms by the store's clock; null when it runs. */
  readonly pausedAt: number | null;
  /** Its circuit breaker (setBreaker) and where it stands; null when it has none. */
  readonly breaker: BreakerState | null;
  /** Tasks of the kind running now, in every worker. */
  readonly running: number;
  /** Starts in the current rate window. */
  readonly startsInWindow: number;
  /**
   * Why its due tasks wait now (a reason, not a count): it is paused, its concurrency is full,
   * its breaker is open (or its one probe runs), its rate window is used up, or null (nothing
   * holds it back).
   */
  readonly heldBack: "paused" | "concurrency" | "breaker" | "rate" | null;
  /**
   * When its rate window or its breaker lets it start a task again (epoch ms), while one holds it
   * back; null otherwise (free now, or full: a finish frees it).
   */
  readonly openAgainAt: number | null;
}
