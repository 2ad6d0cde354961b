// A circuit breaker per kind across the fleet (issue 34), one meaning for both drivers. Kept in
// the kind's kind_limits row beside its limits and its pause, so every take already reads it in its
// transaction (locked, on PostgreSQL): an open breaker is a limit of zero, a half-open one a limit
// of one probe. The statement that ends a failed attempt counts it (SQLite: breakerAfter below;
// PostgreSQL: the same rules in task_turn's `tripped`), only for a kind that has a breaker.
import { invalid } from "./validate.js";

/** Which failures a breaker counts: see BreakerOptions.countErrors. */
export type BreakerCount = "retryable" | "all" | readonly string[];

/** A kind's circuit breaker (setBreaker). */
export interface BreakerOptions {
  /** Opens after this many counted failures within `windowMs` (a positive integer). */
  readonly failures: number;
  /**
   * The window the failures are counted in, ms: a fixed window that starts at its first counted
   * failure.
   * @default 60000
   */
  readonly windowMs?: number;
  /**
   * How long it stays open before it lets one probe through (half-open), ms.
   * @default 30000
   */
  readonly cooldownMs?: number;
  /**
   * Which failed attempts count: `"retryable"` (transient errors, timeouts, a handler's crash in
   * its thread or process: what would be retried, including a last attempt), `"all"`, or a list of
   * error classes. Only attempts whose failure a worker records (retry, fail) are counted: not an
   * attempt lost with its worker (a lease's reclaim puts its task back, or dead-letters it as
   * `lease_expired`), a task handed back (release), or a cancellation.
   * @default "retryable"
   */
  readonly countErrors?: BreakerCount;
  /**
   * Also opens when this share (above 0, at most 1) of the window's ended attempts (successes and
   * counted failures) failed, once there are `minAttempts` of them. Counting successes writes the
   * kind's row as its tasks succeed (the count mode alone writes it on failures only).
   * @default none (the count mode alone)
   */
  readonly ratio?: number;
  /**
   * The fewest ended attempts in the window before `ratio` may open it (an integer from 1).
   * @default 20
   */
  readonly minAttempts?: number;
}

export const DEFAULT_BREAKER_WINDOW_MS = 60_000;
export const DEFAULT_BREAKER_COOLDOWN_MS = 30_000;
export const DEFAULT_BREAKER_MIN_ATTEMPTS = 20;

const ERROR_CLASS = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The breaker columns of a kind_limits row. */
export interface BreakerRow {
  /** NULL: the kind has no breaker. */
  breaker_failures: number | null;
  breaker_window_ms: number | null;
  breaker_cooldown_ms: number | null;
  /** NULL: retryable failures count; '*': every failure; else a comma-separated list of classes. */
  breaker_errors: string | null;
  /** NULL: the count mode alone. */
  breaker_ratio: number | null;
  breaker_min_attempts: number | null;
  breaker_window_start: number;
  breaker_count: number;
  /** Ended attempts in the window (successes of a ratio breaker's kind, and counted failures). */
  breaker_attempts: number;
  /** Since when it is open (epoch ms); NULL: closed. */
  breaker_opened_at: number | null;
  /** The probe let through while half-open (its task's seq). */
  breaker_probe_seq: number | null;
  /**
   * Until when the probe holds the probe slot: its task's lease expiry while that task runs, read
   * with the row (the statements that read a row for a take or a listing derive it; the stored
   * column of migration 016 is no longer written). NULL: the probe ended, or its task is no longer
   * running. A probe that runs long keeps the slot as its worker renews its lease; a dead worker's
   * probe frees it once its lease expires.
   */
  breaker_probe_until: number | null;
}

/** A breaker's settings as the statements store them. */
export interface BreakerParams {
  readonly breaker_failures: number;
  readonly breaker_window_ms: number;
  readonly breaker_cooldown_ms: number;
  readonly breaker_errors: string | null;
  readonly breaker_ratio: number | null;
  readonly breaker_min_attempts: number | null;
}

