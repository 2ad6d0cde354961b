import { StoreError, type TaskRecord } from "@taskq/idempotency";
import { readTaskView, taskView } from "taskq/app";
import { DashboardHttpError } from "../http-error.js";
import * as params from "../params.js";
import { changing, taskLiveFragment } from "../views/task-live.js";
import { taskListPage, taskPage } from "../views/tasks.js";
import type { RouteContext } from "./route-context.js";

/** Kinds searched for an idempotency key. */
const MAX_SEARCH_KINDS = 200;

/** GET /tasks (filters, keyset pages, search by id, key or seq), GET /tasks/:seq, POST /tasks/:seq/cancel. */
export function taskRoutes(r: RouteContext): void {
  const { app, store, base } = r;

  app.get("/tasks", async (c) => {
    const q = params.search(c.req.query("q"));
    const [kinds, now] = await Promise.all([store.kinds(), store.now()]);
    if (q !== undefined) {
      const found = new Map<number, TaskRecord>();
      const add = (records: readonly (TaskRecord | undefined)[]) => {
        for (const t of records) if (t) found.set(t.seq, t);
      };
      if (/^\d{1,15}$/.test(q)) add([await store.get(Number(q))]);
      add(await store.getById(q));
      add(await Promise.all(kinds.slice(0, MAX_SEARCH_KINDS).map((k) => store.getByKey(k, q))));
      const tasks = [...found.values()].sort((a, b) => b.seq - a.seq);
      if (tasks.length === 1 && tasks[0]) return c.redirect(`${base}/tasks/${tasks[0].seq}`, 302);
      return r.render(c, taskListPage(r.pageOf(c), { q }, kinds, tasks, now, undefined));
    }
    const limitRaw = c.req.query("limit");
    const limit = params.pageSize(limitRaw, r.options.pageSize);
    const filter = {
      status: params.status(c.req.query("status")),
      kind: params.kind(c.req.query("kind")),
      tag: params.tag(c.req.query("tag")),
      correlationId: params.correlationId(c.req.query("correlation")),
      group: params.group(c.req.query("group")),
      ...(limitRaw === undefined || limitRaw === "" ? {} : { limit }),
    };
    const beforeSeq = params.positiveInteger("before", c.req.query("before"));
    const tasks = await store.listTasks({
      limit,
      ...(filter.status === undefined ? {} : { status: filter.status }),
      ...(filter.kind === undefined ? {} : { kind: filter.kind }),
      ...(filter.tag === undefined ? {} : { tag: filter.tag }),
      ...(filter.correlationId === undefined ? {} : { correlationId: filter.correlationId }),
      ...(filter.group === undefined ? {} : { group: filter.group }),
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
    });
    const next = tasks.length === limit ? tasks.at(-1)?.seq : undefined;
    return r.render(c, taskListPage(r.pageOf(c), filter, kinds, tasks, now, next));
  });

  app.get("/tasks/:seq", async (c) => {
    const seq = params.positiveInteger("task seq", c.req.param("seq")) as number;
    const [task, now, log] = await Promise.all([store.get(seq), store.now(), store.logs(seq)]);
    if (!task) throw new DashboardHttpError(404, `no task has seq ${seq}`);
    return r.render(c, taskPage(r.pageOf(c), await readTaskView(store, task, now), log));
  });

  // the task page's live part (status, progress, log), asked every second while the task may change
  app.get("/api/tasks/:seq/live", async (c) => {
    const seq = params.positiveInteger("task seq", c.req.param("seq")) as number;
    const [task, now, log] = await Promise.all([store.get(seq), store.now(), store.logs(seq)]);
    if (!task) throw new DashboardHttpError(404, `no task has seq ${seq}`);
    const view = taskView(task, now);
    return c.json({ now, changing: changing(view), html: String(await taskLiveFragment(view, log)) });
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
    r.logAction(
      c,
      "cancel",
      { seq, id: outcome.record.id, outcome: outcome.outcome },
      `dashboard: task ${seq} ${outcome.outcome === "cancelled" ? "cancelled" : "asked to cancel (it runs)"}`,
    );
    return c.redirect(r.done(`/tasks/${seq}`, outcome.outcome), 303);
  });
}
