// The promises about each task, from the README ("An application", "Time and limits"):
// nothing enqueued is lost, a key is stored once and its duplicates answered with its id, a
// stored result is what an attempt returned, a cancel holds, a delayed task waits for its time,
// attempts stay within maxAttempts, a task fails only when permanent or out of attempts.
import { type Call, type History, same } from "./attempts.js";
import type { Violation } from "./model.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

interface EnqueueAnswer {
  readonly id: string;
  readonly duplicate: boolean;
  readonly key?: string;
}

/** Each enqueued task's answer: [kind, key asked, the answer, the id asked]. */
function enqueueAnswers(
  calls: readonly Call[],
): [string, string | undefined, EnqueueAnswer, string | undefined][] {
  const out: [string, string | undefined, EnqueueAnswer, string | undefined][] = [];
  for (const { call, reply } of calls) {
    if ((call.op !== "enqueue" && call.op !== "enqueueMany") || reply?.ev !== "answer") continue;
    (reply.answer as EnqueueAnswer[]).forEach((a, i) => {
      out.push([call.kind ?? "", call.keys?.[i] ?? a.key, a, call.ids?.[i]]);
    });
  }
  return out;
}

export function checkTasks(h: History): Violation[] {
  const v: Violation[] = [];
  const answers = enqueueAnswers(h.calls);

  // no task lost: every answered id is stored, and every stored task ended after the drain
  for (const [, , a] of answers)
    if (!h.final.has(a.id))
      v.push({
        promise: "no task lost",
        id: a.id,
        detail: "enqueue answered this id; the store has no such task",
      });
  for (const t of h.final.values())
    if (!TERMINAL.has(t.status))
      v.push({ promise: "no task lost", id: t.id, detail: `still ${t.status} after the drain (${t.kind})` });

  // a key is unique within its kind; a duplicate answers with the existing task's id
  const byKey = new Map<string, string[]>();
  for (const t of h.final.values())
    byKey.set(`${t.kind}\u0000${t.key}`, [...(byKey.get(`${t.kind}\u0000${t.key}`) ?? []), t.id]);
  for (const [k, ids] of byKey)
    if (ids.length > 1)
      v.push({
        promise: "one task per key",
        id: ids[0],
        detail: `key ${k.split("\u0000")[1]} stored ${ids.length} times: ${ids.join(", ")}`,
      });
  const fresh = new Map<string, number>();
  for (const [kind, key, a, asked] of answers) {
    if (key === undefined) continue;
    const stored = byKey.get(`${kind}\u0000${key}`)?.[0];
    if (stored !== undefined && a.id !== stored)
      v.push({
        promise: "duplicate answered with the original id",
        id: a.id,
        detail: `key ${key} answered ${a.id}, the store holds ${stored}`,
      });
    if (!a.duplicate) {
      fresh.set(`${kind}\u0000${key}`, (fresh.get(`${kind}\u0000${key}`) ?? 0) + 1);
      if (asked !== undefined && a.id !== asked)
        v.push({
          promise: "duplicate answered with the original id",
          id: a.id,
          detail: `answered as new with ${a.id}, asked for ${asked}`,
        });
    }
  }
  for (const [k, count] of fresh)
    if (count > 1)
      v.push({
        promise: "one task per key",
        id: byKey.get(k)?.[0],
        detail: `key ${k.split("\u0000")[1]} answered as new ${count} times`,
      });

  // a stored result is what an attempt of the task returned
  for (const t of h.final.values()) {
    if (t.status !== "succeeded") continue;
    const oks = (h.byTask.get(t.id) ?? []).filter((a) => a.outcome === "ok");
    if (oks.length === 0)
      v.push({
        promise: "stored result is an attempt's",
        id: t.id,
        detail: "succeeded, but no attempt of it returned",
      });
    else if (!oks.some((a) => same(a.result, t.result)))
      v.push({
        promise: "stored result is an attempt's",
        id: t.id,
        detail: `stored ${JSON.stringify(t.result)}, no attempt returned it`,
      });
  }
  for (const { call, reply } of h.calls) {
    if (call.op !== "result" || reply?.ev !== "answer" || call.id === undefined) continue;
    const t = h.final.get(call.id);
    if (t && !same(reply.answer, t.result))
      v.push({
        promise: "result(id) is the stored result",
        id: call.id,
        detail: `result() gave ${JSON.stringify(reply.answer)}, the store holds ${JSON.stringify(t.result)}`,
      });
  }

  // a cancel holds: answered cancelled, never started again and stays cancelled; answered
  // running (requested), no new attempt, and succeeded only by the attempt that was running
  for (const { call, reply } of h.calls) {
    if (call.op !== "cancel" || reply?.ev !== "answer" || call.id === undefined) continue;
    const { status, attempts } = reply.answer as { status: string; attempts: number };
    const t = h.final.get(call.id);
    const runs = h.byTask.get(call.id) ?? [];
    if (status === "cancelled") {
      const late = runs.find((a) => a.start > reply.t || a.attempt > attempts);
      if (late)
        v.push({
          promise: "cancel holds",
          id: call.id,
          detail: `cancel answered cancelled at ${reply.t}; attempt ${late.attempt} started at ${late.start}`,
        });
      if (t && t.status !== "cancelled")
        v.push({
          promise: "cancel holds",
          id: call.id,
          detail: `cancel answered cancelled; the store says ${t.status}`,
        });
    } else if (status === "running") {
      const late = runs.find((a) => a.attempt > attempts);
      if (late)
        v.push({
          promise: "cancel holds",
          id: call.id,
          detail: `cancel answered at ${reply.t} while attempt ${attempts} ran; attempt ${late.attempt} started at ${late.start}`,
        });
      const kept = t?.result as { attempt?: number } | null | undefined;
      if (t?.status === "succeeded" && kept?.attempt !== attempts)
        v.push({
          promise: "cancel holds",
          id: call.id,
          detail: `cancel answered while attempt ${attempts} ran; stored succeeded by attempt ${kept?.attempt}`,
        });
    }
  }

  // a delayed task never starts before its time; attempts within maxAttempts; failed for a reason
  for (const { call } of h.calls) {
    if (call.op !== "enqueue" || call.notBefore === undefined) continue;
    const id = call.ids?.[0];
    const early =
      id === undefined
        ? undefined
        : (h.byTask.get(id) ?? []).find((a) => a.start < (call.notBefore ?? 0) - 2);
    if (early)
      v.push({
        promise: "not before runAt",
        id,
        detail: `due at ${call.notBefore}, attempt ${early.attempt} started at ${early.start} (${call.notBefore! - early.start} ms early)`,
      });
  }
  for (const t of h.final.values()) {
    const runs = h.byTask.get(t.id) ?? [];
    const most = Math.max(t.attempts, ...runs.map((a) => a.attempt));
    if (most > t.maxAttempts)
      v.push({
        promise: "attempts within maxAttempts",
        id: t.id,
        detail: `attempt ${most} of at most ${t.maxAttempts}`,
      });
    // each attempt started is kept but the one that succeeded, which is the task row's own; a task
    // still queued or running after the drain is "no task lost"'s
    const kept = t.attempts - (t.status === "succeeded" ? 1 : 0);
    if (
      (t.status === "succeeded" || t.status === "failed" || t.status === "cancelled") &&
      t.keptAttempts !== kept
    )
      v.push({
        promise: "every attempt kept",
        id: t.id,
        detail: `${t.status} after ${t.attempts} attempt(s), ${t.keptAttempts} kept where ${kept} should be`,
      });
    if (t.status === "failed" && t.attempts < t.maxAttempts && !runs.some((a) => a.outcome === "permanent"))
      v.push({
        promise: "failed only when permanent or out of attempts",
        id: t.id,
        detail: `failed (${t.errorClass}) after ${t.attempts} of ${t.maxAttempts} attempts, none permanent`,
      });
  }
  return v;
}
