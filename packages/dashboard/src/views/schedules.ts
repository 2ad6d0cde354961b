import { html } from "hono/html";
import type { ScheduleInfo } from "taskq";
import { json, time } from "./format.js";
import { actionForm, type Html, layout, type PageContext } from "./layout.js";

export function schedulesPage(p: PageContext, schedules: readonly ScheduleInfo[]): Html {
  return layout(
    p,
    "Schedules",
    "/schedules",
    html`<p class="note">Delayed tasks are <a href="${p.base}/tasks?status=queued">queued</a> with a run time in the future; cancel one from its page.</p>
${
  schedules.length === 0
    ? html`<p class="empty">No recurring tasks (<code>taskq schedule add</code>).</p>`
    : html`<div class="scroll"><table class="schedules"><thead><tr><th>name</th><th>cron</th><th>time zone</th><th>kind</th><th>payload</th><th>next</th><th>last</th><th>state</th><th></th></tr></thead><tbody>${schedules.map(
        (s) =>
          html`<tr data-schedule="${s.name}"><td>${s.name}</td><td><code>${s.cron}</code></td><td>${s.timezone ?? "UTC"}</td><td><a href="${p.base}/tasks?kind=${s.kind}">${s.kind}</a></td><td><code class="clip">${json(s.payload)}</code></td><td>${s.paused ? "" : time(s.nextRunAt.getTime())}</td><td>${time(s.lastRunAt?.getTime())}</td><td>${s.paused ? "paused" : "active"}</td><td>${
            s.paused
              ? actionForm(p, `/schedules/${encodeURIComponent(s.name)}/resume`, "Resume")
              : actionForm(p, `/schedules/${encodeURIComponent(s.name)}/pause`, "Pause")
          }</td></tr>`,
      )}</tbody></table></div>`
}`,
  );
}
