import type { LatencySummary } from "./latency-histogram.js";
import type { MetricsSnapshot } from "./recorder.js";

/**
 * The JSON report: the field names users of the earlier Python version know, plus the rest.
 * Times in ms, rates per second, ratios in [0, 1].
 */
export interface MetricsReport {
  timestamp: string;
  duration_seconds: number;
  threads: number;
  enqueue_count: number;
  dequeue_count: number;
  success_count: number;
  fail_count: number;
  retry_count: number;
  duplicate_count: number;
  rejection_count: number;
  blocked_admission_count: number;
  throughput_tps: number;
  enqueue_rate: number;
  dequeue_rate: number;
  error_rate: number;
  mean_latency_ms: number;
  p50_latency_ms: number;
  p95_latency_ms: number;
  p99_latency_ms: number;
  max_latency_ms: number;
  wait_mean_ms: number;
  wait_p50_ms: number;
  wait_p95_ms: number;
  wait_p99_ms: number;
  wait_max_ms: number;
  run_mean_ms: number;
  run_p50_ms: number;
  run_p95_ms: number;
  run_p99_ms: number;
  run_max_ms: number;
  avg_queue_depth: number;
  max_queue_depth: number;
  thread_utilization: number;
  error_classification: Record<string, number>;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function series(prefix: "wait" | "run", s: LatencySummary) {
  return {
    [`${prefix}_mean_ms`]: round(s.mean),
    [`${prefix}_p50_ms`]: round(s.p50),
    [`${prefix}_p95_ms`]: round(s.p95),
    [`${prefix}_p99_ms`]: round(s.p99),
    [`${prefix}_max_ms`]: round(s.max),
  } as Record<`${typeof prefix}_${"mean" | "p50" | "p95" | "p99" | "max"}_ms`, number>;
}

/** Builds the JSON report from a snapshot (values rounded to 3 decimals). */
export function toReport(snapshot: MetricsSnapshot): MetricsReport {
  return {
    timestamp: snapshot.timestamp,
    duration_seconds: round(snapshot.durationSeconds),
    threads: snapshot.threads,
    enqueue_count: snapshot.enqueued,
    dequeue_count: snapshot.dequeued,
    success_count: snapshot.succeeded,
    fail_count: snapshot.failed,
    retry_count: snapshot.retried,
    duplicate_count: snapshot.duplicates,
    rejection_count: snapshot.rejected,
    blocked_admission_count: snapshot.blocked,
    throughput_tps: round(snapshot.throughputTps, 2),
    enqueue_rate: round(snapshot.enqueueRate, 2),
    dequeue_rate: round(snapshot.dequeueRate, 2),
    error_rate: round(snapshot.errorRate, 4),
    mean_latency_ms: round(snapshot.latency.mean),
    p50_latency_ms: round(snapshot.latency.p50),
    p95_latency_ms: round(snapshot.latency.p95),
    p99_latency_ms: round(snapshot.latency.p99),
    max_latency_ms: round(snapshot.latency.max),
    ...series("wait", snapshot.wait),
    ...series("run", snapshot.run),
    avg_queue_depth: round(snapshot.avgQueueDepth),
    max_queue_depth: snapshot.maxQueueDepth,
    thread_utilization: round(snapshot.threadUtilization, 4),
    error_classification: { ...snapshot.errorClassification },
  };
}
