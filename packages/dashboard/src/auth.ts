import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The cookie a login sets: a digest of the token, never the token itself. */
export const SESSION_COOKIE = "taskq_dashboard";
/** The form field every POST carries. */
export const CSRF_FIELD = "_csrf";

function digest(secret: string | Buffer, purpose: string): string {
  return createHmac("sha256", secret).update(purpose).digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who may look and act. With a token: a session cookie holding a digest of it, or
 * `Authorization: Bearer <token>`. The CSRF token every form carries is derived from the token
 * (so dashboards behind one load balancer agree), else from a secret of this process.
 */
export class Guard {
  readonly #token: string | undefined;
  readonly #session: string | undefined;
  readonly csrfToken: string;

  constructor(token: string | undefined) {
    this.#token = token;
    this.#session = token === undefined ? undefined : digest(token, "session");
    this.csrfToken = digest(token ?? randomBytes(32), "csrf");
  }

  get protected(): boolean {
    return this.#token !== undefined;
  }

  /** The cookie value a correct login gets, or undefined for a wrong token. */
  login(candidate: string): string | undefined {
    return this.#token !== undefined && same(candidate, this.#token) ? this.#session : undefined;
  }

  /** Whether a request with this cookie and Authorization header may look and act. */
  allows(cookie: string | undefined, authorization: string | undefined): boolean {
    if (this.#token === undefined || this.#session === undefined) return true;
    if (cookie !== undefined && same(cookie, this.#session)) return true;
    const bearer = authorization?.match(/^Bearer (.+)$/)?.[1];
    return bearer !== undefined && same(bearer, this.#token);
  }

  csrfValid(candidate: unknown): boolean {
    return typeof candidate === "string" && same(candidate, this.csrfToken);
  }
}
