// The checker's view of a history: each attempt as an interval (its handler's start to its
// finish, or to its process's death when it never finished), and the faults that excuse what a
// fault-free run would never do: a process frozen past its lease has its tasks taken over while
// its handlers still run, so two attempts of one task may overlap and a limit may count one less.
import type { AttemptEvent, FinalTask, FleetEntry, ProducerEntry } from "./model.js";

export interface Attempt {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly attempt: number;
  readonly pid: number;
  readonly start: number;
  /** The finish, or the process's exit; Infinity when neither is known. */
  end: number;
  outcome: AttemptEvent["outcome"] | "died" | "unknown";
  /**
   * The store recorded its outcome (its worker's outcome hook ran: succeeded, retrying,
   * deadLettered, cancelled). False: the store refused it, as it refuses a holder whose lease was
   * lost and taken over (or its process died first).
   */
  recorded: boolean;
  result?: unknown;
}

/** A window in which a fault held: [t, tEnd]. */
export interface Window {
  readonly t: number;
  readonly tEnd: number;
  readonly pid?: number;
  readonly ev: FleetEntry["ev"];
}

export interface History {
  readonly attempts: readonly Attempt[];
  /** Attempts by task id, by start time. */
  readonly byTask: ReadonlyMap<string, readonly Attempt[]>;
  /** SIGSTOP windows by pid. */
  readonly frozen: ReadonlyMap<number, readonly Window[]>;
  /** Every fault's window (a kill: from the kill to its replacement's start). */
  readonly faults: readonly Window[];
  readonly final: ReadonlyMap<string, FinalTask>;
  /** The producer's calls, each with its answer or error (undefined: never answered). */
  readonly calls: readonly Call[];
}

export interface Call {
  readonly call: ProducerEntry;
  readonly reply?: ProducerEntry;
}

export function buildHistory(
  events: readonly AttemptEvent[],
  producer: readonly ProducerEntry[],
  final: readonly FinalTask[],
  fleet: readonly FleetEntry[],
): History {
  const exits = new Map<number, number>();
  for (const e of fleet) if (e.ev === "exit" && e.pid !== undefined) exits.set(e.pid, e.t);
  const open = new Map<string, Attempt>();
  const attempts: Attempt[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    const slot = `${e.pid}|${e.id}|${e.attempt}`;
    if (e.ev === "start") {
      const a: Attempt = {
        id: e.id,
        kind: e.kind,
        key: e.key,
        attempt: e.attempt,
        pid: e.pid,
        start: e.t,
        end: Number.POSITIVE_INFINITY,
        outcome: "unknown",
        recorded: false,
      };
      attempts.push(a);
      open.set(slot, a);
    } else if (e.ev === "finish") {
      const a = open.get(slot);
      if (!a) continue;
      open.delete(slot);
      a.end = e.t;
      a.outcome = e.outcome;
      if (e.outcome === "ok") a.result = e.result;
    }
  }
  // An attempt whose handler never said it finished ended with its thread (terminated past a
  // timeout): its worker answers for it (the outcome hook) only once the thread has stopped, so
  // that hook bounds it; else the process's exit does.
  const answered = new Map<string, number>();
  for (const e of events)
    if (e.ev === "hook" && e.hook !== "started") {
      const slot = `${e.pid}|${e.id}|${e.attempt}`;
      answered.set(slot, Math.min(answered.get(slot) ?? e.t, e.t));
    }
  for (const a of attempts) if (answered.has(`${a.pid}|${a.id}|${a.attempt}`)) a.recorded = true;
  for (const [slot, a] of open) {
    const hook = answered.get(slot);
    const died = exits.get(a.pid);
    if (hook !== undefined && (died === undefined || hook <= died)) {
      a.end = hook;
      a.outcome = "unknown";
    } else if (died !== undefined) {
      a.end = died;
      a.outcome = "died";
    }
  }
  const byTask = new Map<string, Attempt[]>();
  for (const a of attempts) byTask.set(a.id, [...(byTask.get(a.id) ?? []), a]);
  for (const list of byTask.values()) list.sort((x, y) => x.start - y.start);

  const frozen = new Map<number, Window[]>();
  const faults: Window[] = [];
  const spawns = fleet.filter((e) => e.ev === "spawn").map((e) => e.t);
  for (const e of fleet) {
    if (e.ev === "spawn" || e.ev === "exit") continue;
    let tEnd = e.tEnd ?? e.t;
    if (e.ev === "kill-worker" || e.ev === "kill-producer") tEnd = spawns.find((t) => t >= e.t) ?? tEnd;
    const w: Window = { t: e.t, tEnd, ev: e.ev, ...(e.pid === undefined ? {} : { pid: e.pid }) };
    faults.push(w);
    if (e.ev === "stop-worker" && e.pid !== undefined) frozen.set(e.pid, [...(frozen.get(e.pid) ?? []), w]);
  }
  // an exit the run did not cause is a fault too: the process is gone until its replacement
  for (const e of fleet)
    if (e.ev === "exit" && !e.expected)
      faults.push({ t: e.t, tEnd: spawns.find((t) => t >= e.t) ?? e.t, ev: "exit" });

  const replies = new Map<string, ProducerEntry>();
  for (const e of producer) if (e.ev !== "call") replies.set(`${e.gen}|${e.n}`, e);
  const calls = producer
    .filter((e) => e.ev === "call")
    .map((call) => {
      const reply = replies.get(`${call.gen}|${call.n}`);
      return reply === undefined ? { call } : { call, reply };
    });
  return { attempts, byTask, frozen, faults, final: new Map(final.map((t) => [t.id, t])), calls };
}

/** True when the attempt's process was frozen (SIGSTOP) at some time in [from, to]. */
export function frozenDuring(h: History, a: Attempt, from: number, to: number): boolean {
  return (h.frozen.get(a.pid) ?? []).some((w) => w.t <= to && w.tEnd >= from);
}

/** True when any fault's window meets [from, to]. */
export function faultDuring(h: History, from: number, to: number): boolean {
  return h.faults.some((w) => w.t <= to && w.tEnd >= from);
}

/** A value as comparable text (the results are built the same way everywhere, keys in order). */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
