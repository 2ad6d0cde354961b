import { getConnInfo } from "@hono/node-server/conninfo";
import { MAX_REDRIVE, redactUrl, StoreError, type TaskRecord } from "@taskq/idempotency";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { ConfigError, ScheduleNotFoundError } from "taskq";
import { assets } from "./assets.js";
import { type Access, CSRF_FIELD, Guard, SESSION_COOKIE, SESSION_MS } from "./auth.js";
import { History } from "./history.js";
import { DashboardHttpError } from "./http-error.js";
import { isLoopback } from "./loopback.js";
import { type DashboardOptions, resolveOptions } from "./options.js";
import { readOverview } from "./overview.js";
import * as params from "./params.js";
import { deadLettersPage } from "./views/dead-letters.js";
import { errorPage, type Html, type PageContext } from "./views/layout.js";
import { loginPage } from "./views/login.js";
import { notices } from "./views/notice.js";
import { overviewFragment, overviewPage } from "./views/overview.js";
import { schedulesPage } from "./views/schedules.js";
import { taskListPage, taskPage } from "./views/tasks.js";

/** Kinds searched for an idempotency key. */
const MAX_SEARCH_KINDS = 200;
/** The dashboard's own paths: its middleware (headers, guard, CSRF) runs on these only. */
const OWN_PATHS = [
  "/",
  "/api/overview",
  "/assets/*",
  "/login",
  "/logout",
  "/tasks",
  "/tasks/*",
  "/dead-letters",
  "/dead-letters/*",
  "/schedules",
  "/schedules/*",
];
/** The largest form a POST may send (1,000 seqs take about 12 KB). */
const MAX_BODY_BYTES = 64 * 1024;

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

/** Where a request came from, for the log: the socket's address, and a proxy's header if any. */
function remoteOf(c: Context): { remote: string | null; forwardedFor: string | null } {
  let remote: string | null = null;
  try {
    remote = getConnInfo(c).remote.address ?? null;
  } catch {
    // not served by @hono/node-server (mounted elsewhere, or a test's fetch): no socket to name
  }
  return { remote, forwardedFor: c.req.header("x-forwarded-for") ?? null };
}

/** The form of a POST, or a 400 when it cannot be read. */
async function formOf(c: Context): Promise<Record<string, string | File | (string | File)[]>> {
  try {
    return await c.req.parseBody({ all: true });
  } catch {
    throw new DashboardHttpError(400, "the form could not be read (send application/x-www-form-urlencoded)");
  }
}

