// What a history run records and what the checker reads: one JSON object a line in each file.
// Every time is Date.now() of the process that wrote it: the machine's clock, which PostgreSQL on
// the same machine shares (the store's times, leases and due times, are on the same clock).

/** A handler's start or finish, or a lifecycle hook, appended by a worker process. */
export interface AttemptEvent {
  readonly ev: "start" | "finish" | "hook";
  readonly pid: number;
  readonly kind: string;
  readonly id: string;
  readonly key: string;
  readonly attempt: number;
  readonly t: number;
  /** finish: ok, transient, permanent, aborted (ctx.signal: a timeout or a cancel). */
  readonly outcome?: "ok" | "transient" | "permanent" | "aborted";
  /** finish ok: what the handler returned. */
  readonly result?: unknown;
  /** hook: started, succeeded, retrying, deadLettered, cancelled. */
  readonly hook?: string;
}

/** The producer's calls: one `call` line before each, one `answer` or `error` line after. */
export interface ProducerEntry {
  readonly ev: "call" | "answer" | "error";
  /** The producer's incarnation (0, then 1 after a kill...) and the call's number in it. */
  readonly gen: number;
  readonly n: number;
  readonly t: number;
  readonly op?: "enqueue" | "enqueueMany" | "cancel" | "result" | "setLimits" | "schedule";
  readonly kind?: string;
  /** enqueue: the ids asked for and the keys, one per task (enqueueMany: several). */
  readonly ids?: readonly string[];
  readonly keys?: readonly string[];
  readonly priority?: number;
  /** The earliest time the task may start (epoch ms): the call's time + delayMs, or runAt. */
  readonly notBefore?: number;
  /** cancel and result: the task's id. */
  readonly id?: string;
  /** The answer: enqueue → [{ id, duplicate }]; cancel → its status; result → the value. */
  readonly answer?: unknown;
  readonly message?: string;
  /** A priority burst's name: tasks enqueued together, due together, on a one-slot kind. */
  readonly burst?: string;
}

/** A fault, or a process's start or exit, recorded by the run. */
export interface FleetEntry {
  readonly ev:
    | "spawn"
    | "exit"
    | "kill-worker"
    | "stop-worker"
    | "pg-terminate"
    | "pg-restart"
    | "kill-producer";
  readonly t: number;
  /** When the fault ended (stop: the SIGCONT; restart: the server up again). */
  readonly tEnd?: number;
  readonly pid?: number;
  readonly role?: "worker" | "producer";
  /** exit: expected (we stopped or killed it) or not. */
  readonly expected?: boolean;
  readonly code?: number | null;
  readonly signal?: string | null;
  readonly detail?: string;
}

/** A task as the store holds it after the drain. */
export interface FinalTask {
  readonly seq: number;
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly result: unknown;
  readonly errorClass: string | null;
  readonly priority: number;
  /** When the store started its latest attempt (the take's time, the store's clock), or null. */
  readonly startedAt: number | null;
  /** The attempts the store kept for it (`store.attempts`: those that ended other than in success). */
  readonly keptAttempts: number;
}

/** The workload's settings, as the checker needs them. */
export interface WorkloadConfig {
  readonly leaseMs: number;
  readonly timeoutMs: number;
  /** Kinds with a fleet concurrency limit: kind → limit. */
  readonly concurrency: Readonly<Record<string, number>>;
  /** Kinds with a rate limit. */
  readonly rate: Readonly<Record<string, { readonly limit: number; readonly intervalMs: number }>>;
  /** The cron schedule: its name, its kind and its period, ms. */
  readonly cron: { readonly name: string; readonly kind: string; readonly everyMs: number };
  /** The one-slot kind whose priority bursts are checked. */
  readonly priorityKind: string;
  /** How far a handler's start may lag the store's take, ms (rate windows). */
  readonly startLagMs: number;
}

/** One broken promise, about one task where it names one. */
export interface Violation {
  readonly promise: string;
  readonly id?: string;
  readonly detail: string;
}

/** A violation as one line. */
export function formatViolation(v: Violation): string {
  return `VIOLATION ${v.promise}${v.id === undefined ? "" : ` task ${v.id}`}: ${v.detail}`;
}

/** Parses a JSON Lines text; a torn last line (a process killed mid-write) is skipped. */
export function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line cut short by a SIGKILL: appendFileSync writes it whole or not at all in practice
    }
  }
  return out;
}
