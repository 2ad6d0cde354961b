// The promises about the fleet as a whole: one attempt of a task at a time (leases; a stale
// holder's finish refused), each cron occurrence enqueued and run once, the fleet's limits of a
// kind, priority order on a one-slot kind, and workers that live through the store's faults.
import { type Attempt, faultDuring, frozenDuring, type History, same } from "./attempts.js";
import type { FleetEntry, Violation, WorkloadConfig } from "./model.js";

/**
 * Two attempts of one task at once only when one of them lost its lease: its process was frozen
 * (SIGSTOP) meanwhile, or the store refused its outcome (a lease lost to a server restart that kept
 * its heartbeat out, or to a starved event loop: a lease the checker cannot see expire, but whose
 * refusal it sees). Then the stale attempt's result is not the stored one.
 */
function checkOverlap(h: History): Violation[] {
  const v: Violation[] = [];
  for (const [id, runs] of h.byTask) {
    for (let i = 0; i < runs.length; i++) {
      const a = runs[i] as Attempt;
      for (const b of runs.slice(i + 1)) {
        if (b.start >= a.end) continue;
        const frozen = frozenDuring(h, a, a.start, b.start);
        if (!frozen && a.recorded && b.recorded) {
          v.push({
            promise: "one attempt at a time",
            id,
            detail: `attempt ${a.attempt} (pid ${a.pid}, ${a.start}-${a.end}) overlaps attempt ${b.attempt} (pid ${b.pid}, from ${b.start})`,
          });
          continue;
        }
        // the one that lost its lease: its finish comes after the new holder's take, and is refused
        const t = h.final.get(id);
        for (const stale of a.recorded && !b.recorded ? [b] : [a])
          if (stale.outcome === "ok" && t?.status === "succeeded" && same(stale.result, t.result))
            v.push({
              promise: "a stale attempt's result is not stored",
              id,
              detail: `attempt ${stale.attempt} (pid ${stale.pid}) lost its lease while attempt ${(stale === a ? b : a).attempt} ran, and its result is the stored one`,
            });
      }
    }
  }
  return v;
}

/** At most `limit` attempts of the kind at once, not counting those of a frozen process. */
function checkConcurrency(h: History, kind: string, limit: number): Violation[] {
  const runs = h.attempts.filter((a) => a.kind === kind && !frozenDuring(h, a, a.start, a.end));
  const edges = runs.flatMap((a) => [
    { t: a.start, d: 1, a },
    { t: a.end, d: -1, a },
  ]);
  // a finish before a start at the same ms: touching intervals do not overlap
  edges.sort((x, y) => x.t - y.t || x.d - y.d);
  const running = new Set<Attempt>();
  for (const e of edges) {
    if (e.d < 0) running.delete(e.a);
    else {
      running.add(e.a);
      if (running.size > limit)
        return [
          {
            promise: "fleet concurrency limit",
            id: e.a.id,
            detail: `${running.size} ${kind} attempts at ${e.t}, limit ${limit}: ${[...running].map((a) => `${a.id}#${a.attempt}`).join(", ")}`,
          },
        ];
    }
  }
  return [];
}

/**
 * At most `limit` starts per rate window, the windows rebuilt as the store keeps them
 * (packages/idempotency/src/limits.ts): a window opens at the first take after the last one
 * closed, and lasts `intervalMs`. A take's time is the store's `startedAt` for a task's latest
 * attempt; an earlier attempt's take is only known to lie in [start - lag, start] (more when its
 * process was frozen in between), so a window that such a take opens or joins is not judged.
 */
function checkRate(h: History, kind: string, limit: number, intervalMs: number, lag: number): Violation[] {
  const takes = h.attempts
    .filter((a) => a.kind === kind)
    .map((a) => {
      const t = h.final.get(a.id);
      if (t?.startedAt != null && t.attempts === a.attempt)
        return { a, at: t.startedAt, lo: t.startedAt, exact: true };
      const stop = (h.frozen.get(a.pid) ?? []).filter((w) => w.t <= a.start && w.tEnd >= a.start - 5000);
      return { a, at: a.start, lo: Math.min(a.start - lag, ...stop.map((w) => w.t - lag)), exact: false };
    })
    .sort((x, y) => x.at - y.at);
  let windowStart = Number.NEGATIVE_INFINITY;
  let exact = true;
  let members: typeof takes = [];
  for (const take of takes) {
    if (take.at >= windowStart + intervalMs) {
      windowStart = take.exact ? take.at : Math.max(take.lo, windowStart + intervalMs);
      exact = take.exact;
      members = [];
    }
    members.push(take);
    exact &&= take.exact;
    if (members.length > limit && exact)
      return [
        {
          promise: "fleet rate limit",
          id: take.a.id,
          detail: `${members.length} ${kind} takes in the window from ${windowStart} (${intervalMs} ms), limit ${limit}: ${members.map((m) => `${m.a.id}#${m.a.attempt}@${m.at}`).join(", ")}`,
        },
      ];
  }
  return [];
}