/** Checks a breaker's options (ERR_INVALID_INPUT naming the option) and gives its stored form. */
export function breakerParams(options: BreakerOptions): BreakerParams {
  if (options === null || typeof options !== "object")
    invalid("breaker options must be an object, or null to remove it");
  const {
    failures,
    windowMs = DEFAULT_BREAKER_WINDOW_MS,
    cooldownMs = DEFAULT_BREAKER_COOLDOWN_MS,
  } = options;
  const count = options.countErrors ?? "retryable";
  if (!Number.isInteger(failures) || failures < 1 || failures > 1_000_000)
    invalid(`failures must be an integer from 1 to 1000000, got ${failures}`);
  if (!Number.isInteger(windowMs) || windowMs < 1)
    invalid(`windowMs must be a positive integer, got ${windowMs}`);
  if (!Number.isInteger(cooldownMs) || cooldownMs < 1)
    invalid(`cooldownMs must be a positive integer, got ${cooldownMs}`);
  let errors: string | null;
  if (count === "retryable") errors = null;
  else if (count === "all") errors = "*";
  else if (
    Array.isArray(count) &&
    count.length > 0 &&
    count.every((c) => typeof c === "string" && ERROR_CLASS.test(c))
  )
    errors = count.join(",");
  else
    invalid(
      `countErrors must be "retryable", "all" or a non-empty list of error classes (letters, digits, _ . : -), got ${JSON.stringify(count)}`,
    );
  const { ratio } = options;
  if (ratio !== undefined && !(typeof ratio === "number" && ratio > 0 && ratio <= 1))
    invalid(`ratio must be a number above 0 and at most 1, got ${JSON.stringify(ratio)}`);
  const minAttempts = options.minAttempts ?? DEFAULT_BREAKER_MIN_ATTEMPTS;
  if (!Number.isInteger(minAttempts) || minAttempts < 1 || minAttempts > 1_000_000)
    invalid(`minAttempts must be an integer from 1 to 1000000, got ${minAttempts}`);
  if (options.minAttempts !== undefined && ratio === undefined) invalid("minAttempts goes with ratio");
  return {
    breaker_failures: failures,
    breaker_window_ms: windowMs,
    breaker_cooldown_ms: cooldownMs,
    breaker_errors: errors,
    breaker_ratio: ratio ?? null,
    breaker_min_attempts: ratio === undefined ? null : minAttempts,
  };
}

/** Whether a breaker that stores `errors` counts a failure of `errorClass`. */
export function counts(errors: string | null, errorClass: string, retryable: boolean): boolean {
  if (errors === null) return retryable;
  if (errors === "*") return true;
  return errors.split(",").includes(errorClass);
}

/** A kind's breaker and where it stands now (kindLimits, breakers). */
export interface BreakerState {
  readonly failures: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  readonly countErrors: BreakerCount;
  /** The failure ratio that also opens it, and the fewest ended attempts it needs; null: the count mode alone. */
  readonly ratio: number | null;
  readonly minAttempts: number | null;
  /**
   * `closed`: its tasks run, failures are counted; `open`: its tasks stay queued until the
   * cool-down ends; `half-open`: one probe may run (or runs: `probeSeq`), whose success closes it
   * and whose counted failure opens it again.
   */
  readonly state: "closed" | "open" | "half-open";
  /** Counted failures in the current window (while closed). */
  readonly failuresInWindow: number;
  /** Ended attempts in the current window (while closed; successes are counted with a ratio only). */
  readonly attemptsInWindow: number;
  /** Since when it is open or half-open, epoch ms by the store's clock; null when closed. */
  readonly openedAt: number | null;
  /** When it lets a probe through (epoch ms), while open; null otherwise. */
  readonly halfOpenAt: number | null;
  /** The probe running now (its task's seq), while half-open; null otherwise. */
  readonly probeSeq: number | null;
}

/** The breaker of a row as the contract reads it; null when the kind has none. */
export function toBreakerState(row: BreakerRow, now: number): BreakerState | null {
  if (row.breaker_failures === null) return null;
  const windowMs = Number(row.breaker_window_ms);
  const cooldownMs = Number(row.breaker_cooldown_ms);
  const opened = row.breaker_opened_at === null ? null : Number(row.breaker_opened_at);
  const errors = row.breaker_errors;
  const halfOpen = opened !== null && now >= opened + cooldownMs;
  const inWindow = opened === null && now < Number(row.breaker_window_start) + windowMs;
  return {
    failures: row.breaker_failures,
    windowMs,
    cooldownMs,
    countErrors: errors === null ? "retryable" : errors === "*" ? "all" : errors.split(","),
    ratio: row.breaker_ratio === null ? null : Number(row.breaker_ratio),
    minAttempts: row.breaker_min_attempts,
    state: opened === null ? "closed" : halfOpen ? "half-open" : "open",
    failuresInWindow: inWindow ? row.breaker_count : 0,
    attemptsInWindow: inWindow ? row.breaker_attempts : 0,
    openedAt: opened,
    halfOpenAt: opened !== null && !halfOpen ? opened + cooldownMs : null,
    probeSeq: halfOpen && probeHolds(row, now) ? Number(row.breaker_probe_seq) : null,
  };
}

function probeHolds(row: BreakerRow, now: number): boolean {
  return (
    row.breaker_probe_seq !== null &&
    row.breaker_probe_until !== null &&
    now < Number(row.breaker_probe_until)
  );
}

/**
 * Starts the breaker lets through now: Infinity when closed (or none), 0 while open or while a
 * live probe runs (its task running under a lease that has not expired), 1 when half-open with no
 * probe (or a stale one: its worker died and its lease expired).
 */
export function breakerSlots(row: BreakerRow, now: number): number {
  if (row.breaker_failures === null || row.breaker_opened_at === null) return Number.POSITIVE_INFINITY;
  if (now < Number(row.breaker_opened_at) + Number(row.breaker_cooldown_ms)) return 0;
  return probeHolds(row, now) ? 0 : 1;
}

