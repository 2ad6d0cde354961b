import { redactUrl, StoreError, type TaskRecord } from "@taskq/idempotency";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { ScheduleNotFoundError } from "taskq";
import { assets } from "./assets.js";
import { CSRF_FIELD, Guard, SESSION_COOKIE } from "./auth.js";
import { History } from "./history.js";
import { DashboardHttpError } from "./http-error.js";
import { type DashboardOptions, resolveOptions } from "./options.js";
import { readOverview } from "./overview.js";
import * as params from "./params.js";
import { deadLettersPage } from "./views/dead-letters.js";
import { errorPage, type Html, type PageContext } from "./views/layout.js";
import { loginPage } from "./views/login.js";
import { overviewFragment, overviewPage } from "./views/overview.js";
import { schedulesPage } from "./views/schedules.js";
import { taskListPage, taskPage } from "./views/tasks.js";

/** At most this many tasks re-driven by one request (a page's worth, with room). */
const MAX_REDRIVE = 1000;
/** Kinds searched for an idempotency key. */
const MAX_SEARCH_KINDS = 200;

/** A mounted dashboard: a fetch handler for any server that speaks web Requests. */
export interface Dashboard {
  /** The Hono app, to mount with `app.route()` in your own Hono server. */
  readonly app: Hono;
  /** Answers one request (`getRequestListener(dashboard.fetch)` from @hono/node-server for node:http). */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Stops the chart sampler. The client stays open: it is yours. */
  close(): void;
}

/**
 * The dashboard over a taskq client's store: overview (live counts, charts, managers, limits),
 * tasks (filters, keyset pages, search by id, key or seq, a task's page), dead letters (re-drive,
 * purge), schedules (pause, resume). Every change is a POST with a CSRF token, needs the token
 * when one is set, and is logged.
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

  const pageOf = (c: Context): PageContext => ({
    base,
    csrf: guard.csrfToken,
    location: guard.allows(getCookie(c, SESSION_COOKIE), c.req.header("authorization")) ? location : "",
    signedIn: guard.protected && getCookie(c, SESSION_COOKIE) !== undefined,
  });
  const render = async (
    c: Context,
    page: Html,
    status: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 500 = 200,
  ) => c.html(await page, status);
  const logAction = (c: Context, action: string, fields: Record<string, unknown>, message: string) =>
    logger.info(
      { component: "dashboard", action, ...fields, remote: c.req.header("x-forwarded-for") ?? null },
      message,
    );

  app.use(
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
    }),
  );
  // Cross-site form posts are refused by their Origin before anything else reads them.
  app.use(csrf());

  app.get("/assets/:name", (c) => {
    const asset = assets().get(c.req.param("name"));
    if (!asset) throw new DashboardHttpError(404, "no such asset");
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=3600" });
  });

  app.get("/login", (c) => render(c, loginPage(pageOf(c), false)));
  app.post("/login", async (c) => {
    const body = await c.req.parseBody();
    if (!guard.csrfValid(body[CSRF_FIELD]))
      throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    const session = typeof body.token === "string" ? guard.login(body.token) : undefined;
    if (session === undefined) {
      logAction(c, "login", { ok: false }, "dashboard: a sign-in with a wrong token was refused");
      return render(c, loginPage(pageOf(c), true), 401);
    }
    setCookie(c, SESSION_COOKIE, session, { path: base || "/", httpOnly: true, sameSite: "Strict" });
    logAction(c, "login", { ok: true }, "dashboard: signed in");
    return c.redirect(`${base}/`, 303);
  });

  // Everything below needs the token when one is set; every POST needs the CSRF token too.
  app.use("*", async (c, next) => {
    if (!guard.allows(getCookie(c, SESSION_COOKIE), c.req.header("authorization"))) {
      if (c.req.method === "GET" && !c.req.path.startsWith(`${base}/api/`))
        return c.redirect(`${base}/login`, 302);
      throw new DashboardHttpError(401, "this needs the dashboard token: sign in first");
    }
    if (c.req.method === "POST") {
      const body = await c.req.parseBody({ all: true });
      if (!guard.csrfValid(body[CSRF_FIELD]))
        throw new DashboardHttpError(403, "the form's CSRF token is missing or wrong: reload the page");
    }
    await next();
  });

  app.post("/logout", (c) => {
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
    const filter = { status: params.status(c.req.query("status")), kind: params.kind(c.req.query("kind")) };
    const limit = params.pageSize(c.req.query("limit"), o.pageSize);
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
    return c.redirect(`${base}/tasks/${seq}`, 303);
  });

  app.get("/dead-letters", async (c) => {
    const limit = params.pageSize(c.req.query("limit"), o.pageSize);
    const beforeSeq = params.positiveInteger("before", c.req.query("before"));
    const letters = await store.listDeadLetters({ limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    const next = letters.length === limit ? letters.at(-1)?.seq : undefined;
    return render(c, deadLettersPage(pageOf(c), letters, next));
  });

  app.post("/dead-letters/redrive", async (c) => {
    const body = await c.req.parseBody({ all: true });
    const seqs = params.seqs(body.seq, MAX_REDRIVE);
    const count = await store.redriveTasks(seqs);
    logAction(
      c,
      "redrive",
      { seqs, redriven: count },
      `dashboard: re-drove ${count} of ${seqs.length} task(s)`,
    );
    return c.redirect(seqs.length === 1 ? `${base}/tasks/${seqs[0]}` : `${base}/dead-letters`, 303);
  });

  app.post("/dead-letters/purge", async (c) => {
    const body = await c.req.parseBody();
    const hours = params.hours("olderThanHours", body.olderThanHours);
    const purged = await store.purgeDeadLetters(Math.round(hours * 3_600_000));
    logAction(
      c,
      "purge",
      { olderThanHours: hours, purged },
      `dashboard: purged ${purged} dead letter(s) older than ${hours} h`,
    );
    return c.redirect(`${base}/dead-letters`, 303);
  });

  app.get("/schedules", async (c) => render(c, schedulesPage(pageOf(c), await client.schedules())));
  for (const action of ["pause", "resume"] as const) {
    app.post(`/schedules/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      try {
        await (action === "pause" ? client.pauseSchedule(name) : client.resumeSchedule(name));
      } catch (error) {
        if (error instanceof ScheduleNotFoundError)
          throw new DashboardHttpError(404, `no schedule is called ${JSON.stringify(name)}`);
        throw error;
      }
      logAction(
        c,
        action,
        { schedule: name },
        `dashboard: schedule ${name} ${action === "pause" ? "paused" : "resumed"}`,
      );
      return c.redirect(`${base}/schedules`, 303);
    });
  }

  app.notFound((c) => render(c, errorPage(pageOf(c), 404, `nothing at ${c.req.path}`), 404));
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
      { component: "dashboard", error: error.message, name: error.name, path: c.req.path },
      "dashboard: a request failed",
    );
    if (c.req.path.startsWith(`${base}/api/`)) return c.json({ error: message }, 500);
    return render(c, errorPage(pageOf(c), 500, message), 500);
  });

  const root = base === "" ? app : new Hono({ strict: false }).route(base, app);
  return {
    app: root,
    fetch: (request) => root.fetch(request),
    close: () => history.stop(),
  };
}
