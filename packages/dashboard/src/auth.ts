import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AttemptLimit, clientKey, type Refusal } from "./attempt-limit.js";

/** The cookie a sign-in sets: a random session id, never the token. */
export const SESSION_COOKIE = "taskq_dashboard";
/** The form field every POST from a page carries. */
export const CSRF_FIELD = "_csrf";
/** How long a sign-in lasts. */
export const SESSION_MS = 12 * 3_600_000;
/** Sessions kept at most (the oldest go first): a bound on memory, whatever signs in. */
const MAX_SESSIONS = 10_000;

/** Compares two strings in time independent of where they differ, and of their lengths. */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * How a request is let in: a session cookie (a browser), the bearer token (a script), or freely;
 * or not: `limited` when its client (or everyone) is locked out of trying tokens for a while.
 */
export type Access = "session" | "bearer" | "open" | "denied" | "limited";

/**
 * Who may look and act. With a token: a session started by signing in with it (a random id in
 * an HttpOnly cookie, ended by signing out or after SESSION_MS), or `Authorization: Bearer
 * <token>` (a script: no cookie, no CSRF token needed, since a browser never adds that header by
 * itself). Without a token: anyone who reaches it (loopback only, see the host check). Every
 * form carries a CSRF token derived from its session by a secret of this process. Sessions live
 * in this process: dashboards behind a load balancer need sticky sessions (or bearer tokens).
 * Every token tried (a sign-in or a bearer header) goes through an AttemptLimit: too many wrong
 * ones from a client, or from everyone, and tokens are refused unread for a while (see
 * attempt-limit.ts); a session already signed in is not affected.
 */
export class Guard {
  readonly #token: string | undefined;
  readonly #sessions = new Map<string, number>();
  readonly #secret = randomBytes(32);
  readonly #now: () => number;
  readonly #limit: AttemptLimit;

  constructor(token: string | undefined, now: () => number = Date.now) {
    this.#token = token;
    this.#now = now;
    this.#limit = new AttemptLimit(now);
  }

  /** Checks a token tried by `client` (an address, null when unseen) against the limit. */
  #try(candidate: string, client: string | null): Refusal | undefined {
    const key = clientKey(client);
    const waitMs = this.#limit.waitMs(key);
    if (waitMs > 0) return { limited: true, failures: 0, waitMs };
    if (this.#token !== undefined && same(candidate, this.#token)) {
      this.#limit.succeed(key);
      return undefined;
    }
    return { limited: false, ...this.#limit.fail(key) };
  }

  /** How long (ms) before `client` may try a token again: 0 when it may now. */
  waitMs(client: string | null): number {
    return this.#limit.waitMs(clientKey(client));
  }

  /** The CSRF token of the forms a session's pages carry (one per session; "" before sign-in). */
  csrfFor(session: string | undefined): string {
    return createHmac("sha256", this.#secret)
      .update(session ?? "")
      .digest("base64url");
  }

  get protected(): boolean {
    return this.#token !== undefined;
  }

  /** A new session id for a correct token from `client`, or why it was refused. */
  login(candidate: string, client: string | null): { readonly session: string } | Refusal {
    if (this.#token === undefined) return { limited: false, failures: 0, waitMs: 0 };
    const refused = this.#try(candidate, client);
    if (refused !== undefined) return refused;
    const id = randomBytes(32).toString("base64url");
    this.#sessions.set(id, this.#now() + SESSION_MS);
    if (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    return { session: id };
  }

  logout(session: string | undefined): void {
    if (session !== undefined) this.#sessions.delete(session);
  }

  /**
   * How a request from `client` with this cookie and Authorization header is let in. A bearer
   * token is counted against the limit (`refused` is told of a wrong or unread one), so call this
   * once a request.
   */
  access(
    session: string | undefined,
    authorization: string | undefined,
    client: string | null,
    refused: (refusal: Refusal) => void = () => undefined,
  ): Access {
    if (this.#token === undefined) return "open";
    const bearer = authorization?.match(/^Bearer +(.+)$/i)?.[1];
    if (bearer !== undefined) {
      const refusal = this.#try(bearer, client);
      if (refusal === undefined) return "bearer";
      refused(refusal);
      return refusal.limited ? "limited" : "denied";
    }
    return this.signedIn(session) ? "session" : "denied";
  }

  /** Whether `session` is a live session of this dashboard (no token is tried). */
  signedIn(session: string | undefined): boolean {
    if (this.#token === undefined || session === undefined) return false;
    const expires = this.#sessions.get(session);
    if (expires === undefined) return false;
    if (expires <= this.#now()) {
      this.#sessions.delete(session);
      return false;
    }
    return true;
  }

  csrfValid(candidate: unknown, session: string | undefined): boolean {
    return typeof candidate === "string" && same(candidate, this.csrfFor(session));
  }
}
