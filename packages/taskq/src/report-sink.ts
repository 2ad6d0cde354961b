// A running task's progress and log lines (issue 35), the worker's side: what `ctx.progress` and
// `ctx.log` check where the handler runs (its thread or process too), the ReportSink they hand
// their message to (a thread's lane, a process's IPC channel, or a plain call with `threads: 0`),
// and TaskReporter, which writes them to the store there: coalesced (at most one write a task
// every REPORT_INTERVAL_MS, the last progress winning, the lines in order, every task's in one
// store call), and flushed before the attempt's outcome is stored. The store fences each write by
// the lease (the owner that holds the task, at that attempt), so a stale worker's reports write
// nothing. The bounds and their checks have one home, the store package's task-reports.ts: the
// progress size (progressTooLarge, applied here too so the handler hears it at the call), what a
// task keeps of its log (LOG_MAX_LINES lines, each cut at LOG_LINE_MAX_CHARS: the drivers alone).
// Here LOG_MAX_LINES only bounds what waits in memory per attempt (ReportBuffer): more could
// never be kept.
import { LOG_MAX_LINES, progressTooLarge, type TaskReport, type TaskStoreDriver } from "@taskq/idempotency";
import type { LoggerPort } from "@taskq/queue";
import { PayloadError } from "./errors.js";
import { findNonJson } from "./json-value.js";

/** How often a worker writes a task's progress and log lines at most, ms. */
export const REPORT_INTERVAL_MS = 200;

/** One report from a handler: its progress as JSON text (`p`), or a log line (`l`, logged at `at`). */
export type ReportMessage = { readonly p: string } | { readonly l: string; readonly at: number };

/** Where a handler's reports go: the task's kind and key, its attempt, the message. */
export type ReportSink = (kind: string, key: string, attempt: number, message: ReportMessage) => void;

/**
 * `ctx.progress(value)`'s value as JSON text: any JSON value but null (a number, a string, a
 * small object), at most PROGRESS_MAX_BYTES as JSON (progressTooLarge). Else a PayloadError
 * naming what was wrong.
 */
export function progressJson(value: unknown): string {
  if (value === null || value === undefined)
    throw new PayloadError("progress", `must be a JSON value (a number, or a small object), got ${value}`);
  const bad = findNonJson(value, "progress");
  if (bad) throw new PayloadError(bad.path, bad.reason);
  const json = JSON.stringify(value);
  const tooLarge = progressTooLarge(json);
  if (tooLarge) throw new PayloadError("progress", tooLarge);
  return json;
}

/** `ctx.log(line)`'s line: a string (cut at LOG_LINE_MAX_CHARS by the store, not here). Else a PayloadError. */
export function logLine(line: unknown): string {
  if (typeof line !== "string") throw new PayloadError("log line", `must be a string, got ${typeof line}`);
  return line;
}

/** One task attempt's reports, coalesced: its last progress, its lines in order, how many more were dropped. */
export interface ReportEntry {
  readonly kind: string;
  readonly key: string;
  readonly attempt: number;
  progress: string | undefined;
  lines: { at: number; line: string }[];
  /** Lines past LOG_MAX_LINES waiting here: counted, not kept (a memory bound: the store could keep no more anyway). */
  dropped: number;
}

/**
 * Reports waiting to be sent or written, by task and attempt, bounded: the last progress of each
 * and at most LOG_MAX_LINES lines (the rest counted). Used where a handler runs (a thread or
 * process, whose reports cross to the main thread a turn at a time) and by TaskReporter.
 */
export class ReportBuffer {
  #entries = new Map<string, ReportEntry>();

  get size(): number {
    return this.#entries.size;
  }

  readonly add: ReportSink = (kind, key, attempt, message) => {
    const e = this.#entry(kind, key, attempt);
    if ("p" in message) e.progress = message.p;
    else if (e.lines.length < LOG_MAX_LINES) e.lines.push({ at: message.at, line: message.l });
    else e.dropped++;
  };

  /** Adds what another buffer drained (a thread's or process's reports). */
  merge(from: ReportEntry): void {
    const e = this.#entry(from.kind, from.key, from.attempt);
    if (from.progress !== undefined) e.progress = from.progress;
    const room = Math.max(0, LOG_MAX_LINES - e.lines.length);
    e.lines.push(...from.lines.slice(0, room));
    e.dropped += from.dropped + Math.max(0, from.lines.length - room);
  }

  /** Takes one attempt's entry out, if any. */
  take(kind: string, key: string, attempt: number): ReportEntry | undefined {
    return this.takeId(taskId(kind, key, attempt));
  }

