import type { MetricsReport } from "./export-json.js";

/** CSV columns, in a stable order: every report field, then any extra columns the caller adds. */
export const CSV_COLUMNS = [
  "timestamp",
  "duration_seconds",
  "threads",
  "enqueue_count",
  "dequeue_count",
  "success_count",
  "fail_count",
  "retry_count",
  "duplicate_count",
  "rejection_count",
  "blocked_admission_count",
  "throughput_tps",
  "enqueue_rate",
  "dequeue_rate",
  "error_rate",
  "mean_latency_ms",
  "p50_latency_ms",
  "p95_latency_ms",
  "p99_latency_ms",
  "max_latency_ms",
  "wait_mean_ms",
  "wait_p50_ms",
  "wait_p95_ms",
  "wait_p99_ms",
  "wait_max_ms",
  "run_mean_ms",
  "run_p50_ms",
  "run_p95_ms",
  "run_p99_ms",
  "run_max_ms",
  "avg_queue_depth",
  "max_queue_depth",
  "thread_utilization",
  "error_classification",
] as const satisfies ReadonlyArray<keyof MetricsReport>;

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(value: unknown): string {
  const text = value === undefined || value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** `error_classification` as `class=count` pairs joined by `;` (sorted by class). */
function classification(report: MetricsReport): string {
  return Object.entries(report.error_classification)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
}

/** The header line, with extra leading columns (e.g. `label`, `clients`) when given. */
export function csvHeader(extra: readonly string[] = []): string {
  return [...extra, ...CSV_COLUMNS].map(csvField).join(",");
}

/** One run as a CSV line; `extra` values go in front, in the order of the header's extra columns. */
export function csvRow(report: MetricsReport, extra: readonly unknown[] = []): string {
  const values = CSV_COLUMNS.map((column) =>
    column === "error_classification" ? classification(report) : report[column],
  );
  return [...extra, ...values].map(csvField).join(",");
}

/** A whole CSV document: the header once, then one line per run. */
export function toCsv(reports: readonly MetricsReport[]): string {
  return `${[csvHeader(), ...reports.map((report) => csvRow(report))].join("\n")}\n`;
}
