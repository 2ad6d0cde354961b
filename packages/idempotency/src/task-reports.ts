// A running task's progress and log lines (issue 35): what a worker writes for `ctx.progress` and
// `ctx.log`, the bounds, and the reads. One meaning for both drivers: the SQLite driver runs
// `writeReportsSqlite` in its transaction; the PostgreSQL driver one `task_report` statement for
// every report of the call (unnest). Each write is fenced by the lease: only the owner that holds the task, at the attempt
// that reports, writes anything, and `version` is never touched (the outcome's guarded
// transition is unaffected by any number of progress writes).

import * as validate from "./validate.js";

/** The largest progress value, serialized as JSON (UTF-8 bytes). */
export const PROGRESS_MAX_BYTES = 4096;
/** The most log lines a task keeps (over all its attempts); the lines past it are counted, not kept. */
export const LOG_MAX_LINES = 1000;
/** The longest log line kept, in characters: a longer one is cut there (and ends with "…"). */
export const LOG_LINE_MAX_CHARS = 2000;

/** One log line as a worker sends it. */
export interface TaskLogEntry {
  /** When the handler logged it (epoch ms, the worker's clock). */
  readonly at: number;
  readonly line: string;
}

/** What a worker writes for one running task (its attempt), coalesced: the last progress, the new lines. */
export interface TaskReport {
  readonly kind: string;
  readonly key: string;
  /** The attempt that reports: only while the task runs that attempt under this store's owner. */
  readonly attempt: number;
  /** The last progress value as JSON text (at most PROGRESS_MAX_BYTES), or undefined to leave it. */
  readonly progress?: string;
  /** New log lines, in order. */
  readonly lines?: readonly TaskLogEntry[];
  /** Lines the worker dropped before sending them (its own buffer was full): counted as dropped. */
  readonly dropped?: number;
}

/** One kept log line of a task. */
export interface TaskLogLine {
  /** Its number within the task, from 1. */
  readonly seq: number;
  /** When it was logged (epoch ms, the worker's clock). */
  readonly at: number;
  readonly attempt: number;
  readonly line: string;
}

/**
 * A task's log: the first LOG_MAX_LINES lines it logged (over every attempt), and how many more
 * were dropped (0: none).
 */
export interface TaskLog {
  readonly lines: readonly TaskLogLine[];
  readonly dropped: number;
}

/** A `task_logs` row. */
export interface TaskLogRow {
  task_seq: number;
  seq: number;
  at: number;
  attempt: number;
  line: string;
}

/** The rows of a task's log as a TaskLog: the marker row (past the cap) says how many were dropped. */
export function toTaskLog(rows: readonly TaskLogRow[]): TaskLog {
  const lines: TaskLogLine[] = [];
  let dropped = 0;
  for (const r of rows) {
    const seq = Number(r.seq);
    if (seq > LOG_MAX_LINES) dropped += Number(r.line);
    else lines.push({ seq, at: Number(r.at), attempt: r.attempt, line: r.line });
  }
  return { lines, dropped };
}

/** A log line as kept: text, cut at LOG_LINE_MAX_CHARS. */
export function boundedLine(line: string): string {
  return line.length <= LOG_LINE_MAX_CHARS ? line : `${line.slice(0, LOG_LINE_MAX_CHARS - 1)}…`;
}

/**
 * Why a progress value (JSON text) is too large to keep, or undefined: the one home of the
 * PROGRESS_MAX_BYTES rule, applied by every driver to what it is given (checkReports) and by
 * `ctx.progress` where the handler runs, so the handler hears it at the call.
 */
export function progressTooLarge(json: string): string | undefined {
  // at most 3 bytes a UTF-16 unit: text this short fits whatever it holds, without measuring it
  if (json.length * 3 <= PROGRESS_MAX_BYTES) return undefined;
  const bytes = Buffer.byteLength(json);
  return bytes <= PROGRESS_MAX_BYTES
    ? undefined
    : `is ${bytes} bytes as JSON, more than the ${PROGRESS_MAX_BYTES} allowed`;
}

/** Checks reports the same way for every driver; ERR_INVALID_INPUT names what was wrong. */
export function checkReports(reports: readonly TaskReport[]): void {
  if (!Array.isArray(reports)) validate.invalid("reports must be an array");
  for (const r of reports) {
    if (typeof r?.kind !== "string" || typeof r.key !== "string")
      validate.invalid("a report needs its task's kind and key");
    if (!Number.isInteger(r.attempt) || r.attempt < 1)
      validate.invalid(`a report's attempt must be a positive integer, got ${r.attempt}`);
    if (r.progress !== undefined) {
      if (typeof r.progress !== "string") validate.invalid("progress must be JSON text");
      const tooLarge = progressTooLarge(r.progress);
      if (tooLarge) validate.invalid(`progress ${tooLarge}`);
    }
    for (const l of r.lines ?? [])
      if (typeof l?.line !== "string" || !Number.isFinite(l.at))
        validate.invalid("a log line must be { at: epoch ms, line: string }");
    if (r.dropped !== undefined && (!Number.isInteger(r.dropped) || r.dropped < 0))
      validate.invalid(`dropped must be a non-negative integer, got ${r.dropped}`);
  }
}

/** The SQLite statements a report runs (a subset of SqliteStatements). */
interface ReportStatements {
  readonly task_report_lease: {
    get(p: { kind: string; key: string; owner: string; attempt: number }): unknown;
  };
  readonly task_progress_set: { run(p: { seq: number; progress: string }): unknown };
  readonly task_log_last: { get(p: { task_seq: number; cap: number }): unknown };
  readonly task_log_insert: {
    run(p: { task_seq: number; seq: number; at: number; attempt: number; line: string }): unknown;
  };
  readonly task_log_dropped: {
    run(p: { task_seq: number; seq: number; at: number; attempt: number; dropped: string }): unknown;
  };
}

/**
 * Writes reports through SQLite's statements (the caller holds the transaction). Returns, for
 * each, whether it was written (false: fenced, the owner no longer holds that attempt).
 */
export function writeReportsSqlite(
  s: ReportStatements,
  owner: string,
  reports: readonly TaskReport[],
): boolean[] {
  return reports.map((r) => {
    const task = s.task_report_lease.get({ kind: r.kind, key: r.key, owner, attempt: r.attempt }) as
      | { seq: number }
      | undefined;
    if (!task) return false;
    const seq = task.seq;
    if (r.progress !== undefined) s.task_progress_set.run({ seq, progress: r.progress });
    const lines = r.lines ?? [];
    let dropped = r.dropped ?? 0;
    let dropAt = lines.length > 0 ? (lines[lines.length - 1] as TaskLogEntry).at : Date.now();
    if (lines.length > 0) {
      const last = (s.task_log_last.get({ task_seq: seq, cap: LOG_MAX_LINES }) as { n: number }).n;
      const room = Math.max(0, LOG_MAX_LINES - last);
      lines.slice(0, room).forEach((l, i) => {
        s.task_log_insert.run({
          task_seq: seq,
          seq: last + i + 1,
          at: l.at,
          attempt: r.attempt,
          line: boundedLine(l.line),
        });
      });
      dropped += Math.max(0, lines.length - room);
      dropAt = (lines[lines.length - 1] as TaskLogEntry).at;
    }
    if (dropped > 0)
      s.task_log_dropped.run({
        task_seq: seq,
        seq: LOG_MAX_LINES + 1,
        at: dropAt,
        attempt: r.attempt,
        dropped: String(dropped),
      });
    return true;
  });
}
