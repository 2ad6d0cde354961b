import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  CSV_COLUMNS,
  createLogger,
  csvHeader,
  csvRow,
  MetricsRecorder,
  parseLogLevel,
  toCsv,
  toPrometheus,
  toReport,
} from "../src/index.js";

function sampleSnapshot() {
  let now = 0;
  const m = new MetricsRecorder({ threads: 2, now: () => now });
  m.recordEnqueue(1);
  m.recordDequeue(0);
  m.recordAttempt(30);
  m.recordSuccess({ totalMs: 40, waitMs: 10, runMs: 30 });
  m.recordRetry("transient");
  m.recordFailure('weird "class"\nx');
  now = 1000;
  return m.finish();
}

/** A minimal RFC 4180 parser, to read the CSV back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  return rows;
}

describe("JSON report", () => {
  it("has the earlier version's field names and the new ones, and survives JSON round-trip", () => {
    const report = toReport(sampleSnapshot());
    const parsed = JSON.parse(JSON.stringify(report));
    for (const field of [
      "timestamp",
      "duration_seconds",
      "enqueue_count",
      "dequeue_count",
      "success_count",
      "fail_count",
      "retry_count",
      "duplicate_count",
      "rejection_count",
      "blocked_admission_count",
      "throughput_tps",
      "mean_latency_ms",
      "p95_latency_ms",
      "avg_queue_depth",
      "error_classification",
      "p50_latency_ms",
      "p99_latency_ms",
      "max_queue_depth",
      "wait_p95_ms",
      "run_p95_ms",
      "thread_utilization",
      "enqueue_rate",
      "dequeue_rate",
      "error_rate",
    ]) {
      expect(parsed).toHaveProperty(field);
    }
    expect(parsed).toMatchObject({
      success_count: 1,
      fail_count: 1,
      retry_count: 1,
      throughput_tps: 1,
      error_rate: 0.5,
    });
    expect(parsed.thread_utilization).toBe(0.015);
  });
});

describe("CSV", () => {
  it("header once, one row per run, stable columns, quoting that parses back", () => {
    const report = toReport(sampleSnapshot());
    const rows = parseCsv(toCsv([report, report]));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const row = Object.fromEntries((rows[0] as string[]).map((c, i) => [c, rows[1]?.[i]]));
    expect(row["success_count"]).toBe("1");
    expect(row["error_classification"]).toBe('transient=1;weird "class"\nx=1');
    expect(parseCsv(`${csvHeader(["label"])}\n${csvRow(report, ["a,b"])}\n`)[1]?.[0]).toBe("a,b");
  });
});

describe("Prometheus text format", () => {
  it("every line is a HELP, a TYPE, or a valid sample of a declared family", () => {
    const text = toPrometheus(sampleSnapshot());
    expect(text.endsWith("\n")).toBe(true);
    const declared = new Map<string, string>();
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
    for (const line of text.trimEnd().split("\n")) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
      if (type) {
        expect(declared.has(type[1] as string)).toBe(false);
        declared.set(type[1] as string, type[2] as string);
        continue;
      }
      if (line.startsWith("# HELP ")) continue;
      const m = sample.exec(line);
      expect(m, line).not.toBeNull();
      const name = m?.[1] as string;
      const family = [...declared.keys()].find(
        (f) => name === f || name === `${f}_sum` || name === `${f}_count`,
      );
      expect(family, `family of ${name}`).toBeDefined();
      if (declared.get(family as string) === "counter") expect(name.endsWith("_total")).toBe(true);
    }
    expect(text).toContain("taskq_tasks_succeeded_total 1\n");
    expect(text).toContain('taskq_task_latency_seconds{stage="total",quantile="0.95"} 0.04');
    expect(text).toContain('taskq_errors_total{class="weird \\"class\\"\\nx"} 1');
    expect(text).toContain('taskq_task_latency_seconds_count{stage="run"} 1');
  });
});

describe("structured logs", () => {
  it("JSON lines with task fields, level as a word and ISO time; filtered levels write nothing", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().trim().split("\n"));
        done();
      },
    });
    const log = createLogger({ level: "info", destination });
    log.debug({ task_id: "t", idempotency_key: "k" }, "hidden");
    log.warn(
      { task_id: "t-1", idempotency_key: "a.ppm#gray", attempt: 2, error_class: "transient" },
      "attempt failed",
    );
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({
      level: "warn",
      task_id: "t-1",
      idempotency_key: "a.ppm#gray",
      attempt: 2,
      error_class: "transient",
      msg: "attempt failed",
    });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
  });

  it("LOG_LEVEL is checked by name", () => {
    expect(parseLogLevel("DEBUG")).toBe("debug");
    expect(parseLogLevel(undefined)).toBe("info");
    expect(() => parseLogLevel("loud")).toThrow(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
  });
});
