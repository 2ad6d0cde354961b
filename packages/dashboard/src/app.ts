import { redactUrl, StoreError } from "@taskq/idempotency";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { assets } from "./assets.js";
import { refusalFields } from "./attempt-limit.js";
import { type Access, Guard, SESSION_COOKIE } from "./auth.js";
import { History } from "./history.js";
import { DashboardHttpError } from "./http-error.js";
import { clientOf, guardMiddleware, openMiddleware, remoteOf } from "./middleware.js";
import { type DashboardOptions, resolveOptions } from "./options.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { kindRoutes } from "./routes/kinds.js";
import { overviewRoutes } from "./routes/overview.js";
import type { RouteContext } from "./routes/route-context.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { signInRoutes, signOutRoute } from "./routes/sign-in.js";
import { taskRoutes } from "./routes/tasks.js";
import { securityHeaders, withSecurityHeaders } from "./security-headers.js";
import { NoticeSigner } from "./signed-notice.js";
import { errorPage, type Html } from "./views/layout.js";
import { notices } from "./views/notice.js";

/** The dashboard's own paths: its middleware (headers, guard, CSRF) runs on these only. */
const OWN_PATHS = [
  "/",
  "/api/overview",
  "/api/history",
  "/api/tasks/*",
  "/assets/*",
  "/login",
  "/logout",
  "/tasks",
  "/tasks/*",
  "/dead-letters",
  "/dead-letters/*",
  "/schedules",
  "/schedules/*",
  "/kinds/*",
];

/** A mounted dashboard: a fetch handler for any server that speaks web Requests. */
export interface Dashboard {
  /**
   * The Hono app, to mount in your own Hono server with `app.route("/", dashboard.app)`: give it
   * a `basePath`, so its guard and headers apply under that path only.
   */
  readonly app: Hono;
  /** Answers one request (`getRequestListener(dashboard.fetch)` from @hono/node-server for node:http). */
  readonly fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  /** Stops the chart sampler. The client stays open: it is yours. */
  close(): void;
}

/**
 * The dashboard over a taskq client's store: overview (live counts, charts, workers, limits),
 * tasks (filters, keyset pages, search by id, key or seq, a task's page), dead letters (re-drive,
 * purge), schedules (pause, resume). Every change is a POST with a CSRF token (or a bearer
 * token), needs the token when one is set, and is logged. The routes are in routes/, one file per
 * group; this is where they are put together behind the middleware.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const o = resolveOptions(options);
  const { client, basePath: base, logger } = o;
  const store = client.store;
  const guard = new Guard(o.token, o.now);
  const history = new History(store, o.sampleMs);
  const location = redactUrl(store.location);
  const signer = new NoticeSigner();
  const headers = securityHeaders();
  // strict: false, so `/taskq` and `/taskq/` are both the overview when mounted under a path.
  const app = new Hono({ strict: false });

  const sessionOf = (c: Context) => getCookie(c, SESSION_COOKIE);
  // Once a request: a bearer token is counted against the limit on token attempts, and a wrong
  // one is logged with where it came from (never the token).
  const accessByRequest = new WeakMap<Context, Access>();
  const accessOf = (c: Context): Access => {
    let access = accessByRequest.get(c);
    if (access === undefined) {
      access = guard.access(
        sessionOf(c),
        c.req.header("authorization"),
        clientOf(c, o.trustProxy),
        (refusal) => {
          if (!refusal.limited)
            logger.info(
              { component: "dashboard", action: "bearer", ...refusalFields(refusal), ...remoteOf(c) },
              "dashboard: a request with a wrong bearer token was refused",
            );
        },
      );
      accessByRequest.set(c, access);
    }
    return access;
  };
  const r: RouteContext = {
    app,
    options: o,
    client,
    store,
    guard,
    base,
    sessionOf,
    pageOf: (c) => {
      const access = accessOf(c);
      return {
        base,
        csrf: guard.csrfFor(access === "session" ? sessionOf(c) : undefined),
        location: access === "denied" || access === "limited" ? "" : location,
        signedIn: access === "session",
        notice: noticeOf(c),
      };
    },
    render: async (c, page: Html, status = 200) => c.html(await page, status),
    logAction: (c, action, fields, message) =>
      logger.info({ component: "dashboard", action, ...fields, ...remoteOf(c) }, message),
    done: (path, what, n) =>
      `${base}${path}${path.includes("?") ? "&" : "?"}${signer.query(`${base}${path.split("?")[0]}`, what, n)}`,
  };
  // What the last action did, only when that action signed it for this page (signed-notice.ts).
  function noticeOf(c: Context): string | undefined {
    const signed = signer.verify(c.req.path, c.req.query());
    return signed === undefined ? undefined : notices(signed.done, signed.n);
  }

  // Middleware runs on the dashboard's own paths only, so mounted at "/" in your Hono app it
  // leaves your routes alone.
  const own = (...handlers: MiddlewareHandler[]) => {
    for (const path of OWN_PATHS) app.use(path, ...handlers);
  };
  own(...openMiddleware(accessOf, guard, headers, logger, o.trustProxy));

  app.get("/assets/:name", (c) => {
    const asset = assets().get(c.req.param("name"));
    if (!asset) throw new DashboardHttpError(404, "no such asset");
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=3600" });
  });
  signInRoutes(r);

  // Everything below needs the token when one is set; every POST from a page, its CSRF token.
  own(guardMiddleware(accessOf, sessionOf, guard, base));
  signOutRoute(r);
  overviewRoutes(r, history);
  taskRoutes(r);
  deadLetterRoutes(r);
  scheduleRoutes(r);
  kindRoutes(r);

  // Outside the dashboard's own paths the middleware has not run: the headers are added here.
  const notFound = async (c: Context) =>
    withSecurityHeaders(
      headers,
      c,
      await r.render(c, errorPage(r.pageOf(c), 404, `nothing at ${c.req.path}`), 404),
    );
  app.notFound(notFound);
  app.onError(async (thrown, c) => {
    const error =
      thrown instanceof HTTPException && thrown.status === 403
        ? new DashboardHttpError(
            403,
            "a form posted from another site was refused (its Origin is not this dashboard's)",
          )
        : thrown;
    if (error instanceof DashboardHttpError) {
      if (c.req.path.startsWith(`${base}/api/`)) return c.json({ error: error.message }, error.status);
      return r.render(c, errorPage(r.pageOf(c), error.status, error.message), error.status);
    }
    // A store call that failed: one line for the page, the details in the log; never a stack.
    const message =
      error instanceof StoreError
        ? `the store failed: ${error.message.split("\n")[0]}`
        : "internal error (logged)";
    logger.info(
      { component: "dashboard", level: "error", error: error.message, name: error.name, path: c.req.path },
      "dashboard: a request failed",
    );
    if (c.req.path.startsWith(`${base}/api/`)) return c.json({ error: message }, 500);
    return r.render(c, errorPage(r.pageOf(c), 500, message), 500);
  });

  const root = base === "" ? app : new Hono({ strict: false }).route(base, app);
  if (root !== app) root.notFound(notFound);
  return {
    app: root,
    fetch: (request, env) => root.fetch(request, env),
    close: () => history.close(),
  };
}
