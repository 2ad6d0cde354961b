import { isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { tooManyAttempts } from "./attempt-limit.js";
import { type Access, CSRF_FIELD, type Guard } from "./auth.js";
import { DashboardHttpError } from "./http-error.js";
import { localOnly } from "./local-only.js";
import type { DashboardLogger } from "./options.js";
import { formOf } from "./routes/route-context.js";
import { cameOverHttps, type TrustedProxies } from "./trust-proxy.js";

/** The largest form a POST may send (1,000 seqs take about 12 KB). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Where a request came from, for the log: the socket's address (null when it cannot be seen), and
 * a proxy's header if any.
 */
export function remoteOf(c: Context): { remote: string | null; forwardedFor: string | null } {
  let remote: string | null = null;
  try {
    remote = getConnInfo(c).remote.address ?? null;
  } catch {
    // not served by @hono/node-server (mounted elsewhere, or a test's fetch): no socket to name
  }
  return { remote, forwardedFor: c.req.header("x-forwarded-for") ?? null };
}

/**
 * The address a request's token attempts are counted against (the sign-in limit): the socket's
 * peer, null when it cannot be seen; behind proxies named in `trustProxy`, the client they name:
 * `X-Forwarded-For` read from its right end, past every trusted hop (a client can write the hops
 * to the left of its own, never the one its first trusted proxy appends).
 */
export function clientOf(c: Context, proxies?: TrustedProxies): string | null {
  const remote = remoteOf(c).remote;
  if (!proxies?.trusts(remote)) return remote;
  const hops = (c.req.header("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(hop) === 0) return remote; // a hop that is no address: not believed, the proxy counts
    if (!proxies.trusts(hop)) return hop;
  }
  return remote;
}

/**
 * What runs before every route of the dashboard's own paths, in order: security headers (a CSP
 * that allows no inline script, no framing), the loopback check of a dashboard without a token,
 * the body limit, and the same-origin check of form posts.
 */
export function openMiddleware(
  accessOf: (c: Context) => Access,
  guard: Guard,
  headers: MiddlewareHandler,
  logger: DashboardLogger,
  proxies: TrustedProxies,
): MiddlewareHandler[] {
  // Cross-site form posts are refused by their Origin (a script with the bearer token is exempt:
  // a browser never sends that header by itself). Behind a trusted proxy that says https, the
  // page's origin is https although this process was asked over http.
  const sameOrigin = csrf({
    origin: (origin, c) => {
      const url = new URL(c.req.url);
      if (origin === url.origin) return true;
      return (
        url.protocol === "http:" &&
        cameOverHttps(c, proxies, remoteOf(c).remote) &&
        origin === `https://${url.host}`
      );
    },
  });
  const checkLocal = localOnly(logger);
  return [
    headers,
    // Without a token, the dashboard serves this machine only (local-only.ts): requests addressed
    // to a loopback name (no DNS rebinding), from a loopback socket it can see, that no proxy
    // says came from elsewhere.
    async (c, next) => {
      if (!guard.protected) checkLocal(c);
      await next();
    },
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new DashboardHttpError(413, `a form of more than ${MAX_BODY_BYTES / 1024} KB was refused`);
      },
    }),
    (c, next) => {
      const access = accessOf(c);
      // a client locked out of trying tokens: 429 with Retry-After, whatever the token it sent
      if (access === "limited") throw tooManyAttempts(c, guard.waitMs(clientOf(c, proxies)));
      return access === "bearer" ? next() : sameOrigin(c, next);
    },
  ];
}

/**
 * The guard of everything but the sign-in: the token when one is set (a page is sent to sign in,
 * an API call gets a 401), and every POST from a page its CSRF token.
 */
export function guardMiddleware(
  accessOf: (c: Context) => Access,
  sessionOf: (c: Context) => string | undefined,
  guard: Guard,
  base: string,
): MiddlewareHandler {
  return async (c, next) => {
    const access = accessOf(c);
    if (access === "denied" || access === "limited") {
      if (c.req.method === "GET" && !c.req.path.startsWith(`${base}/api/`))
        return c.redirect(`${base}/login`, 302);
      throw new DashboardHttpError(401, "this needs the dashboard token: sign in first");
    }
    if (c.req.method === "POST" && access !== "bearer") {
      const body = await formOf(c);
      if (!guard.csrfValid(body[CSRF_FIELD], access === "session" ? sessionOf(c) : undefined))
        throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    }
    await next();
  };
}
