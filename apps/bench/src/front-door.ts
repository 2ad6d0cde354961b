// `taskq-bench front-door`: the overhead profile through `createQueue` (a no-op handler module)
// against the same run through the hand-wired pool, alternated, medians compared.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineFacts } from "./machine.js";
import { type BenchOptions, measure, median, type RunResult } from "./orchestrate.js";

export interface FrontDoorOptions {
  readonly tasks: number;
  readonly clients: number;
  readonly threads: number;
  readonly repeat: number;
  readonly seed: number;
  readonly queueSize: number;
  /** The front door's keys: the pool's own (the same work) or its default hash. */
  readonly keys: "pool" | "hash";
}

export async function runFrontDoor(options: FrontDoorOptions, log: (line: string) => void = () => undefined) {
  const workDir = await mkdtemp(join(tmpdir(), "taskq-bench-"));
  const concurrency = Math.max(16, Math.ceil(options.clients / options.threads));
  const runs = { pool: [] as RunResult[], queue: [] as RunResult[] };
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
    keys: options.keys,
    workDir,
  };
  try {
    for (let r = 0; r < options.repeat; r++) {
      for (const via of ["pool", "queue"] as const) {
        log(`run ${via === "pool" ? "hand-wired pool" : "createQueue"} · repeat ${r + 1}/${options.repeat}`);
        runs[via].push(await measure("optimized", options.clients, r, { ...base, via }, concurrency));
      }
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const pool = median(runs.pool) as RunResult;
  const queue = median(runs.queue) as RunResult;
  const ratio = queue.throughput_tps / pool.throughput_tps;
  return {
    generated_at: new Date().toISOString(),
    machine: machineFacts(),
    settings: { ...options, concurrency: concurrency },
    pool: { median: pool, runs: runs.pool.map((r) => r.throughput_tps) },
    queue: { median: queue, runs: runs.queue.map((r) => r.throughput_tps) },
    ratio,
    pass: ratio >= 0.9,
  };
}

const n = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 0 });

export function formatFrontDoor(result: Awaited<ReturnType<typeof runFrontDoor>>): string {
  const s = result.settings;
  const row = (name: string, r: { median: RunResult; runs: number[] }) =>
    `${name.padEnd(34)} ${n(r.median.throughput_tps).padStart(8)} tasks/s  [${r.runs.map(n).join(", ")}]  CPU ${(r.median.cpu_ms_per_task ?? 0).toFixed(3)} ms/task`;
  return [
    `taskq-bench front-door · overhead profile (no-op tasks) · ${s.tasks} tasks · ${s.clients} clients · ${s.threads} threads x ${s.concurrency} · repeat ${s.repeat}, medians`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node}`,
    "",
    row("hand-wired pool (built-in no-op)", result.pool),
    row(
      `createQueue (no-op handler, ${s.keys === "hash" ? "hashed keys" : "the pool's keys"})`,
      result.queue,
    ),
    "",
    `createQueue at ${(result.ratio * 100).toFixed(1)}% of the hand-wired pool's throughput (target: within 10%): ${result.pass ? "PASS" : "FAIL"}`,
  ].join("\n");
}

export async function writeFrontDoor(result: Awaited<ReturnType<typeof runFrontDoor>>, out: string) {
  await mkdir(out, { recursive: true });
  const file = join(out, "front-door.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
