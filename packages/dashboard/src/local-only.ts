import type { Context } from "hono";
import { forwardedClients } from "./forwarded-clients.js";
import { DashboardHttpError } from "./http-error.js";
import { isLoopback } from "./loopback.js";
import { remoteOf } from "./middleware.js";
import type { DashboardLogger } from "./options.js";

/**
 * The check of a dashboard without a token: it serves this machine only, so a request is refused
 * (403, one line) unless all of these hold:
 * - it is addressed to a loopback name (`localhost`, 127.0.0.1, `::1`): a web page cannot reach it
 *   through a name of its own that resolves to 127.0.0.1 (DNS rebinding);
 * - its socket is seen, and comes from loopback: mounted where the socket cannot be seen (a
 *   wrapper that calls `fetch(request)` without @hono/node-server's `env`), anyone could send
 *   `Host: localhost`, so it refuses everything and says what to do;
 * - no proxy names a client elsewhere: a same-host proxy that rewrites `Host` makes a remote
 *   request look local, so any hop of `X-Forwarded-For`, `Forwarded: for=` or `X-Real-IP` that
 *   is not loopback (an `unknown` or hidden one too) is refused, and logged. Whatever proxies the
 *   options trust for https: this mode is for loopback only.
 *
 * A proxy that forwards a remote client without saying so cannot be told from a local one: such
 * a dashboard needs a token.
 */
export function localOnly(logger: DashboardLogger): (c: Context) => void {
  let blindLogged = false;
  return (c) => {
    if (!isLoopback(new URL(c.req.url).hostname))
      throw new DashboardHttpError(
        403,
        "this dashboard has no token, so it answers requests to localhost or 127.0.0.1 from this machine only (set a token to serve others)",
      );
    const { remote, forwardedFor } = remoteOf(c);
    if (remote === null) {
      if (!blindLogged)
        logger.info(
          { component: "dashboard", level: "warn", refused: "no-socket", path: c.req.path },
          "dashboard: refused a request: without a token it must see the socket (pass @hono/node-server's env to fetch)",
        );
      blindLogged = true;
      throw new DashboardHttpError(
        403,
        "this dashboard has no token and cannot see the request's socket, so it cannot tell this machine from another: set a token, or pass the socket to its fetch (fetch(request, { incoming: req }), as @hono/node-server does)",
      );
    }
    if (!isLoopback(remote))
      throw new DashboardHttpError(
        403,
        "this dashboard has no token, so it answers requests to localhost or 127.0.0.1 from this machine only (set a token to serve others)",
      );
    const elsewhere = forwardedClients(c.req.raw.headers).find((address) => !isLoopback(address));
    if (elsewhere !== undefined) {
      logger.info(
        {
          component: "dashboard",
          level: "warn",
          refused: "forwarded",
          client: elsewhere.slice(0, 100),
          remote,
          forwardedFor,
          forwarded: c.req.header("forwarded")?.slice(0, 200) ?? null,
          method: c.req.method,
          path: c.req.path,
        },
        "dashboard: refused a request a proxy forwarded from another machine (no token: loopback only)",
      );
      throw new DashboardHttpError(
        403,
        `this dashboard has no token, so it serves this machine only, and a proxy says this request came from ${JSON.stringify(elsewhere.slice(0, 60))} (set a token to serve others)`,
      );
    }
  };
}
