export { TimeWeightedGauge } from "./depth-gauge.js";
export { BoundedSeries, type SeriesPoint } from "./depth-series.js";
export { CSV_COLUMNS, csvField, csvHeader, csvRow, toCsv } from "./export-csv.js";
export { type MetricsReport, toReport } from "./export-json.js";
export { labelValue, toPrometheus, withLabels } from "./export-prometheus.js";
export {
  LatencyHistogram,
  type LatencySummary,
  MAX_TRACKED_MS,
  PERCENTILE_RELATIVE_ERROR,
} from "./latency-histogram.js";
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  parseLogLevel,
  type TaskLogFields,
} from "./logger.js";
export { MetricsRecorder, type MetricsSnapshot, type RecorderOptions, type TaskTiming } from "./recorder.js";
