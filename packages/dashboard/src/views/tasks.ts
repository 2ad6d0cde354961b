import { TASK_STATUSES, type TaskLog, type TaskRecord, type TaskStatus } from "@taskq/idempotency";
import { html } from "hono/html";
import { ATTEMPT_OUTCOMES, type AttemptView, type TaskTiming, type TaskView, taskTiming } from "taskq/app";
import { duration, exactDuration, json, time } from "./format.js";
import { actionForm, type Html, layout, type PageContext } from "./layout.js";
import { taskLiveSection } from "./task-live.js";

/** The list's filters as the page got them (already checked). */
export interface TaskFilter {
  readonly status?: TaskStatus;
  readonly kind?: string;
  readonly tag?: string;
  /** Only the tasks enqueued with this correlation id (`?correlation=`). */
  readonly correlationId?: string;
  /** Only the tasks of this group (`?group=`). */
  readonly group?: string;
  readonly q?: string;
  /** A page size asked for (kept in the next page's link). */
  readonly limit?: number;
}

/** When a task runs, ran or will run, from its timing (taskTiming: by the store's clock). */
function when(
  t: Pick<TaskView, "status" | "nextRunAt" | "startedAt" | "finishedAt"> &
    TaskTiming & { waitingFor?: number | null },
): string {
  if (t.status === "queued" && (t.waitingFor ?? 0) > 0) return `waiting for ${t.waitingFor} of its parents`;
  if (t.status === "queued")
    return t.scheduled ? `scheduled for ${time(t.nextRunAt)}` : `due ${duration(-(t.dueInMs ?? 0))} ago`;
  if (t.status === "running") return `started ${time(t.startedAt)}`;
  return `finished ${time(t.finishedAt)}`;
}

function query(f: TaskFilter, before: number): string {
  const q = new URLSearchParams();
  if (f.status) q.set("status", f.status);
  if (f.kind) q.set("kind", f.kind);
  if (f.tag) q.set("tag", f.tag);
  if (f.correlationId) q.set("correlation", f.correlationId);
  if (f.group) q.set("group", f.group);
  if (f.limit !== undefined) q.set("limit", String(f.limit));
  q.set("before", String(before));
  return q.toString();
}

/** A task's tags, each a link to the tasks that carry it. */
function tagLinks(p: PageContext, tags: readonly string[]): Html[] {
  return tags.map(
    (tag) =>
      html`<a class="tag" href="${p.base}/tasks?${new URLSearchParams({ tag }).toString()}">${tag}</a> `,
  );
}

/** A task's parents or children (workflows), each a link to its page with its status. */
function taskLinks(p: PageContext, list: TaskView["parents"]): Html | string {
  if (list === undefined || list.length === 0) return "";
  return html`<ul class="links">${list.map(
    (l) =>
      html`<li><a href="${p.base}/tasks/${l.seq}">${l.id}</a> <span class="status ${l.status}">${l.status}</span>${l.runAnyway ? " (runs anyway)" : ""}</li>`,
  )}</ul>`;
}

/** A group as a link to every task of it. */
function groupLink(p: PageContext, group: string): Html {
  return html`<a href="${p.base}/tasks?${new URLSearchParams({ group }).toString()}">${group}</a>`;
}

/** A correlation id as a link to every task enqueued with it. */
function correlationLink(p: PageContext, correlation: string): Html {
  return html`<a href="${p.base}/tasks?${new URLSearchParams({ correlation }).toString()}">${correlation}</a>`;
}

export function taskListPage(
  p: PageContext,
  f: TaskFilter,
  kinds: readonly string[],
  tasks: readonly TaskRecord[],
  now: number,
  nextBefore: number | undefined,
): Html {
  const title = f.q !== undefined ? `Tasks matching "${f.q}"` : "Tasks";
  return layout(
    p,
    title,
    "/tasks",
    html`<form method="get" action="${p.base}/tasks" class="filters">
<label>status <select name="status"><option value="">any</option>${TASK_STATUSES.map(
      (s) => html`<option value="${s}" ${s === f.status ? "selected" : ""}>${s}</option>`,
    )}</select></label>
<label>kind <select name="kind"><option value="">any</option>${(
      f.kind === undefined || kinds.includes(f.kind) ? kinds : [f.kind, ...kinds]
    ).map((k) => html`<option value="${k}" ${k === f.kind ? "selected" : ""}>${k}</option>`)}</select></label>
<label>tag <input type="text" name="tag" value="${f.tag ?? ""}" maxlength="100" placeholder="any"></label>
<label>correlation id <input type="text" name="correlation" value="${f.correlationId ?? ""}" maxlength="200" placeholder="any"></label>
<label>group <input type="text" name="group" value="${f.group ?? ""}" maxlength="100" placeholder="any"></label><button type="submit">Filter</button></form>
${
  tasks.length === 0
    ? html`<p class="empty">No task${f.q !== undefined ? " has this id, key or seq" : " here"}.</p>`
    : html`<div class="scroll"><table class="tasks"><thead><tr><th class="num">seq</th><th>id</th><th>kind</th><th>status</th><th class="num">attempts</th><th class="num">priority</th><th>created</th><th>when</th><th>tags</th><th>error</th></tr></thead><tbody>${tasks.map(
        (t) =>
          html`<tr data-seq="${t.seq}"><td class="num"><a href="${p.base}/tasks/${t.seq}">${t.seq}</a></td><td><a href="${p.base}/tasks/${t.seq}">${t.id}</a></td><td>${t.kind}</td><td><span class="status ${t.status}">${t.status}</span></td><td class="num">${t.attempts} / ${t.maxAttempts}</td><td class="num">${t.priority}</td><td>${time(t.createdAt)}</td><td>${when({ ...t, ...taskTiming(t, now) })}</td><td>${tagLinks(p, t.tags)}</td><td>${t.errorClass ?? ""}</td></tr>`,
      )}</tbody></table></div>`
}
${nextBefore === undefined ? "" : html`<p><a class="next" href="${p.base}/tasks?${query(f, nextBefore)}">Older tasks →</a></p>`}`,
  );
}

