import { isIP } from "node:net";
import type { Context } from "hono";
import { DashboardHttpError } from "./http-error.js";

/**
 * How many wrong tokens (sign-ins and bearer headers) are let through before the dashboard stops
 * looking at tokens: per client within a window, and from everyone together.
 */
export const ATTEMPT_LIMITS = {
  /** Wrong tokens from one client (an address; an IPv6 /64) within `windowMs` of its first. */
  perClient: 10,
  /** Wrong tokens from all clients together within `windowMs` of the first. */
  overall: 100,
  /** The window the failures are counted in, and how long a lockout then lasts (15 minutes). */
  windowMs: 15 * 60_000,
  /** Clients remembered at most (the longest quiet go first): a bound on memory. */
  maxClients: 10_000,
} as const;

export type AttemptLimits = { readonly [K in keyof typeof ATTEMPT_LIMITS]: number };

/** Failures counted since `since`; a lockout until `lockedUntil` (0: none). */
interface Window {
  failures: number;
  since: number;
  lockedUntil: number;
}

/**
 * The key a client's failures are counted under: its address (IPv4-mapped IPv6 as IPv4), an IPv6
 * address by its /64 (one host holds a whole /64), `unknown` when the socket cannot be seen.
 */
export function clientKey(address: string | null | undefined): string {
  if (typeof address !== "string" || address === "") return "unknown";
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "").replace(/%.*$/, "");
  if (isIP(bare) !== 6) return bare;
  const [head = "", tail] = bare.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * The lockouts of clients that keep sending wrong tokens. A client's wrong tokens are counted in
 * a window that opens with its first; at `perClient` of them it is locked out for `windowMs`, and
 * then starts afresh. All clients' wrong tokens are counted the same way against `overall`, which
 * locks out everyone's token attempts (sessions already signed in carry on). A right token clears
 * its client's count, never the overall one. The time is `now`'s, so tests need not wait.
 */
export class AttemptLimit {
  readonly #clients = new Map<string, Window>();
  #overall: Window = { failures: 0, since: 0, lockedUntil: 0 };
  readonly #now: () => number;
  readonly #limits: AttemptLimits;

  constructor(now: () => number = Date.now, limits: AttemptLimits = ATTEMPT_LIMITS) {
    this.#now = now;
    this.#limits = limits;
  }

  /** The clients remembered now (at most `maxClients`). */
  get size(): number {
    return this.#clients.size;
  }

  /** How long (ms) before `client` may try a token again: 0 when it may now. */
  waitMs(client: string): number {
    const now = this.#now();
    const own = this.#clients.get(client)?.lockedUntil ?? 0;
    return Math.max(0, own - now, this.#overall.lockedUntil - now);
  }

  /** Counts a wrong token from `client`: its wrong tokens in its window, and its wait now (0: none). */
  fail(client: string): { readonly failures: number; readonly waitMs: number } {
    const now = this.#now();
    const { perClient, overall, windowMs, maxClients } = this.#limits;
    const own = this.#current(this.#clients.get(client), now);
    // the map is kept in the order of each client's latest failure: the oldest go first
    this.#clients.delete(client);
    this.#clients.set(client, own);
    for (const [key, window] of this.#clients) {
      const passed = this.#current(window, now) !== window;
      if (key === client || (!passed && this.#clients.size <= maxClients)) break;
      this.#clients.delete(key);
    }
    own.failures++;
    if (own.failures >= perClient) own.lockedUntil = now + windowMs;
    this.#overall = this.#current(this.#overall, now);
    this.#overall.failures++;
    if (this.#overall.failures >= overall) this.#overall.lockedUntil = now + windowMs;
    return { failures: own.failures, waitMs: this.waitMs(client) };
  }

  /** A right token from `client`: its count starts afresh (the overall count does not). */
  succeed(client: string): void {
    this.#clients.delete(client);
  }

  /** The window still counting at `now`, or a fresh one when it (and its lockout) has passed. */
  #current(window: Window | undefined, now: number): Window {
    if (window !== undefined && (now < window.since + this.#limits.windowMs || now < window.lockedUntil))
      return window;
    return { failures: 0, since: now, lockedUntil: 0 };
  }
}

/** A token refused: the client's wrong tokens in its window, and how long before it may try again. */
export interface Refusal {
  /** Refused without looking at the token: the client, or everyone, is locked out (429). */
  readonly limited: boolean;
  /** The client's wrong tokens in its current window (this one included; 0 when `limited`). */
  readonly failures: number;
  /** Milliseconds before the client may try a token again (0: it still may). */
  readonly waitMs: number;
}

/** What the log says of a wrong token: how many from its client, the lockout it started; never the token. */
export function refusalFields(refusal: Refusal): Record<string, unknown> {
  return {
    ok: false,
    failures: refusal.failures,
    ...(refusal.waitMs > 0 ? { lockedForS: Math.ceil(refusal.waitMs / 1000) } : {}),
  };
}

/** The 429 a locked-out client gets, with `Retry-After` (whole seconds) set on the response. */
export function tooManyAttempts(c: Context, waitMs: number): DashboardHttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  c.header("retry-after", String(seconds));
  return new DashboardHttpError(
    429,
    `too many wrong tokens: token attempts from here are refused for ${Math.ceil(seconds / 60)} more minute${seconds > 60 ? "s" : ""}`,
  );
}
