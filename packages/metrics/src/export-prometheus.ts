import type { LatencySummary } from "./latency-histogram.js";
import type { MetricsSnapshot } from "./recorder.js";

function help(lines: string[], name: string, type: "counter" | "gauge" | "summary", text: string): void {
  lines.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);
}

/** A label value escaped for the Prometheus text format. */
export function labelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  return String(value);
}

function summary(lines: string[], name: string, stage: string, s: LatencySummary): void {
  for (const [q, v] of [
    ["0.5", s.p50],
    ["0.95", s.p95],
    ["0.99", s.p99],
  ] as const) {
    lines.push(`${name}{stage="${stage}",quantile="${q}"} ${num(v / 1000)}`);
  }
  lines.push(
    `${name}_sum{stage="${stage}"} ${num(s.sum / 1000)}`,
    `${name}_count{stage="${stage}"} ${s.count}`,
  );
}

/**
 * The snapshot in the Prometheus text exposition format (version 0.0.4): counters with
 * `_total`, latency as summaries in seconds with quantiles, depth and utilization as gauges.
 */
export function toPrometheus(snapshot: MetricsSnapshot, prefix = "taskq"): string {
  const lines: string[] = [];
  const counters: [string, string, number][] = [
    ["enqueued", "Tasks admitted to the bounded queue.", snapshot.enqueued],
    ["dequeued", "Tasks taken from the queue by a worker slot.", snapshot.dequeued],
    ["succeeded", "Tasks that succeeded.", snapshot.succeeded],
    ["failed", "Tasks that failed for good (dead-lettered).", snapshot.failed],
    ["retried", "Attempts that failed and were scheduled again.", snapshot.retried],
    ["rejected", "Submissions turned away because the queue was full.", snapshot.rejected],
    ["blocked", "Admissions that waited for space in a full queue.", snapshot.blocked],
    ["duplicates", "Submissions answered from the idempotency store without running.", snapshot.duplicates],
  ];
  for (const [name, text, value] of counters) {
    help(lines, `${prefix}_tasks_${name}_total`, "counter", text);
    lines.push(`${prefix}_tasks_${name}_total ${value}`);
  }
  help(lines, `${prefix}_errors_total`, "counter", "Failed attempts by error class.");
  for (const [errorClass, count] of Object.entries(snapshot.errorClassification).sort()) {
    lines.push(`${prefix}_errors_total{class="${labelValue(errorClass)}"} ${count}`);
  }
  const latency = `${prefix}_task_latency_seconds`;
  help(
    lines,
    latency,
    "summary",
    "Task latency: total from submit, wait (admission + queue), run (in the worker).",
  );
  summary(lines, latency, "total", snapshot.latency);
  summary(lines, latency, "wait", snapshot.wait);
  summary(lines, latency, "run", snapshot.run);
  const gauges: [string, string, number][] = [
    ["queue_depth", "Items in the bounded queue now.", snapshot.queueDepth],
    ["queue_depth_avg", "Time-weighted mean queue depth since start.", snapshot.avgQueueDepth],
    ["queue_depth_max", "Largest queue depth since start.", snapshot.maxQueueDepth],
    ["thread_utilization_ratio", "Busy time / (threads x wall time).", snapshot.threadUtilization],
    ["throughput_tasks_per_second", "Succeeded tasks / wall seconds.", snapshot.throughputTps],
    ["uptime_seconds", "Wall seconds since the recorder started.", snapshot.durationSeconds],
  ];
  for (const [name, text, value] of gauges) {
    help(lines, `${prefix}_${name}`, "gauge", text);
    lines.push(`${prefix}_${name} ${num(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Adds labels to every sample of a Prometheus text (e.g. `{ node: "host:pid" }`, so a fleet's
 * scrapes can be told apart); comment lines pass through.
 */
export function withLabels(text: string, labels: Readonly<Record<string, string>>): string {
  const extra = Object.entries(labels)
    .map(([name, value]) => `${name}="${labelValue(value)}"`)
    .join(",");
  if (!extra) return text;
  return text.replace(
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? /gm,
    (_, name: string, _braces, inner?: string) =>
      inner ? `${name}{${inner},${extra}} ` : `${name}{${extra}} `,
  );
}