  /** Takes one attempt's entry out by its taskId. */
  takeId(id: string): ReportEntry | undefined {
    if (this.#entries.size === 0) return undefined;
    const e = this.#entries.get(id);
    if (e) this.#entries.delete(id);
    return e;
  }

  /** Takes every entry out. */
  drain(): ReportEntry[] {
    const all = [...this.#entries.values()];
    this.#entries = new Map();
    return all;
  }

  #entry(kind: string, key: string, attempt: number): ReportEntry {
    const id = taskId(kind, key, attempt);
    let e = this.#entries.get(id);
    if (!e) {
      e = { kind, key, attempt, progress: undefined, lines: [], dropped: 0 };
      this.#entries.set(id, e);
    }
    return e;
  }
}

/**
 * A ReportSink where a handler runs apart from the main thread (a thread, a process): reports
 * are buffered (bounded) and sent with `send` once a turn, and by `flush` as an attempt ends,
 * before its outcome is sent.
 */
export function bufferedSink(send: (entries: ReportEntry[]) => void): {
  readonly report: ReportSink;
  readonly flush: () => void;
} {
  const buffer = new ReportBuffer();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffer.size > 0) send(buffer.drain());
  };
  return {
    report: (kind, key, attempt, message) => {
      buffer.add(kind, key, attempt, message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/**
 * Writes the progress and log lines reported on this worker, coalesced. Tasks that never report
 * cost nothing: no entry, no timer, and `settle` answers undefined at once.
 */
export class TaskReporter {
  readonly #store: Pick<TaskStoreDriver, "report">;
  readonly #logger: LoggerPort;
  readonly #intervalMs: number;
  /** What waits for the next write, by task (kind, key) and attempt. */
  readonly #pending = new ReportBuffer();
  /** The write in flight (one at a time, so a task's writes land in order). */
  #writing: Promise<void> = Promise.resolve();
  /** The tasks of the writes queued or in flight, with how many each (a settle waits for them). */
  readonly #inFlight = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(store: Pick<TaskStoreDriver, "report">, logger: LoggerPort, intervalMs = REPORT_INTERVAL_MS) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** A report from a handler (the ReportSink of this worker). */
  readonly add: ReportSink = (kind, key, attempt, message) => {
    if (this.#closed) return;
    this.#pending.add(kind, key, attempt, message);
    this.#timer ??= setTimeout(this.#tick, this.#intervalMs).unref();
  };

  /** Reports a thread or process buffered (bufferedSink), a turn's at a time. */
  merge(entries: readonly ReportEntry[]): void {
    if (this.#closed) return;
    for (const e of entries) this.#pending.merge(e);
    this.#timer ??= setTimeout(this.#tick, this.#intervalMs).unref();
  }

  /**
   * Before an attempt's outcome is stored: its reports written (the pending ones now, and the write
   * in flight). Undefined, at once, for an attempt with nothing to write.
   */
  settle(kind: string, key: string, attempt: number): Promise<void> | undefined {
    // the usual case, an attempt of a worker where nothing reported: two size checks, nothing
    // made, no promise
    if (this.#pending.size === 0 && this.#inFlight.size === 0) return undefined;
    const id = taskId(kind, key, attempt);
    const pending = this.#pending.takeId(id);
    if (pending) return this.#write([pending]);
    return this.#inFlight.has(id) ? this.#writing : undefined;
  }

  /** Writes everything pending; later reports are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#write(this.#pending.drain());
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    void this.#write(this.#pending.drain());
  };

  /** Queues one store call for `batch` after the write in flight; a failure is logged (reports are best effort). */
  #write(batch: ReportEntry[]): Promise<void> {
    if (batch.length === 0) return this.#writing;
    const ids = batch.map((p) => taskId(p.kind, p.key, p.attempt));
    const reports = batch.map(
      (p): TaskReport => ({
        kind: p.kind,
        key: p.key,
        attempt: p.attempt,
        ...(p.progress === undefined ? {} : { progress: p.progress }),
        ...(p.lines.length === 0 ? {} : { lines: p.lines }),
        ...(p.dropped === 0 ? {} : { dropped: p.dropped }),
      }),
    );
    for (const id of ids) this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
    const write = this.#writing.then(() =>
      this.#store.report(reports).then(
        () => undefined,
        (error: unknown) =>
          this.#logger.warn(
            { error_class: "report", tasks: reports.length },
            `progress and log lines of ${reports.length} task(s) not written: ${(error as Error)?.message ?? String(error)}`,
          ),
      ),
    );
    this.#writing = write;
    void write.then(() => {
      for (const id of ids) {
        const left = (this.#inFlight.get(id) ?? 1) - 1;
        if (left === 0) this.#inFlight.delete(id);
        else this.#inFlight.set(id, left);
      }
    });
    return write;
  }
}

function taskId(kind: string, key: string, attempt: number): string {
  return `${kind}\u0000${key}\u0000${attempt}`;
}