/** Each occurrence enqueued once (no gap in the series but where a fault stopped the fleet) and run once. */
function checkCron(h: History, cron: WorkloadConfig["cron"]): Violation[] {
  const v: Violation[] = [];
  const prefix = `schedule:${cron.name}@`;
  const tasks = [...h.final.values()]
    .filter((t) => t.kind === cron.kind && t.key.startsWith(prefix))
    .map((t) => ({ t, at: Date.parse(t.key.slice(prefix.length)) }))
    .sort((x, y) => x.at - y.at);
  for (let i = 1; i < tasks.length; i++) {
    const before = tasks[i - 1]!;
    const after = tasks[i]!;
    if (after.at - before.at > cron.everyMs && !faultDuring(h, before.at, after.at))
      v.push({
        promise: "each cron occurrence enqueued once",
        id: after.t.id,
        detail: `${(after.at - before.at) / cron.everyMs - 1} occurrence(s) between ${new Date(before.at).toISOString()} and ${new Date(after.at).toISOString()} never enqueued, with no fault then`,
      });
  }
  for (const { t } of tasks) {
    const done = (h.byTask.get(t.id) ?? []).filter(
      (a) => a.outcome === "ok" && a.recorded && !frozenDuring(h, a, a.start, a.end),
    );
    if (done.length > 1)
      v.push({
        promise: "each cron occurrence run once",
        id: t.id,
        detail: `${done.length} attempts ran it to the end: ${done.map((a) => `#${a.attempt} pid ${a.pid}`).join(", ")}`,
      });
  }
  return v;
}

/**
 * Priority order on the one-slot kind: a burst's tasks, stored before their common run time,
 * due together while no task of the kind runs and no fault happens until the last of them
 * started, start by priority (larger first), then in the order they were stored.
 */
function checkPriority(h: History, config: WorkloadConfig): Violation[] {
  const v: Violation[] = [];
  const bursts = new Map<string, { id: string; priority: number; due: number; answeredAt: number }[]>();
  for (const { call, reply } of h.calls) {
    if (call.burst === undefined || reply?.ev !== "answer") continue;
    const [a] = reply.answer as { id: string; duplicate: boolean }[];
    if (!a || a.duplicate) continue;
    const list = bursts.get(call.burst) ?? [];
    list.push({ id: a.id, priority: call.priority ?? 0, due: call.notBefore ?? 0, answeredAt: reply.t });
    bursts.set(call.burst, list);
  }
  const kindRuns = h.attempts.filter((a) => a.kind === config.priorityKind);
  for (const [name, tasks] of bursts) {
    const due = tasks[0]?.due ?? 0;
    const firsts = tasks.map((t) => (h.byTask.get(t.id) ?? []).find((a) => a.attempt === 1));
    if (firsts.some((a) => a === undefined) || tasks.some((t) => t.answeredAt >= due - 20)) continue;
    const lastStart = Math.max(...firsts.map((a) => a!.start));
    const busy = kindRuns.some((a) => a.start < due && a.end > due - 20);
    if (busy || faultDuring(h, due - config.leaseMs, lastStart + 50)) continue;
    const expected = [...tasks].sort(
      (x, y) => y.priority - x.priority || (h.final.get(x.id)?.seq ?? 0) - (h.final.get(y.id)?.seq ?? 0),
    );
    const actual = tasks.map((t, i) => ({ t, start: firsts[i]!.start })).sort((x, y) => x.start - y.start);
    const wrong = actual.findIndex((x, i) => x.t.id !== expected[i]?.id);
    if (wrong >= 0)
      v.push({
        promise: "priority order",
        id: actual[wrong]?.t.id,
        detail: `burst ${name} started ${actual.map((x) => `${x.t.id}(p${x.t.priority})`).join(" ")}; expected ${expected.map((x) => `${x.id}(p${x.priority})`).join(" ")}`,
      });
  }
  return v;
}

/** A worker lives through the store's faults (README, "Scaling out": the server restarted mid-run). */
function checkSurvival(fleet: readonly FleetEntry[]): Violation[] {
  return fleet
    .filter((e) => e.ev === "exit" && !e.expected)
    .map((e) => ({
      promise: "processes survive store faults",
      detail: `${e.role} pid ${e.pid} exited by itself at ${e.t} (code ${e.code}, signal ${e.signal}); see ${e.role}-${e.pid}.stderr`,
    }));
}

export function checkFleet(h: History, fleet: readonly FleetEntry[], config: WorkloadConfig): Violation[] {
  return [
    ...checkOverlap(h),
    ...Object.entries(config.concurrency).flatMap(([kind, limit]) => checkConcurrency(h, kind, limit)),
    ...Object.entries(config.rate).flatMap(([kind, r]) =>
      checkRate(h, kind, r.limit, r.intervalMs, config.startLagMs),
    ),
    ...checkCron(h, config.cron),
    ...checkPriority(h, config),
    ...checkSurvival(fleet),
  ];
}
