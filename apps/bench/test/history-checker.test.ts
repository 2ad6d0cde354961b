// The history checker on crafted histories: for each promise, a clean history that passes and a
// broken one that is caught, naming the promise and the task.
import { describe, expect, it } from "vitest";
import { checkHistory, type HistoryInput } from "../src/history/checker.js";
import type { AttemptEvent, FinalTask, FleetEntry, ProducerEntry } from "../src/history/model.js";
import { WORKLOAD } from "../src/history/workload.js";

const T = 1_000_000;
let seq = 0;

/** A task's run: start and finish events of one attempt. */
/** An attempt's start and finish, and its worker's outcome hook unless the store refused it. */
function run(
  id: string,
  attempt: number,
  start: number,
  end: number,
  o: Partial<AttemptEvent> & { readonly refused?: boolean } = {},
): AttemptEvent[] {
  const base = { pid: o.pid ?? 1, kind: o.kind ?? "ok", id, key: `k-${id}`, attempt };
  const outcome = o.outcome ?? "ok";
  return [
    { ev: "start", ...base, t: start },
    {
      ev: "finish",
      ...base,
      t: end,
      outcome,
      ...(outcome === "ok" ? { result: { id, attempt, pid: base.pid } } : {}),
    },
    ...(o.refused
      ? []
      : [{ ev: "hook" as const, hook: outcome === "ok" ? "succeeded" : "retrying", ...base, t: end + 1 }]),
  ];
}

function task(id: string, o: Partial<FinalTask> = {}): FinalTask {
  const attempts = o.attempts ?? 1;
  return {
    seq: ++seq,
    id,
    kind: "ok",
    key: `k-${id}`,
    status: "succeeded",
    attempts,
    maxAttempts: 3,
    result: o.status === undefined || o.status === "succeeded" ? { id, attempt: attempts, pid: 1 } : null,
    errorClass: null,
    priority: 0,
    startedAt: null,
    keptAttempts: attempts - ((o.status ?? "succeeded") === "succeeded" ? 1 : 0),
    ...o,
  };
}

/** An enqueue call and its answer. */
function enqueue(
  n: number,
  id: string,
  t: number,
  o: Partial<ProducerEntry> & { answerId?: string; duplicate?: boolean } = {},
): ProducerEntry[] {
  const { answerId, duplicate, ...call } = o;
  return [
    { ev: "call", gen: 0, n, t, op: "enqueue", kind: "ok", ids: [id], keys: [`k-${id}`], ...call },
    { ev: "answer", gen: 0, n, t: t + 5, answer: [{ id: answerId ?? id, duplicate: duplicate ?? false }] },
  ];
}

function input(o: Partial<HistoryInput>): HistoryInput {
  return { events: [], producer: [], final: [], fleet: [], config: WORKLOAD, ...o };
}

/** The promises the violations name. */
const promises = (o: Partial<HistoryInput>) =>
  checkHistory(input(o)).map((v) => `${v.promise}: ${v.id ?? ""}`);

