// A task page's live part (issue 35): its status, its last progress (ctx.progress) and its log
// (ctx.log), rendered here for the page and for GET /api/tasks/:seq/live, which the page's script
// asks every second while the task is queued or running, and swaps in whole.
import type { TaskLog } from "@taskq/idempotency";
import { html } from "hono/html";
import type { TaskView } from "taskq/app";
import { json, time } from "./format.js";
import type { Html, PageContext } from "./layout.js";

/** Whether the task may still change (the page keeps refreshing its live part). */
export function changing(t: Pick<TaskView, "status">): boolean {
  return t.status === "queued" || t.status === "running";
}

/** The live part's contents: status, progress, log lines (with their time and attempt), lines dropped. */
export function taskLiveFragment(t: TaskView, log: TaskLog): Html {
  const progress =
    t.progress === null
      ? ""
      : html`<h2>Progress</h2>${
          typeof t.progress === "number"
            ? html`<p class="progress" data-progress="${t.progress}"><strong>${t.progress}</strong></p>`
            : html`<pre class="progress">${json(t.progress)}</pre>`
        }`;
  const lines =
    log.lines.length === 0 && log.dropped === 0
      ? ""
      : html`<h2>Log <small>${log.lines.length} line(s)</small></h2><div class="scroll"><table class="log"><thead><tr><th>at</th><th class="num">attempt</th><th>line</th></tr></thead><tbody>${log.lines.map(
          (l) =>
            html`<tr data-seq="${l.seq}"><td>${time(l.at)}</td><td class="num">${l.attempt}</td><td><code>${l.line}</code></td></tr>`,
        )}${
          log.dropped > 0
            ? html`<tr class="dropped"><td colspan="3">… ${log.dropped} more line(s) dropped (a task keeps 1,000)</td></tr>`
            : ""
        }</tbody></table></div>`;
  return html`<p class="live-status">status: <span class="status ${t.status}" data-status="${t.status}">${t.status}</span></p>${progress}${lines}`;
}

/** The live part as the task page shows it: refreshed by the page's script while `changing`. */
export function taskLiveSection(p: PageContext, t: TaskView, log: TaskLog): Html {
  return html`<section id="task-live" data-base="${p.base}" data-seq="${t.seq}" data-changing="${changing(t) ? "true" : "false"}">${taskLiveFragment(t, log)}</section>`;
}