/** Every attempt, oldest first: outcome, times, duration, worker, error with its stack folded. */
function attemptsTable(attempts: readonly AttemptView[]): Html | string {
  if (attempts.length === 0) return "";
  return html`<h2>Attempts</h2><div class="scroll"><table class="attempts"><thead><tr><th class="num">#</th><th>outcome</th><th>started</th><th>finished</th><th class="num">duration</th><th>worker</th><th>error</th></tr></thead><tbody>${attempts.map(
    (a) =>
      html`<tr data-attempt="${a.attempt}" class="${a.outcome}"><td class="num">${a.attempt}</td><td><span class="status ${a.outcome === "succeeded" || a.outcome === "running" ? a.outcome : "failed"}">${ATTEMPT_OUTCOMES[a.outcome]}</span></td><td>${time(a.startedAt)}</td><td>${time(a.finishedAt)}</td><td class="num">${exactDuration(a.durationMs)}${a.outcome === "running" ? " so far" : ""}</td><td>${a.worker ?? ""}</td><td>${
        a.errorClass === null
          ? ""
          : html`<strong>${a.errorClass}</strong>: <span class="message">${a.errorMessage ?? ""}</span>${
              a.errorStack === null
                ? ""
                : html`<details><summary>stack</summary><pre class="stack">${a.errorStack}</pre></details>`
            }`
      }</td></tr>`,
  )}</tbody></table></div>`;
}

/**
 * A task's page, from its view with every attempt (`readTaskView`: the one `client.get` and
 * `taskq status` show), as of the store's clock, which decides "scheduled" and a running task's
 * run time.
 */
export function taskPage(p: PageContext, t: TaskView, log: TaskLog): Html {
  // times to the millisecond; a row without a value is left out (a queued task has no "finished")
  const rows = (
    [
      ["seq", t.seq],
      ["id", t.id],
      ["kind", t.kind],
      ["idempotency key", t.idempotencyKey],
      ["status", t.status],
      ["attempts", `${t.attempts} of ${t.maxAttempts}`],
      ["priority", t.priority],
      ["tags", t.tags.join(", ")],
      ["correlation id", t.correlationId === null ? "" : correlationLink(p, t.correlationId)],
      ["group", t.group === null ? "" : groupLink(p, t.group)],
      ["traceparent", t.traceContext?.traceparent ?? ""],
      [
        "waiting for",
        t.status === "queued" && (t.waitingFor ?? 0) > 0 ? `${t.waitingFor} of its parents` : "",
      ],
      ["parents", taskLinks(p, t.parents)],
      ["children", taskLinks(p, t.children)],
      ["created", time(t.createdAt)],
      ["runs at", (t.waitingFor ?? 0) > 0 ? "" : time(t.nextRunAt)],
      ["started", time(t.startedAt)],
      ["finished", time(t.finishedAt)],
      [
        "duration",
        t.runMs === null ? "" : `${exactDuration(t.runMs)}${t.status === "running" ? " so far" : ""}`,
      ],
      ["ran on", t.leaseOwner ?? ""],
      ["lease runs out", t.status === "running" ? time(t.leaseExpiresAt) : ""],
      ["cancel requested", time(t.cancelRequestedAt)],
      ["output key", t.outputKey ?? ""],
    ] as [string, string | number | Html][]
  ).filter(([, value]) => value !== "");
  const actions = [
    t.status === "queued" || (t.status === "running" && !t.cancelRequested)
      ? actionForm(p, `/tasks/${t.seq}/cancel`, "Cancel this task", "", "danger")
      : "",
    t.status === "failed"
      ? actionForm(
          p,
          "/dead-letters/redrive",
          "Re-drive this task",
          html`<input type="hidden" name="seq" value="${t.seq}">`,
        )
      : "",
  ];
  return layout(
    p,
    `Task ${t.seq}`,
    "/tasks",
    html`<p class="when">${when(t)}</p><div class="actions">${actions}</div>
<dl class="record">${rows.map(([k, v]) => html`<dt>${k}</dt><dd data-field="${k}">${v}</dd>`)}</dl>
<h2>Payload</h2><pre class="payload">${json(t.payload)}</pre>
${t.result === undefined ? "" : html`<h2>Result</h2><pre class="result">${typeof t.result === "string" ? t.result : JSON.stringify(t.result, null, 2)}</pre>`}
${t.errorClass === null ? "" : html`<h2>Error</h2><p class="error"><strong>${t.errorClass}</strong>: <span class="message">${t.errorMessage ?? ""}</span></p>`}
${taskLiveSection(p, t, log)}
${attemptsTable(t.attemptHistory ?? [])}`,
  );
}