describe("history checker", () => {
  it("a clean history has no violation", () => {
    expect(
      promises({ producer: enqueue(1, "a", T), events: run("a", 1, T + 10, T + 20), final: [task("a")] }),
    ).toEqual([]);
  });

  it("no task lost: an answered id missing from the store, or a task not finished after the drain", () => {
    expect(promises({ producer: enqueue(1, "a", T), final: [] })).toEqual(["no task lost: a"]);
    expect(promises({ final: [task("b", { status: "queued", result: null })] })).toEqual(["no task lost: b"]);
  });

  it("one task per key, and a duplicate answered with the original id", () => {
    const dup = [
      ...enqueue(1, "a", T),
      ...enqueue(2, "a2", T + 10, { keys: ["k-a"], answerId: "a", duplicate: true }),
    ];
    const events = run("a", 1, T + 20, T + 30);
    expect(promises({ producer: dup, events, final: [task("a")] })).toEqual([]);
    const wrongId = [
      ...enqueue(1, "a", T),
      ...enqueue(2, "a2", T + 10, { keys: ["k-a"], answerId: "a2", duplicate: true }),
    ];
    expect(promises({ producer: wrongId, events, final: [task("a")] })).toEqual([
      "no task lost: a2",
      "duplicate answered with the original id: a2",
    ]);
    expect(
      promises({
        events,
        final: [task("a"), task("a-again", { key: "k-a", result: null, status: "cancelled" })],
      }),
    ).toEqual(["one task per key: a"]);
  });

  it("a stored result is what an attempt returned, and result(id) answers it", () => {
    const events = run("a", 1, T, T + 10);
    expect(promises({ events, final: [task("a", { result: { id: "a", attempt: 2, pid: 1 } })] })).toEqual([
      "stored result is an attempt's: a",
    ]);
    const asked: ProducerEntry[] = [
      { ev: "call", gen: 0, n: 1, t: T, op: "result", id: "a" },
      { ev: "answer", gen: 0, n: 1, t: T + 20, answer: { id: "a", attempt: 1, pid: 1 } },
    ];
    expect(promises({ events, producer: asked, final: [task("a")] })).toEqual([]);
    const wrong = [asked[0]!, { ...asked[1]!, answer: { id: "a", attempt: 9, pid: 1 } }];
    expect(promises({ events, producer: wrong, final: [task("a")] })).toEqual([
      "result(id) is the stored result: a",
    ]);
  });

  it("one attempt at a time, unless one of them lost its lease (frozen, or its outcome refused); its result then not stored", () => {
    const overlap = [...run("a", 1, T, T + 5000, { pid: 1 }), ...run("a", 2, T + 3000, T + 3100, { pid: 2 })];
    const final = [task("a", { attempts: 2, result: { id: "a", attempt: 2, pid: 2 } })];
    // both outcomes recorded: the store took two holders at once
    expect(promises({ events: overlap, final })).toEqual(["one attempt at a time: a"]);
    const frozen: FleetEntry[] = [{ ev: "stop-worker", t: T + 100, tEnd: T + 4900, pid: 1 }];
    expect(promises({ events: overlap, final, fleet: frozen })).toEqual([]);
    // a lease lost with no freeze (a server restart kept the heartbeat out): the store refused it
    const refused = [
      ...run("a", 1, T, T + 5000, { pid: 1, refused: true }),
      ...run("a", 2, T + 3000, T + 3100, { pid: 2 }),
    ];
    expect(promises({ events: refused, final })).toEqual([]);
    const staleKept = [task("a", { attempts: 2, result: { id: "a", attempt: 1, pid: 1 } })];
    expect(promises({ events: overlap, final: staleKept, fleet: frozen })).toEqual([
      "a stale attempt's result is not stored: a",
    ]);
  });

  it("a cancel holds: answered cancelled, never started after; answered running, no new attempt", () => {
    const cancel = (answer: unknown): ProducerEntry[] => [
      ...enqueue(1, "a", T),
      { ev: "call", gen: 0, n: 2, t: T + 100, op: "cancel", id: "a" },
      { ev: "answer", gen: 0, n: 2, t: T + 110, answer },
    ];
    const cancelled = task("a", { status: "cancelled", result: null, attempts: 0 });
    expect(promises({ producer: cancel({ status: "cancelled", attempts: 0 }), final: [cancelled] })).toEqual(
      [],
    );
    expect(
      promises({
        producer: cancel({ status: "cancelled", attempts: 0 }),
        events: run("a", 1, T + 200, T + 300),
        final: [task("a")],
      }),
    ).toEqual(["cancel holds: a", "cancel holds: a"]);
    // requested while attempt 1 ran: it may finish first; attempt 2 must never start
    const ran = run("a", 1, T + 50, T + 150);
    expect(
      promises({ producer: cancel({ status: "running", attempts: 1 }), events: ran, final: [task("a")] }),
    ).toEqual([]);
    const again = [...ran, ...run("a", 2, T + 3000, T + 3100)];
    expect(
      promises({
        producer: cancel({ status: "running", attempts: 1 }),
        events: again,
        final: [task("a", { attempts: 2 })],
      }),
    ).toEqual(["cancel holds: a", "cancel holds: a"]);
  });

  it("a delayed task never starts before its time", () => {
    const producer = enqueue(1, "a", T, { notBefore: T + 1000 });
    expect(promises({ producer, events: run("a", 1, T + 1001, T + 1100), final: [task("a")] })).toEqual([]);
    expect(promises({ producer, events: run("a", 1, T + 900, T + 1000), final: [task("a")] })).toEqual([
      "not before runAt: a",
    ]);
  });

  it("every attempt kept: each that ended other than in success, the succeeded one being the task's own", () => {
    const two = [1, 2].flatMap((n) =>
      run("a", n, T + n * 100, T + n * 100 + 50, n === 1 ? { outcome: "transient" } : {}),
    );
    expect(
      promises({ events: two, final: [task("a", { attempts: 2, result: { id: "a", attempt: 2, pid: 1 } })] }),
    ).toEqual([]);
    expect(
      promises({
        events: two,
        final: [task("a", { attempts: 2, keptAttempts: 0, result: { id: "a", attempt: 2, pid: 1 } })],
      }),
    ).toEqual(["every attempt kept: a"]);
    const failed = run("a", 1, T, T + 10, { outcome: "permanent" });
    expect(
      promises({
        events: failed,
        final: [task("a", { status: "failed", attempts: 1, keptAttempts: 0, result: null })],
      }),
    ).toEqual(["every attempt kept: a"]);
  });

  it("attempts within maxAttempts; failed only when permanent or out of attempts", () => {
    const four = [1, 2, 3, 4].flatMap((n) =>
      run("a", n, T + n * 100, T + n * 100 + 50, { outcome: "transient" }),
    );
    expect(
      promises({ events: four, final: [task("a", { status: "failed", attempts: 4, result: null })] }),
    ).toEqual(["attempts within maxAttempts: a"]);
    const three = four.slice(0, 6);
    expect(
      promises({ events: three, final: [task("a", { status: "failed", attempts: 3, result: null })] }),
    ).toEqual([]);
    const one = run("a", 1, T, T + 10, { outcome: "transient" });
    expect(
      promises({ events: one, final: [task("a", { status: "failed", attempts: 1, result: null })] }),
    ).toEqual(["failed only when permanent or out of attempts: a"]);
    const permanent = run("a", 1, T, T + 10, { outcome: "permanent" });
    expect(
      promises({ events: permanent, final: [task("a", { status: "failed", attempts: 1, result: null })] }),
    ).toEqual([]);
  });

  it("the fleet's concurrency limit, not counting a frozen process's attempts", () => {
    const limited = (ids: string[]) =>
      ids.flatMap((id, i) => run(id, 1, T + i, T + 500, { kind: "limited", pid: i + 1 }));
    const final = (ids: string[]) =>
      ids.map((id, i) => task(id, { kind: "limited", result: { id, attempt: 1, pid: i + 1 } }));
    expect(promises({ events: limited(["a", "b"]), final: final(["a", "b"]) })).toEqual([]);
    expect(promises({ events: limited(["a", "b", "c"]), final: final(["a", "b", "c"]) })).toEqual([
      "fleet concurrency limit: c",
    ]);
    const frozen: FleetEntry[] = [{ ev: "stop-worker", t: T + 100, tEnd: T + 400, pid: 1 }];
    expect(
      promises({ events: limited(["a", "b", "c"]), final: final(["a", "b", "c"]), fleet: frozen }),
    ).toEqual([]);
  });

  it("the fleet's rate limit, windows rebuilt as the store keeps them", () => {
    const { limit, intervalMs } = WORKLOAD.rate.rated!;
    const starts = (times: number[]) =>
      times.flatMap((t, i) => run(`r${i}`, 1, t, t + 10, { kind: "rated" }));
    const final = (times: number[]) =>
      times.map((t, i) => task(`r${i}`, { kind: "rated", startedAt: t - 1 }));
    // a full window, then a full next one right after it closed
    const ok = [
      ...Array.from({ length: limit }, (_, i) => T + i),
      ...Array.from({ length: limit }, (_, i) => T + intervalMs + i),
    ];
    expect(promises({ events: starts(ok), final: final(ok) })).toEqual([]);
    const over = Array.from({ length: limit + 1 }, (_, i) => T + i * 10);
    expect(promises({ events: starts(over), final: final(over) })).toEqual([`fleet rate limit: r${limit}`]);
  });

  it("each cron occurrence enqueued once, none missed without a fault, and run once", () => {
    const at = (s: number) => new Date(T + s * 1000).toISOString();
    const cron = (secs: number[]) =>
      secs.map((s) => task(`c${s}`, { kind: "cron", key: `schedule:${WORKLOAD.cron.name}@${at(s)}` }));
    const runs = (secs: number[]) =>
      secs.flatMap((s) => run(`c${s}`, 1, T + s * 1000 + 100, T + s * 1000 + 200, { kind: "cron" }));
    expect(promises({ final: cron([0, 2, 4]), events: runs([0, 2, 4]) })).toEqual([]);
    expect(promises({ final: cron([0, 2, 6]), events: runs([0, 2, 6]) })).toEqual([
      "each cron occurrence enqueued once: c6",
    ]);
    const killed: FleetEntry[] = [
      { ev: "kill-worker", t: T + 2500, pid: 1 },
      { ev: "spawn", t: T + 3000, pid: 2 },
    ];
    expect(promises({ final: cron([0, 2, 6]), events: runs([0, 2, 6]), fleet: killed })).toEqual([]);
    const twice = [...runs([0]), ...run("c0", 2, T + 300, T + 400, { kind: "cron", pid: 2 })];
    expect(promises({ final: cron([0]), events: twice })).toEqual(["each cron occurrence run once: c0"]);
  });

  it("priority order in a burst due while the one-slot kind was idle, and only in a stretch without faults", () => {
    const due = T + 1000;
    const burst = (priorities: number[]) =>
      priorities.flatMap((p, i) =>
        enqueue(i + 1, `p${i}`, T + i * 10, { kind: "prio", priority: p, notBefore: due, burst: "b" }),
      );
    const final = (n: number) => Array.from({ length: n }, (_, i) => task(`p${i}`, { kind: "prio" }));
    const ran = (order: number[]) =>
      order.flatMap((i, k) => run(`p${i}`, 1, due + k * 50, due + k * 50 + 40, { kind: "prio" }));
    // priorities 1, 3, 1: p1 first, then p0 and p2 in the order stored
    expect(promises({ producer: burst([1, 3, 1]), final: final(3), events: ran([1, 0, 2]) })).toEqual([]);
    expect(promises({ producer: burst([1, 3, 1]), final: final(3), events: ran([1, 2, 0]) })).toEqual([
      "priority order: p2",
    ]);
    const restart: FleetEntry[] = [{ ev: "pg-restart", t: due + 20, tEnd: due + 30 }];
    expect(
      promises({ producer: burst([1, 3, 1]), final: final(3), events: ran([1, 2, 0]), fleet: restart }),
    ).toEqual([]);
  });

  it("a process that exits by itself is reported", () => {
    const fleet: FleetEntry[] = [
      { ev: "exit", t: T, pid: 7, role: "worker", expected: false, code: 1, signal: null },
      { ev: "exit", t: T, pid: 8, role: "worker", expected: true, code: null, signal: "SIGKILL" },
    ];
    expect(promises({ fleet })).toEqual(["processes survive store faults: "]);
  });
});
