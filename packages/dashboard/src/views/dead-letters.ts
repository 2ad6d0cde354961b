import type { DeadLetter } from "@taskq/idempotency";
import { html } from "hono/html";
import { json, time } from "./format.js";
import { actionForm, type Html, layout, type PageContext } from "./layout.js";

function seqFields(seqs: readonly number[]): Html {
  return html`${seqs.map((s) => html`<input type="hidden" name="seq" value="${s}">`)}`;
}

/** The dead letters' filter as the page got it (checked), and the page size asked for. */
export interface DeadLetterFilter {
  readonly kind?: string | undefined;
  readonly limit?: number | undefined;
}

function nextQuery(f: DeadLetterFilter, before: number): string {
  const q = new URLSearchParams();
  if (f.kind !== undefined) q.set("kind", f.kind);
  if (f.limit !== undefined) q.set("limit", String(f.limit));
  q.set("before", String(before));
  return q.toString();
}

export function deadLettersPage(
  p: PageContext,
  f: DeadLetterFilter,
  kinds: readonly string[],
  letters: readonly DeadLetter[],
  nextBefore: number | undefined,
): Html {
  const redrivable = letters.flatMap((l) => (l.taskSeq === null ? [] : [l.taskSeq]));
  return layout(
    p,
    f.kind === undefined ? "Dead letters" : `Dead letters of ${f.kind}`,
    "/dead-letters",
    html`<form method="get" action="${p.base}/dead-letters" class="filters">
<label>kind <select name="kind"><option value="">any</option>${(
      f.kind === undefined || kinds.includes(f.kind) ? kinds : [f.kind, ...kinds]
    ).map(
      (k) => html`<option value="${k}" ${k === f.kind ? "selected" : ""}>${k}</option>`,
    )}</select></label><button type="submit">Filter</button></form>
<div class="actions">
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
    ? html`<p class="empty">No dead letters${f.kind === undefined ? "" : " of this kind"}.</p>`
    : html`<div class="scroll"><table class="dead-letters"><thead><tr><th class="num">task</th><th>id</th><th>kind</th><th>error</th><th class="num">attempts</th><th>failed</th><th>payload</th><th></th></tr></thead><tbody>${letters.map(
        (l) =>
          html`<tr data-task-seq="${l.taskSeq ?? ""}"><td class="num">${
            l.taskSeq === null ? "" : html`<a href="${p.base}/tasks/${l.taskSeq}">${l.taskSeq}</a>`
          }</td><td>${l.taskId}</td><td data-kind="${l.kind ?? ""}">${
            l.kind === null ? "" : html`<a href="${p.base}/dead-letters?kind=${l.kind}">${l.kind}</a>`
          }</td><td class="wrap"><strong>${l.errorClass}</strong>: ${l.errorMessage}</td><td class="num">${l.attempts}</td><td>${time(l.failedAt)}</td><td><code class="clip">${json(l.payload)}</code></td><td>${
            l.taskSeq === null
              ? "invalid: never stored as a task"
              : actionForm(p, "/dead-letters/redrive", "Re-drive", seqFields([l.taskSeq]))
          }</td></tr>`,
      )}</tbody></table></div>`
}
${nextBefore === undefined ? "" : html`<p><a class="next" href="${p.base}/dead-letters?${nextQuery(f, nextBefore)}">Older dead letters →</a></p>`}`,
  );
}