/** When the breaker lets a task through again by the clock: `now` when it does. */
export function breakerFreeAt(row: BreakerRow, now: number): number {
  if (breakerSlots(row, now) > 0) return now;
  const halfOpenAt = Number(row.breaker_opened_at) + Number(row.breaker_cooldown_ms);
  return now < halfOpenAt ? halfOpenAt : Number(row.breaker_probe_until);
}

/**
 * The probes a take let through: for each half-open kind it took a task of, [kind, seq] (the probe
 * holds the slot for as long as its task runs under a live lease: see breaker_probe_until).
 */
export function probesAfter(
  rows: readonly (BreakerRow & { kind: string })[],
  taken: readonly { kind: string; seq: number }[],
  now: number,
): [kind: string, seq: number][] {
  const probes: [string, number][] = [];
  for (const row of rows) {
    if (breakerSlots(row, now) !== 1) continue;
    const task = taken.find((t) => t.kind === row.kind);
    if (task) probes.push([row.kind, task.seq]);
  }
  return probes;
}

/**
 * The tasks a take started of kinds whose breaker has a ratio: their successes count (the store
 * that took them says so when they succeed).
 */
export function ratioTasks(
  rows: readonly (BreakerRow & { kind: string })[],
  taken: readonly { kind: string; seq: number }[],
): number[] {
  const kinds = new Set(
    rows.filter((r) => r.breaker_failures !== null && r.breaker_ratio !== null).map((r) => r.kind),
  );
  return kinds.size === 0 ? [] : taken.filter((t) => kinds.has(t.kind)).map((t) => t.seq);
}

/** Whether a closed breaker's window opens it: its count, or its ratio over enough attempts. */
function opens(row: BreakerRow, count: number, attempts: number): boolean {
  if (count >= Number(row.breaker_failures)) return true;
  return (
    row.breaker_ratio !== null &&
    attempts >= Number(row.breaker_min_attempts) &&
    count >= Number(row.breaker_ratio) * attempts
  );
}

/** What a failed attempt did to its kind's breaker. */
export type BreakerChange = "opened" | "reopened" | "probe-freed" | "closed" | "counted" | null;

/**
 * The breaker after a failed attempt of task `seq` (SQLite; PostgreSQL's task_turn writes the
 * same): a counted failure while closed counts in the window (a new window when the last one
 * ended) and opens it at `failures`; the probe's counted failure opens it again for another
 * cool-down; the probe's uncounted failure frees the probe slot (it says nothing of the kind's
 * downstream); other failures while open change nothing.
 */
export function breakerAfter<R extends BreakerRow>(
  row: R,
  seq: number,
  counted: boolean,
  now: number,
): { readonly row: R; readonly change: BreakerChange } {
  if (row.breaker_opened_at !== null) {
    if (row.breaker_probe_seq === null || Number(row.breaker_probe_seq) !== seq) return { row, change: null };
    const freed = { ...row, breaker_probe_seq: null };
    return counted
      ? { row: { ...freed, breaker_opened_at: now }, change: "reopened" }
      : { row: freed, change: "probe-freed" };
  }
  if (!counted) return { row, change: null };
  const current = now < Number(row.breaker_window_start) + Number(row.breaker_window_ms);
  const count = current ? row.breaker_count + 1 : 1;
  const attempts = current ? row.breaker_attempts + 1 : 1;
  const start = current ? Number(row.breaker_window_start) : now;
  const open = opens(row, count, attempts);
  return {
    row: {
      ...row,
      breaker_window_start: start,
      breaker_count: count,
      breaker_attempts: attempts,
      breaker_opened_at: open ? now : null,
    },
    change: open ? "opened" : "counted",
  };
}

/**
 * A closed ratio breaker after a success of its kind (SQLite; PostgreSQL's task_turn writes the
 * same): one more ended attempt in the window (a new window when the last one ended). null: it
 * changes nothing (open or half-open: a probe's success is kind_breaker_close's).
 */
export function breakerAfterSuccess<R extends BreakerRow>(row: R, now: number): R | null {
  if (row.breaker_opened_at !== null || row.breaker_ratio === null) return null;
  const current = now < Number(row.breaker_window_start) + Number(row.breaker_window_ms);
  return current
    ? { ...row, breaker_attempts: row.breaker_attempts + 1 }
    : { ...row, breaker_window_start: now, breaker_count: 0, breaker_attempts: 1 };
}

/** A breaker opened or closed by this store's turn (the worker fires its lifecycle hooks). */
export interface BreakerEvent {
  readonly kind: string;
  /** `opened`: its counted failures reached the threshold, or its probe failed; `closed`: its probe succeeded. */
  readonly state: "opened" | "closed";
  /** When, epoch ms by the store's clock. */
  readonly at: number;
}
