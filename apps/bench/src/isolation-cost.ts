// `taskq-bench isolation`: the overhead profile (no-op tasks, a handler module through the
// hand-wired runtime) with its kind on the shared threads, isolated in threads of its own, and
// isolated in child processes of its own, alternated, medians compared: what each isolation level
// costs per task. Each level has the same slots (threads x concurrency; a process per thread).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineFacts } from "./machine.js";
import { type BenchOptions, measure, median, type RunResult } from "./orchestrate.js";

/** Where the kind runs: the shared threads, or isolated in threads or processes of its own. */
export const ISOLATION_LEVELS = ["shared", "thread", "process"] as const;
export type IsolationLevelRun = (typeof ISOLATION_LEVELS)[number];

export interface IsolationCostOptions {
  readonly tasks: number;
  readonly clients: number;
  readonly threads: number;
  /** Attempts per thread (and per process). */
  readonly concurrency: number;
  readonly repeat: number;
  readonly seed: number;
  readonly queueSize: number;
  readonly levels: readonly IsolationLevelRun[];
}

export interface LevelResult {
  readonly median: RunResult;
  readonly runs: number[];
  /** Wall time per task beyond the shared threads' (1/throughput), µs. */
  readonly extra_us_per_task: number;
  /** CPU per task beyond the shared threads', ms (a process level's children included, on Linux). */
  readonly extra_cpu_ms_per_task: number;
}

export async function runIsolationCost(
  options: IsolationCostOptions,
  log: (line: string) => void = () => undefined,
) {
  const workDir = await mkdtemp(join(tmpdir(), "taskq-bench-"));
  const runs = new Map<IsolationLevelRun, RunResult[]>(options.levels.map((level) => [level, []]));
  const base: BenchOptions & { workDir: string } = {
    mode: "optimized",
    profile: "overhead",
    tasks: options.tasks,
    clients: [options.clients],
    threads: options.threads,
    queueSize: options.queueSize,
    onFull: "block",
    errorRate: 0,
    repeat: options.repeat,
    seed: options.seed,
    via: "handler",
    workDir,
  };
  try {
    for (let r = 0; r < options.repeat; r++) {
      for (const level of options.levels) {
        log(`run ${level} · repeat ${r + 1}/${options.repeat}`);
        const isolation = level === "shared" ? {} : { isolation: level };
        runs
          .get(level)
          ?.push(
            await measure("optimized", options.clients, r, { ...base, ...isolation }, options.concurrency),
          );
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const medians = new Map([...runs].map(([level, list]) => [level, median(list) as RunResult]));
  const reference = medians.get("shared") ?? (medians.values().next().value as RunResult);
  const levels = Object.fromEntries(
    [...runs].map(([level, list]) => {
      const m = medians.get(level) as RunResult;
      const result: LevelResult = {
        median: m,
        runs: list.map((r) => r.throughput_tps),
        extra_us_per_task: (1 / m.throughput_tps - 1 / reference.throughput_tps) * 1e6,
        extra_cpu_ms_per_task: (m.cpu_ms_per_task ?? 0) - (reference.cpu_ms_per_task ?? 0),
      };
      return [level, result];
    }),
  ) as Partial<Record<IsolationLevelRun, LevelResult>>;
  return { generated_at: new Date().toISOString(), machine: machineFacts(), settings: options, levels };
}

const n = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 0 });

const NAMES: Record<IsolationLevelRun, string> = {
  shared: "shared threads (no isolation)",
  thread: "isolated: threads of its own",
  process: "isolated: child processes",
};

export function formatIsolationCost(result: Awaited<ReturnType<typeof runIsolationCost>>): string {
  const s = result.settings;
  const rows = Object.entries(result.levels).map(([level, r]) => {
    const m = (r as LevelResult).median;
    const extra =
      level === "shared"
        ? ""
        : `  +${(r as LevelResult).extra_us_per_task.toFixed(1)} µs/task wall, +${(r as LevelResult).extra_cpu_ms_per_task.toFixed(3)} ms/task CPU`;
    return `${NAMES[level as IsolationLevelRun].padEnd(32)} ${n(m.throughput_tps).padStart(8)} tasks/s  [${(r as LevelResult).runs.map(n).join(", ")}]  p95 ${m.p95_latency_ms.toFixed(1)} ms  CPU ${(m.cpu_ms_per_task ?? 0).toFixed(3)} ms/task${extra}`;
  });
  return [
    `taskq-bench isolation · overhead profile (no-op handler, hand-wired runtime) · ${s.tasks} tasks · ${s.clients} clients · ${s.threads} x ${s.concurrency} slots · repeat ${s.repeat}, medians`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node}`,
    "",
    ...rows,
  ].join("\n");
}

export async function writeIsolationCost(result: Awaited<ReturnType<typeof runIsolationCost>>, out: string) {
  await mkdir(out, { recursive: true });
  const file = join(out, "isolation.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
