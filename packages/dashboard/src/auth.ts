import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

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

/** How a request is let in: a session cookie (a browser), the bearer token (a script), or freely. */
export type Access = "session" | "bearer" | "open" | "denied";

/**
 * Who may look and act. With a token: a session started by signing in with it (a random id in
 * an HttpOnly cookie, ended by signing out or after SESSION_MS), or `Authorization: Bearer
 * <token>` (a script: no cookie, no CSRF token needed, since a browser never adds that header by
 * itself). Without a token: anyone who reaches it (loopback only, see the host check). Every
 * form carries a CSRF token derived from its session by a secret of this process. Sessions live
 * in this process: dashboards behind a load balancer need sticky sessions (or bearer tokens).
 */
export class Guard {
  readonly #token: string | undefined;
  readonly #sessions = new Map<string, number>();
  readonly #secret = randomBytes(32);
  readonly #now: () => number;

  constructor(token: string | undefined, now: () => number = Date.now) {
    this.#token = token;
    this.#now = now;
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

  /** A new session id for a correct token, or undefined. */
  login(candidate: string): string | undefined {
    if (this.#token === undefined || !same(candidate, this.#token)) return undefined;
    const id = randomBytes(32).toString("base64url");
    this.#sessions.set(id, this.#now() + SESSION_MS);
    if (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    return id;
  }

  logout(session: string | undefined): void {
    if (session !== undefined) this.#sessions.delete(session);
  }

  /** How a request with this cookie and Authorization header is let in. */
  access(session: string | undefined, authorization: string | undefined): Access {
    if (this.#token === undefined) return "open";
    const bearer = authorization?.match(/^Bearer +(.+)$/i)?.[1];
    if (bearer !== undefined) return same(bearer, this.#token) ? "bearer" : "denied";
    if (session === undefined) return "denied";
    const expires = this.#sessions.get(session);
    if (expires === undefined) return "denied";
    if (expires <= this.#now()) {
      this.#sessions.delete(session);
      return "denied";
    }
    return "session";
  }

  csrfValid(candidate: unknown, session: string | undefined): boolean {
    return typeof candidate === "string" && same(candidate, this.csrfFor(session));
  }
}
