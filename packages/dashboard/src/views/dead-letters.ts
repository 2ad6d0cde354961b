import type { DeadLetter } from "@taskq/idempotency";
import { html } from "hono/html";
import { json, time } from "./format.js";
import { actionForm, type Html, layout, type PageContext } from "./layout.js";

function seqFields(seqs: readonly number[]): Html {
  return html`${seqs.map((s) => html`<input type="hidden" name="seq" value="${s}">`)}`;
}

export function deadLettersPage(
  p: PageContext,
  letters: readonly DeadLetter[],
  nextBefore: number | undefined,
  limit: number | undefined,
): Html {
  const redrivable = letters.flatMap((l) => (l.taskSeq === null ? [] : [l.taskSeq]));
  return layout(
    p,
    "Dead letters",
    "/dead-letters",
    html`<div class="actions">
${redrivable.length > 0 ? actionForm(p, "/dead-letters/redrive", `Re-drive all ${redrivable.length} shown`, seqFields(redrivable)) : ""}
${actionForm(
  p,
  "/dead-letters/purge",
  "Purge",
  html`<label>dead letters older than <input type="number" name="olderThanHours" min="0" step="any" value="168" required> hours</label> `,
  "danger confirm",
)}</div>
${
  letters.length === 0
    ? html`<p class="empty">No dead letters.</p>`
    : html`<table class="dead-letters"><thead><tr><th class="num">task</th><th>id</th><th>error</th><th class="num">attempts</th><th>failed</th><th>payload</th><th></th></tr></thead><tbody>${letters.map(
        (l) =>
          html`<tr data-task-seq="${l.taskSeq ?? ""}"><td class="num">${
            l.taskSeq === null ? "" : html`<a href="${p.base}/tasks/${l.taskSeq}">${l.taskSeq}</a>`
          }</td><td>${l.taskId}</td><td><strong>${l.errorClass}</strong>: ${l.errorMessage}</td><td class="num">${l.attempts}</td><td>${time(l.failedAt)}</td><td><code class="clip">${json(l.payload)}</code></td><td>${
            l.taskSeq === null
              ? "invalid: never stored as a task"
              : actionForm(p, "/dead-letters/redrive", "Re-drive", seqFields([l.taskSeq]))
          }</td></tr>`,
      )}</tbody></table>`
}
${nextBefore === undefined ? "" : html`<p><a class="next" href="${p.base}/dead-letters?${limit === undefined ? "" : `limit=${limit}&`}before=${nextBefore}">Older dead letters →</a></p>`}`,
  );
}
