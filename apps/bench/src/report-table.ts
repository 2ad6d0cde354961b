import { type BenchResult, type System, tasksPerRun } from "./orchestrate.js";

function pad(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i] ?? 10))
    .join("  ")
    .trimEnd();
}

const num = (v: number | undefined, digits = 1) =>
  v === undefined ? "-" : v.toLocaleString("en-US", { maximumFractionDigits: digits });

/** The terminal table: baseline, optimized, ratio, target, pass/fail per row. */
export function formatTable(result: BenchResult): string {
  const s = result.settings;
  const lines = [
    `taskq-bench · profile ${s.profile} (${s.profile_details.describe})`,
    `${tasksPerRun(s, "optimized")} tasks per optimized run, ${tasksPerRun(s, "baseline")} per baseline run · repeat ${s.repeat} (the median run shown, [min-max] over the repeats) · ${s.threads} threads x ${s.concurrency} · queue ${s.queueSize} (${s.onFull})`,
    `warm-up: each clock starts at ready to serve, after start-up (reported on its own): the optimized run spawns its threads, runs one attempt per slot, then ${s.warmup ?? 0} tasks through its whole path, none of them measured; the baseline opens its processor`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node}`,
    "",
  ];
  const widths = [8, 26, 22, 22, 10, 10, 5];
  lines.push(pad(["clients", "metric", "baseline", "optimized", "ratio", "target", ""], widths));
  for (const [key, medians] of Object.entries(result.medians)) {
    const b = medians.baseline;
    const o = medians.optimized;
    const ratio = result.ratios[key];
    const limit = result.limits[key];
    const range = (system: System, figure: "tps" | "p95_ms" | "seconds", digits = 0) => {
      const r = result.spread[key]?.[system];
      return r && s.repeat > 1
        ? ` [${num(r[`min_${figure}`], digits)}-${num(r[`max_${figure}`], digits)}]`
        : "";
    };
    const check = (name: string) => result.checks.find((c) => c.clients === Number(key) && c.name === name);
    const verdict = (name: string) => {
      const c = check(name);
      return c ? [c.target, c.pass ? "PASS" : "FAIL"] : ["", ""];
    };
    const rows: string[][] = [
      [
        "throughput (tasks/s)",
        `${num(b?.throughput_tps)}${range("baseline", "tps")}`,
        `${num(o?.throughput_tps)}${range("optimized", "tps")}`,
        ratio?.throughput ? `${num(ratio.throughput)}x` : "-",
        ...verdict("throughput vs baseline"),
      ],
      [
        "mean latency (ms)",
        num(b?.mean_latency_ms),
        num(o?.mean_latency_ms),
        ratio?.mean ? `${num(ratio.mean * 100)}%` : "-",
        "",
        "",
      ],
      [
        "p95 latency (ms)",
        `${num(b?.p95_latency_ms)}${range("baseline", "p95_ms")}`,
        `${num(o?.p95_latency_ms)}${range("optimized", "p95_ms")}`,
        ratio?.p95 ? `${num(ratio.p95 * 100)}%` : "-",
        ...verdict("p95 vs baseline"),
      ],
      ...(check("p95 vs simulated I/O")
        ? [
            [
              `p95 vs ${num(limit?.io_ms_per_task, 0)} ms of I/O`,
              "",
              num(o?.p95_latency_ms),
              o && limit ? `${num(o.p95_latency_ms / limit.io_ms_per_task, 2)}x` : "-",
              ...verdict("p95 vs simulated I/O"),
            ],
          ]
        : []),
      ["p99 latency (ms)", num(b?.p99_latency_ms), num(o?.p99_latency_ms), "", "", ""],
      [
        "error rate",
        num(b && b.error_rate * 100, 2) + (b ? "%" : ""),
        num(o && o.error_rate * 100, 2) + (o ? "%" : ""),
        "",
        "",
        "",
      ],
      ["retries", num(b?.retry_count, 0), num(o?.retry_count, 0), "", "", ""],
      [
        "run length (s)",
        `${num(b?.duration_seconds)}${range("baseline", "seconds", 1)}`,
        `${num(o?.duration_seconds)}${range("optimized", "seconds", 1)}`,
        "",
        "",
        "",
      ],
      [
        "start-up, not measured (s)",
        num(b?.startup_ms && b.startup_ms / 1000, 2),
        num(o?.startup_ms && o.startup_ms / 1000, 2),
        "",
        "",
        "",
      ],
      ["peak RSS (MB)", num(b?.peak_rss_mb, 0), num(o?.peak_rss_mb, 0), "", ...verdict("peak RSS")],
      ["duplicates served", num(b?.duplicate_count, 0), num(o?.duplicate_count, 0), "", "", ""],
      [
        "avg / max queue depth",
        b ? `${num(b.avg_queue_depth)} / ${b.max_queue_depth}` : "-",
        o ? `${num(o.avg_queue_depth)} / ${o.max_queue_depth}` : "-",
        "",
        "",
        "",
      ],
      [
        "slot utilization",
        b ? `${num(b.thread_utilization * 100)}%` : "-",
        o ? `${num(o.thread_utilization * 100)}%` : "-",
        "",
        "",
        "",
      ],
      [
        `machine limit ${num(limit?.limit_tps, 0)}/s`,
        "",
        ratio?.pct_of_limit !== null && ratio?.pct_of_limit !== undefined
          ? `${num(ratio.pct_of_limit * 100)}% of it`
          : "-",
        "",
        ...verdict("share of machine limit"),
      ],
    ];
    const overhead = check("throughput through the persisted chain");
    if (overhead)
      rows.push([
        "persisted chain (tasks/s)",
        "",
        num(o?.throughput_tps),
        "",
        overhead.target,
        overhead.pass ? "PASS" : "FAIL",
      ]);
    for (const row of rows) lines.push(pad([key, ...row], widths));
    lines.push("");
  }
  if (result.limits) {
    const any = Object.values(result.limits)[0];
    if (any) {
      lines.push(
        `limit = min(clients / ${any.io_ms_per_task} ms I/O per task, ${any.cores} cores / ${any.cpu_ms_per_task} ms CPU per task (measured))`,
      );
    }
  }
  for (const d of result.diagnosis) lines.push(`where the time went: ${d}`);
  return lines.join("\n");
}
