import { COUNTED_STATUSES, type CountedStatus } from "@taskq/idempotency";
import { html } from "hono/html";
import type { StoreReading } from "taskq/app";
import { count, duration, time } from "./format.js";
import { actionForm, type Html, layout, type PageContext } from "./layout.js";

const LABELS: Record<CountedStatus, string> = {
  queued: "queued (due)",
  scheduled: "scheduled",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

function heldBack(l: StoreReading["limits"][number], now: number): string {
  if (l.heldBack === "paused") return `paused for ${duration(now - (l.pausedAt ?? now))}`;
  if (l.heldBack === "concurrency") return "held back: concurrency full";
  if (l.heldBack === "breaker")
    return l.breaker?.halfOpenAt != null
      ? `held back: breaker open, a probe in ${duration(Math.max(0, l.breaker.halfOpenAt - now))}`
      : "held back: breaker half-open, its probe runs";
  if (l.heldBack === "rate")
    return `held back: rate used up${l.openAgainAt === null ? "" : ` for ${duration(l.openAgainAt - now)}`}`;
  return "open";
}

/** The part of the overview that refreshes every second (the page swaps it in whole). */
export function overviewFragment(p: PageContext, d: StoreReading): Html {
  const capped = new Set(d.capped);
  const unserved = new Set(d.unservedKinds);
  const paused = new Set(d.limits.filter((l) => l.paused).map((l) => l.kind));
  const breakers = new Map(d.limits.flatMap((l) => (l.breaker ? [[l.kind, l.breaker] as const] : [])));
  // a kind's breaker beside its pause button: its state, and a Reset while it is not closed
  const breakerCell = (kind: string) => {
    const b = breakers.get(kind);
    if (!b) return "";
    return b.state === "closed"
      ? html` <span class="badge" data-breaker="closed" title="${b.failuresInWindow} of ${b.failures} failures in its window">breaker closed</span>`
      : html` <span class="badge warn" data-breaker="${b.state}">breaker ${b.state}</span> ${actionForm(p, `/kinds/${encodeURIComponent(kind)}/reset-breaker`, "Reset breaker")}`;
  };
  return html`<section class="cards">${COUNTED_STATUSES.map(
    (s) => html`<a class="card ${s}" href="${p.base}/tasks?status=${s === "scheduled" ? "queued" : s}">
<span class="label">${LABELS[s]}</span><span class="value" data-count="${s}">${count(d.totals[s], capped.has(s))}</span></a>`,
  )}<a class="card failed" href="${p.base}/dead-letters"><span class="label">dead letters</span><span class="value" data-count="dead-letters">${count(d.deadLetters, d.deadLettersCapped)}</span></a>
<div class="card"><span class="label">oldest due task waits</span><span class="value" data-count="oldest">${d.oldestDueAgeMs === null ? "none" : duration(d.oldestDueAgeMs)}</span></div>
<div class="card"><span class="label">tasks in the store</span><span class="value" title="an estimate: PostgreSQL's planner statistics, or SQLite's range of sequence numbers">≈ ${count(d.totalEstimate)}</span></div></section>
${d.capped.length > 0 ? html`<p class="note">Counts end with + where a status has more than ${count(d.cap)} tasks: each is counted over at most that many, so the page stays fast on a store of any size.</p>` : ""}
<h2>By kind</h2>
${
  unserved.size === 0
    ? ""
    : html`<p class="warning" role="alert" data-unserved="${[...unserved].join(" ")}">No live worker serves ${[...unserved].join(", ")}: ${unserved.size === 1 ? "its" : "their"} due tasks wait until a worker for ${unserved.size === 1 ? "it" : "them"} starts (<code>taskq serve --handler KIND=FILE</code>).</p>`
}${
  d.byKind.length === 0
    ? html`<p class="empty">No tasks yet.</p>`
    : html`<div class="scroll"><table class="kinds"><thead><tr><th>kind</th>${COUNTED_STATUSES.map((s) => html`<th class="num">${LABELS[s]}</th>`)}<th>taken by workers</th></tr></thead><tbody>${d.byKind.map(
        (k) =>
          html`<tr class="${unserved.has(k.kind) ? "unserved" : ""}"><td><a href="${p.base}/tasks?kind=${k.kind}">${k.kind}</a>${
            unserved.has(k.kind)
              ? html` <span class="badge warn" title="due tasks, and no live worker serves this kind">no worker</span>`
              : ""
          }</td>${COUNTED_STATUSES.map((s) => html`<td class="num">${count(k[s], capped.has(s))}</td>`)}<td data-kind-state="${k.kind}">${
            paused.has(k.kind)
              ? html`<span class="badge warn">paused</span> ${actionForm(p, `/kinds/${encodeURIComponent(k.kind)}/resume`, "Resume")}`
              : html`running ${actionForm(p, `/kinds/${encodeURIComponent(k.kind)}/pause`, "Pause")}`
          }${breakerCell(k.kind)}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Workers</h2>
${
  d.workers.length === 0
    ? html`<p class="empty">No worker has reported (start one with <code>taskq serve</code>).</p>`
    : html`<div class="scroll"><table class="workers"><thead><tr><th>worker</th><th>state</th><th>started</th><th class="num">last heartbeat</th><th class="num">threads</th><th class="num">slots</th><th class="num" title="attempts running on its threads now (its latest report)">executing</th><th class="num" title="tasks leased to it in the store: executing, or waiting in it for a slot">leased</th><th class="num">lease runs out in</th><th>kinds</th></tr></thead><tbody>${d.workers.map(
        (w) =>
          html`<tr class="${w.stale ? "stale" : ""}"><td>${w.name === null ? w.owner : html`<strong>${w.name}</strong> <small title="its id: host:pid:nonce">${w.owner}</small>`}</td><td>${w.stale ? "stale" : "live"}</td><td>${w.startedAt === null ? "" : time(w.startedAt)}</td><td class="num">${w.heartbeatAt === null ? "never" : `${duration(Math.max(0, d.now - w.heartbeatAt))} ago`}</td><td class="num">${w.threads ?? ""}${w.processes ? html` <small title="child processes of the kinds isolated in processes">+ ${w.processes} process(es)</small>` : ""}</td><td class="num">${w.slots ?? ""}</td><td class="num">${w.executing ?? ""}</td><td class="num">${w.leased}</td><td class="num">${w.leaseExpiresAt === null ? "" : duration(w.leaseExpiresAt - d.now)}</td><td>${w.kinds.join(", ")}${w.malformed === undefined ? "" : html` <span class="badge warn" data-malformed>malformed report</span> <small>${w.malformed}</small>`}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Limits</h2>
${
  d.limits.length === 0
    ? html`<p class="empty">No kind has fleet limits (<code>taskq limits set</code>).</p>`
    : html`<div class="scroll"><table class="limits"><thead><tr><th>kind</th><th class="num">running / concurrency</th><th class="num">starts / rate</th><th class="num">per group</th><th>now</th></tr></thead><tbody>${d.limits.map(
        (l) =>
          html`<tr><td>${l.kind}</td><td class="num">${l.running} / ${l.concurrency ?? "∞"}</td><td class="num">${
            l.rate === null ? "" : `${l.startsInWindow} / ${l.rate.limit} per ${duration(l.rate.intervalMs)}`
          }</td><td class="num">${l.perGroup == null ? "" : `≤ ${l.perGroup.concurrency} running`}</td><td>${heldBack(l, d.now)}</td></tr>`,
      )}</tbody></table></div>`
}`;
}

export function overviewPage(p: PageContext, d: StoreReading): Html {
  return layout(
    p,
    "Overview",
    "/",
    html`<div id="live" data-base="${p.base}">${overviewFragment(p, d)}</div>
<h2>Last ten minutes</h2><p class="note">Read from the store when the page opens (a point for each five seconds), then sampled every second while it is open: each point covers the five seconds before it. "Taken to finish" counts from when a worker took the task (it may wait in the worker for a slot); "enqueue to finish" from when it was due.</p>
<div class="charts"><div id="chart-throughput" class="chart"></div><div id="chart-latency" class="chart"></div></div>
<p id="live-status" class="note" aria-live="polite"></p>`,
    html`<link rel="stylesheet" href="${p.base}/assets/uPlot.min.css"><script src="${p.base}/assets/uPlot.iife.min.js"></script>`,
  );
}
