import type { MetricsReport } from "@taskq/metrics";

const RULE = "=".repeat(71);

/** The seed's "BENCHMARK RESULTS" block. */
export function formatSummary(report: MetricsReport, title = "BENCHMARK RESULTS"): string {
  const rows: [string, string][] = [
    ["Duration", `${report.duration_seconds.toFixed(2)}s`],
    ["Enqueued", String(report.enqueue_count)],
    ["Dequeued", String(report.dequeue_count)],
    ["Success", String(report.success_count)],
    ["Failed", String(report.fail_count)],
    ["Retries", String(report.retry_count)],
    ["Duplicates", String(report.duplicate_count)],
    ["Rejections", String(report.rejection_count)],
    ["Throughput", `${report.throughput_tps.toFixed(2)} tasks/sec`],
    ["Mean Latency", `${report.mean_latency_ms.toFixed(2)} ms`],
    ["P95 Latency", `${report.p95_latency_ms.toFixed(2)} ms`],
    ["P99 Latency", `${report.p99_latency_ms.toFixed(2)} ms`],
    ["Avg Queue Depth", report.avg_queue_depth.toFixed(2)],
    ["Max Queue Depth", String(report.max_queue_depth)],
    ["Thread Utilization", `${(report.thread_utilization * 100).toFixed(1)}%`],
    ["Error Rate", `${(report.error_rate * 100).toFixed(2)}%`],
  ];
  const errors = Object.entries(report.error_classification);
  if (errors.length > 0) rows.push(["Errors", errors.map(([k, v]) => `${k}=${v}`).join(", ")]);
  return [RULE, title, RULE, ...rows.map(([k, v]) => `${k}: ${v}`), RULE].join("\n");
}
