// `taskq-bench front-door`: the overhead profile through `createQueue` (a no-op handler module)
// against the same run through the hand-wired runtime, alternated, medians compared. By default
// the hand-wired side runs that same handler module (the same code on the threads: what differs
// is the front door alone); `--against builtin` runs the built-in no-op task type instead (the
// handler runtime's cost against the built-in processor's, besides).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineFacts } from "./machine.js";
import { type BenchOptions, measure, median, type RunResult } from "./orchestrate.js";

export interface FrontDoorOptions {
  /** The workload: no-op tasks (the queue's own cost), or the io or cpu profile's image tasks. */
  readonly profile: "overhead" | "io" | "cpu";
  readonly tasks: number;
  readonly clients: number;
  readonly threads: number;
  readonly repeat: number;
  readonly seed: number;
  readonly queueSize: number;
  /** The front door's keys: the pool's own (the same work) or its default hash. */
  readonly keys: "pool" | "hash";
  /** The hand-wired side: the same handler module, or the built-in no-op task type. */
  readonly against: "handler" | "builtin";
}

export async function runFrontDoor(options: FrontDoorOptions, log: (line: string) => void = () => undefined) {
  const workDir = await mkdtemp(join(tmpdir(), "taskq-bench-"));
  const concurrency = Math.max(16, Math.ceil(options.clients / options.threads));
  const runs = { pool: [] as RunResult[], queue: [] as RunResult[] };
  const handWired = options.against === "handler" ? ("handler" as const) : ("pool" as const);
  const base: BenchOptions & { workDir: string } = {
    mode: "optimized",
    profile: options.profile,
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
      for (const side of ["pool", "queue"] as const) {
        log(`run ${side === "pool" ? "hand-wired" : "createQueue"} · repeat ${r + 1}/${options.repeat}`);
        const via = side === "pool" ? handWired : "queue";
        runs[side].push(await measure("optimized", options.clients, r, { ...base, via }, concurrency));
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
    pass: ratio >= FRONT_DOOR_TARGET,
  };
}

/** createQueue's throughput against the hand-wired runtime's, at least (issue 24: within 5%). */
export const FRONT_DOOR_TARGET = 0.95;

const n = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 0 });

export function formatFrontDoor(result: Awaited<ReturnType<typeof runFrontDoor>>): string {
  const s = result.settings;
  const row = (name: string, r: { median: RunResult; runs: number[] }) =>
    `${name.padEnd(34)} ${n(r.median.throughput_tps).padStart(8)} tasks/s  [${r.runs.map(n).join(", ")}]  p95 ${r.median.p95_latency_ms.toFixed(1)} ms  CPU ${(r.median.cpu_ms_per_task ?? 0).toFixed(3)} ms/task`;
  const workload =
    s.profile === "overhead"
      ? "overhead profile (no-op tasks)"
      : `${s.profile} profile (the built-in types, as a handler)`;
  return [
    `taskq-bench front-door · ${workload} · ${s.tasks} tasks · ${s.clients} clients · ${s.threads} threads x ${s.concurrency} · repeat ${s.repeat}, medians`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node}`,
    "",
    row(
      s.against === "handler" ? "hand-wired (the same handler)" : "hand-wired (the built-in types)",
      result.pool,
    ),
    row(
      `createQueue (${s.profile === "overhead" ? "no-op handler" : "handler"}, ${s.keys === "hash" ? "hashed keys" : "the pool's keys"})`,
      result.queue,
    ),
    "",
    `createQueue at ${(result.ratio * 100).toFixed(1)}% of the hand-wired runtime's throughput (target: within ${Math.round((1 - FRONT_DOOR_TARGET) * 100)}%): ${result.pass ? "PASS" : "FAIL"}`,
  ].join("\n");
}

export async function writeFrontDoor(result: Awaited<ReturnType<typeof runFrontDoor>>, out: string) {
  await mkdir(out, { recursive: true });
  const file = join(out, "front-door.json");
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