/**
 * The dashboard over a taskq client's store: overview (live counts, charts, managers, limits),
 * tasks (filters, keyset pages, search by id, key or seq, a task's page), dead letters (re-drive,
 * purge), schedules (pause, resume). Every change is a POST with a CSRF token (or a bearer
 * token), needs the token when one is set, and is logged.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const o = resolveOptions(options);
  const { client, basePath: base, logger } = o;
  const store = client.store;
  const guard = new Guard(o.token);
  const history = new History(store, o.sampleMs);
  const location = redactUrl(store.location);
  // strict: false, so `/taskq` and `/taskq/` are both the overview when mounted under a path.
  const app = new Hono({ strict: false });

  const sessionOf = (c: Context) => getCookie(c, SESSION_COOKIE);
  const accessOf = (c: Context): Access => guard.access(sessionOf(c), c.req.header("authorization"));
  const pageOf = (c: Context): PageContext => {
    const access = accessOf(c);
    return {
      base,
      csrf: guard.csrfFor(access === "session" ? sessionOf(c) : undefined),
      location: access === "denied" ? "" : location,
      signedIn: access === "session",
      notice: notices(c.req.query("done"), c.req.query("n")),
    };
  };
  const render = async (
    c: Context,
    page: Html,
    status: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 500 = 200,
  ) => c.html(await page, status);
  const logAction = (c: Context, action: string, fields: Record<string, unknown>, message: string) =>
    logger.info({ component: "dashboard", action, ...fields, ...remoteOf(c) }, message);
  const done = (path: string, what: string, n?: number) =>
    `${base}${path}${path.includes("?") ? "&" : "?"}done=${what}${n === undefined ? "" : `&n=${n}`}`;

  // Middleware runs on the dashboard's own paths only, so mounted at "/" in your Hono app it
  // leaves your routes alone.
  const own = (...handlers: MiddlewareHandler[]) => {
    for (const path of OWN_PATHS) app.use(path, ...handlers);
  };
  own(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: "same-origin",
      // mounted in an https app, HSTS is that app's to decide (with includeSubDomains it would
      // bind the whole domain)
      strictTransportSecurity: false,
    }),
  );
  // Without a token, the dashboard answers requests addressed to this machine only: a web page
  // cannot reach it through a name that resolves to 127.0.0.1 (DNS rebinding).
  own(async (c, next) => {
    if (!guard.protected) {
      const remote = remoteOf(c).remote;
      if (
        !isLoopback(new URL(c.req.url).hostname) ||
        (remote !== null && !isLoopback(remote.replace(/^::ffff:/, "")))
      )
        throw new DashboardHttpError(
          403,
          "this dashboard has no token, so it answers requests to localhost or 127.0.0.1 from this machine only (set a token to serve others)",
        );
    }
    await next();
  });
  own(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new DashboardHttpError(413, `a form of more than ${MAX_BODY_BYTES / 1024} KB was refused`);
      },
    }),
  );
  // Cross-site form posts are refused by their Origin (a script with the bearer token is exempt:
  // a browser never sends that header by itself).
  const sameOrigin = csrf();
  own((c, next) => (accessOf(c) === "bearer" ? next() : sameOrigin(c, next)));

  app.get("/assets/:name", (c) => {
    const asset = assets().get(c.req.param("name"));
    if (!asset) throw new DashboardHttpError(404, "no such asset");
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=3600" });
  });

  app.get("/login", (c) =>
    guard.protected && accessOf(c) !== "session"
      ? render(c, loginPage(pageOf(c), false))
      : c.redirect(base || "/", 302),
  );

  app.post("/login", async (c) => {
    const body = await formOf(c);
    if (!guard.csrfValid(body[CSRF_FIELD], undefined))
      throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    const session = typeof body.token === "string" ? guard.login(body.token) : undefined;
    if (session === undefined) {
      logAction(c, "login", { ok: false }, "dashboard: a sign-in with a wrong token was refused");
      return render(c, loginPage(pageOf(c), true), 401);
    }
    setCookie(c, SESSION_COOKIE, session, {
      path: base || "/",
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: SESSION_MS / 1000,
    });
    logAction(c, "login", { ok: true }, "dashboard: signed in");
    return c.redirect(base || "/", 303);
  });

  // Everything below needs the token when one is set; every POST from a page, its CSRF token.
  const guarded: MiddlewareHandler = async (c, next) => {
    const access = accessOf(c);
    if (access === "denied") {
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
  own(guarded);

  app.post("/logout", (c) => {
    guard.logout(sessionOf(c));
    deleteCookie(c, SESSION_COOKIE, { path: base || "/" });
    return c.redirect(`${base}/login`, 303);
  });

  app.get("/", async (c) => render(c, overviewPage(pageOf(c), await readOverview(store, o.countCap))));
  app.get("/api/overview", async (c) => {
    const points = history.points();
    const data = await readOverview(store, o.countCap);
    return c.json({
      now: data.now,
      html: String(await overviewFragment(pageOf(c), data)),
      history: points,
      historyError: history.error ?? null,
    });
  });

  app.get("/tasks", async (c) => {
    const q = c.req.query("q")?.trim();
    const [kinds, now] = await Promise.all([store.kinds(), store.now()]);
    if (q !== undefined && q !== "") {
      if (q.length > 512) throw new DashboardHttpError(400, "the search text is longer than 512 characters");
      const found = new Map<number, TaskRecord>();
      const add = (records: readonly (TaskRecord | undefined)[]) => {
        for (const r of records) if (r) found.set(r.seq, r);
      };
      if (/^\d{1,15}$/.test(q)) add([await store.get(Number(q))]);
      add(await store.getById(q));
      add(await Promise.all(kinds.slice(0, MAX_SEARCH_KINDS).map((k) => store.getByKey(k, q))));
      const tasks = [...found.values()].sort((a, b) => b.seq - a.seq);
      if (tasks.length === 1 && tasks[0]) return c.redirect(`${base}/tasks/${tasks[0].seq}`, 302);
      return render(c, taskListPage(pageOf(c), { q }, kinds, tasks, now, undefined));
    }
    const limitRaw = c.req.query("limit");
    const limit = params.pageSize(limitRaw, o.pageSize);
    const filter = {
      status: params.status(c.req.query("status")),
      kind: params.kind(c.req.query("kind")),
      ...(limitRaw === undefined || limitRaw === "" ? {} : { limit }),
    };
    const beforeSeq = params.positiveInteger("before", c.req.query("before"));
    const tasks = await store.listTasks({
      limit,
      ...(filter.status === undefined ? {} : { status: filter.status }),
      ...(filter.kind === undefined ? {} : { kind: filter.kind }),
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
    });
    const next = tasks.length === limit ? tasks.at(-1)?.seq : undefined;
    return render(c, taskListPage(pageOf(c), filter, kinds, tasks, now, next));
  });

  app.get("/tasks/:seq", async (c) => {
    const seq = params.positiveInteger("task seq", c.req.param("seq")) as number;
    const [task, now] = await Promise.all([store.get(seq), store.now()]);
    if (!task) throw new DashboardHttpError(404, `no task has seq ${seq}`);
    return render(c, taskPage(pageOf(c), task, now));
  });

  app.post("/tasks/:seq/cancel", async (c) => {
    const seq = params.positiveInteger("task seq", c.req.param("seq")) as number;
    let outcome: Awaited<ReturnType<typeof store.cancel>>;
    try {
      outcome = await store.cancel(seq);
    } catch (error) {
      if (error instanceof StoreError && error.code === "ERR_NOT_FOUND")
        throw new DashboardHttpError(404, `no task has seq ${seq}`);
      throw error;
    }
    if (outcome.outcome === "finished")
      throw new DashboardHttpError(
        409,
        `task ${seq} has already finished (${outcome.record.status}): nothing to cancel`,
      );
    logAction(
      c,
      "cancel",
      { seq, id: outcome.record.id, outcome: outcome.outcome },
      `dashboard: task ${seq} ${outcome.outcome === "cancelled" ? "cancelled" : "asked to cancel (it runs)"}`,
    );
    return c.redirect(done(`/tasks/${seq}`, outcome.outcome), 303);
  });

  app.get("/dead-letters", async (c) => {
    const limitRaw = c.req.query("limit");
    const limit = params.pageSize(limitRaw, o.pageSize);
    const beforeSeq = params.positiveInteger("before", c.req.query("before"));
    const letters = await store.listDeadLetters({ limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    const next = letters.length === limit ? letters.at(-1)?.seq : undefined;
    return render(c, deadLettersPage(pageOf(c), letters, next, limitRaw ? limit : undefined));
  });

  app.post("/dead-letters/redrive", async (c) => {
    const seqs = params.seqs((await formOf(c)).seq, MAX_REDRIVE);
    const count = await store.redriveTasks(seqs);
    logAction(
      c,
      "redrive",
      { seqs, redriven: count },
      `dashboard: re-drove ${count} of ${seqs.length} task(s)`,
    );
    return c.redirect(
      done(seqs.length === 1 ? `/tasks/${seqs[0]}` : "/dead-letters", "redriven", count),
      303,
    );
  });

  app.post("/dead-letters/purge", async (c) => {
    const hours = params.hours("olderThanHours", (await formOf(c)).olderThanHours);
    const purged = await store.purgeDeadLetters(Math.round(hours * 3_600_000));
    logAction(
      c,
      "purge",
      { olderThanHours: hours, purged },
      `dashboard: purged ${purged} dead letter(s) older than ${hours} h`,
    );
    return c.redirect(done("/dead-letters", "purged", purged), 303);
  });

  app.get("/schedules", async (c) => render(c, schedulesPage(pageOf(c), await client.schedules())));
  for (const action of ["pause", "resume"] as const) {
    app.post(`/schedules/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      try {
        await (action === "pause" ? client.pauseSchedule(name) : client.resumeSchedule(name));
      } catch (error) {
        if (error instanceof ScheduleNotFoundError || error instanceof ConfigError)
          throw new DashboardHttpError(404, `no schedule is called ${JSON.stringify(name.slice(0, 80))}`);
        throw error;
      }
      logAction(
        c,
        action,
        { schedule: name },
        `dashboard: schedule ${name} ${action === "pause" ? "paused" : "resumed"}`,
      );
      return c.redirect(done("/schedules", action === "pause" ? "paused" : "resumed"), 303);
    });
  }

  const notFound = (c: Context) => render(c, errorPage(pageOf(c), 404, `nothing at ${c.req.path}`), 404);
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
      return render(c, errorPage(pageOf(c), error.status, error.message), error.status);
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
    return render(c, errorPage(pageOf(c), 500, message), 500);
  });

  const root = base === "" ? app : new Hono({ strict: false }).route(base, app);
  if (root !== app) root.notFound(notFound);
  return {
    app: root,
    fetch: (request, env) => root.fetch(request, env),
    close: () => history.close(),
  };
}
