import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { csvHeader, csvRow } from "@taskq/metrics";
import { ensureDirectory } from "@taskq/storage-sim";
import { type BenchResult, type RunResult, tasksPerRun } from "./orchestrate.js";
import { formatTable } from "./report-table.js";
import { barChart, lineChart } from "./svg.js";

const COLORS = { baseline: "#dc2626", optimized: "#2563eb" } as const;

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The HTML page: throughput bars, latency CDFs, queue depth over time; inline SVG only. */
export function renderHtml(result: BenchResult): string {
  const keys = Object.keys(result.medians);
  const systems = (["baseline", "optimized"] as const).filter((s) =>
    keys.some((k) => result.medians[k]?.[s]),
  );
  const bars = barChart(
    "Throughput (tasks/s, median run; log scale)",
    keys.map((k) => `${k} clients`),
    systems.map((s) => ({
      name: s,
      color: COLORS[s],
      values: keys.map((k) => result.medians[k]?.[s]?.throughput_tps ?? 0),
    })),
    "tasks/s",
    true,
  );
  const perClients = keys.map((k) => {
    const runs = systems.map((s) => result.medians[k]?.[s]).filter((r): r is RunResult => r !== undefined);
    const cdf = lineChart(
      `Latency CDF at ${k} clients (median run)`,
      runs.map((r) => ({
        name: r.system,
        color: COLORS[r.system],
        points: r.latency_cdf.map(([p, ms]) => [ms, p] as const),
      })),
      "latency (ms, log scale)",
      "percentile",
      false,
      true,
    );
    const depth = lineChart(
      `Queue depth over time at ${k} clients (median run)`,
      runs.map((r) => ({
        name: r.system,
        color: COLORS[r.system],
        points: r.depth_series.map((p) => [p.t, p.value] as const),
      })),
      "seconds since start",
      "items in the queue",
    );
    return `<section><h2>${esc(k)} clients</h2><div class="row">${cdf}${depth}</div></section>`;
  });
  const checks = result.checks
    .map(
      (c) =>
        `<tr><td>${c.clients}</td><td>${esc(c.name)}</td><td>${esc(c.target)}</td><td>${c.value.toPrecision(4)}</td><td class="${c.pass ? "pass" : "fail"}">${c.pass ? "PASS" : "FAIL"}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taskq-bench: ${esc(result.settings.profile)} profile</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#111827;padding:0 16px}
h1{font-size:22px} h2{font-size:17px;margin-top:28px} figure{margin:8px 0} figcaption{font-weight:600;margin-bottom:4px}
.row{display:flex;flex-wrap:wrap;gap:16px} pre{background:#f3f4f6;padding:12px;overflow-x:auto;font-size:12px;white-space:pre-wrap}
table{border-collapse:collapse} td,th{border:1px solid #d1d5db;padding:4px 8px;text-align:left} .pass{color:#15803d;font-weight:600} .fail{color:#b91c1c;font-weight:600}
</style></head><body>
<h1>taskq-bench · ${esc(result.settings.profile)} profile · ${esc(result.generated_at)}</h1>
<p>${esc(result.settings.profile_details.describe)}. ${tasksPerRun(result.settings, "optimized")} tasks per optimized run and ${tasksPerRun(result.settings, "baseline")} per baseline run, ${result.settings.repeat} repeat(s), baseline and optimized alternating, each run a fresh process on a fresh workload and store (input images generated once and shared). Machine: ${result.machine.cores} cores, ${esc(result.machine.cpu)}, Node ${esc(result.machine.node)}. Absolute times vary between machines; the ratios are the claim.</p>
${bars}
<h2>Targets</h2><table><tr><th>clients</th><th>check</th><th>target</th><th>value</th><th></th></tr>${checks}</table>
${perClients.join("\n")}
<h2>Table</h2><pre>${esc(formatTable(result))}</pre>
</body></html>
`;
}

/** Writes benchmark_comparison.json, benchmark_runs.csv and report.html into `dir`. */
export async function writeReports(result: BenchResult, dir: string): Promise<string[]> {
  await ensureDirectory(dir);
  const json = join(dir, "benchmark_comparison.json");
  const csv = join(dir, "benchmark_runs.csv");
  const html = join(dir, "report.html");
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  const rows = result.runs.map((r) =>
    csvRow(r, [result.settings.profile, r.system, r.clients, r.repeat + 1, r.startup_ms, r.peak_rss_mb]),
  );
  await writeFile(
    csv,
    `${[csvHeader(["profile", "system", "clients", "repeat", "startup_ms", "peak_rss_mb"]), ...rows].join("\n")}\n`,
  );
  await writeFile(html, renderHtml(result));
  return [json, csv, html];
}
