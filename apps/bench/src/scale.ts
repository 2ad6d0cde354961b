// `taskq-bench scale`: the same closed-loop workload run by 1, 2, 4... worker processes on one
// store, to show how the store scales out (and where this machine's cores flatten the curve).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineFacts } from "./machine.js";
import { type BenchOptions, measure, median, type RunResult } from "./orchestrate.js";
import { openBenchDatabases } from "./pg-databases.js";

export interface ScaleOptions extends Omit<BenchOptions, "mode" | "clients"> {
  readonly clients: number;
  readonly workers: readonly number[];
}

export interface ScaleRow {
  readonly workers: number;
  readonly median: RunResult;
  readonly min_tps: number;
  readonly max_tps: number;
  readonly runs: readonly RunResult[];
}

/** Runs every worker count `repeat` times (interleaved: 1 2 4 1 2 4 ...) and takes medians. */
export async function runScale(options: ScaleOptions, log: (line: string) => void = () => undefined) {
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "taskq-bench-")));
  const databases = options.store === "postgres" ? await openBenchDatabases(options.pgUrl) : undefined;
  if (databases) log(`task store: a new PostgreSQL database per run on ${databases.server}`);
  const concurrency = options.concurrency ?? Math.max(16, Math.ceil(options.clients / options.threads));
  const runs = new Map<number, RunResult[]>(options.workers.map((w) => [w, []]));
  try {
    for (let r = 0; r < options.repeat; r++) {
      for (const workers of options.workers) {
        log(`run ${workers} worker(s) · ${options.clients} clients · repeat ${r + 1}/${options.repeat}`);
        const opts = { ...options, mode: "optimized" as const, clients: [options.clients], workDir };
        const result = await measure(
          "optimized",
          options.clients,
          r,
          databases ? { ...opts, databases } : opts,
          concurrency,
          workers,
        );
        runs.get(workers)?.push(result);
      }
    }
  } finally {
    await databases?.dispose();
    if (!options.workDir) await rm(workDir, { recursive: true, force: true });
  }
  const rows: ScaleRow[] = options.workers.map((workers) => {
    const mine = [...(runs.get(workers) ?? [])].sort((a, b) => a.throughput_tps - b.throughput_tps);
    return {
      workers,
      median: median(mine) as RunResult,
      min_tps: mine[0]?.throughput_tps ?? 0,
      max_tps: mine.at(-1)?.throughput_tps ?? 0,
      runs: mine,
    };
  });
  return { generated_at: new Date().toISOString(), machine: machineFacts(), concurrency: concurrency, rows };
}

const n = (v: number, digits = 0) => v.toLocaleString("en-US", { maximumFractionDigits: digits });

export function formatScale(result: Awaited<ReturnType<typeof runScale>>, options: ScaleOptions): string {
  const lines = [
    `taskq-bench scale · profile ${options.profile} · ${options.store ?? "sqlite"} store · ${options.clients} closed-loop clients split over the workers`,
    `${options.tasks} tasks per run · repeat ${options.repeat} (median, [min-max]) · each worker ${options.threads} threads x ${result.concurrency}`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node} (the database server shares these cores)`,
    "",
    "workers   throughput (tasks/s)        p95 latency (ms, worst worker)   CPU per task in the workers (ms)   run (s)",
  ];
  for (const row of result.rows) {
    const m = row.median;
    lines.push(
      [
        String(row.workers).padEnd(8),
        `${n(m.throughput_tps)} [${n(row.min_tps)}-${n(row.max_tps)}]`.padEnd(26),
        n(m.p95_latency_ms, 1).padEnd(31),
        n(m.cpu_ms_per_task ?? 0, 3).padEnd(33),
        n(m.duration_seconds, 1),
      ].join("  "),
    );
  }
  return lines.join("\n");
}

export async function writeScale(result: Awaited<ReturnType<typeof runScale>>, out: string): Promise<string> {
  await mkdir(out, { recursive: true });
  const file = join(out, "scale.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
