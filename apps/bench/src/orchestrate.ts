import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MetricsReport } from "@taskq/metrics";
import { ensureImages, generateTasks, parseTask } from "@taskq/processor";
import { DEFAULT_CHUNK_SIZE, FsObjectStore } from "@taskq/storage-sim";
import { DEFAULT_RETENTION_MS, type RuntimeConfig, SETTINGS } from "taskq/app";
import {
  type MachineFacts,
  type MachineLimit,
  machineFacts,
  machineLimit,
  measureCpuPerTask,
} from "./machine.js";
import { type BenchDatabases, openBenchDatabases } from "./pg-databases.js";
import { PROFILES, type Profile } from "./profiles.js";
import type { RunSpec } from "./run-child.js";

export type System = "baseline" | "optimized";

/** Options of a benchmark. */
export interface BenchOptions {
  readonly mode: "compare" | System;
  readonly profile: Profile["name"];
  /** Tasks per optimized run. */
  readonly tasks: number;
  /**
   * Tasks per baseline run: the first ones of the same kind of generated workload. The baseline
   * runs about 16 io tasks/s, so the optimized count would make its runs minutes long.
   * @default tasks
   */
  readonly baselineTasks?: number;
  /**
   * Tasks each optimized run puts through its whole path before its clock starts (not measured;
   * generated beside the measured ones, with their own keys).
   * @default 0
   */
  readonly warmup?: number;
  readonly clients: readonly number[];
  readonly threads: number;
  /** Attempts per thread; default: enough slots for the largest client count. */
  readonly concurrency?: number;
  readonly queueSize: number;
  readonly onFull: "block" | "reject";
  readonly errorRate: number;
  readonly repeat: number;
  readonly seed: number;
  /**
   * Where the runs' workloads, stores and objects go; every run's directory stays until all runs
   * are done. Given, the caller removes it; otherwise a temporary one is made and removed.
   */
  readonly workDir?: string;
  /**
   * The optimized system's task store: a SQLite file per run, or a PostgreSQL database per run.
   * @default "sqlite"
   */
  readonly store?: "sqlite" | "postgres";
  /** The PostgreSQL server for `store: "postgres"` (a role that may CREATE DATABASE); default: a throwaway one. */
  readonly pgUrl?: string;
  /**
   * The optimized run through the hand-wired runtime on the built-in types (`pool`), through
   * `createQueue` with a no-op handler module (`queue`), or with that handler module through the
   * hand-wired runtime (`handler`). @default "pool"
   */
  readonly via?: "pool" | "queue" | "handler";
  /** With a handler module (`queue`, `handler`): the pool's keys or the front door's default hashed ones. @default "pool" */
  readonly keys?: "pool" | "hash";
  /** With a handler module: its kind in threads or processes of its own (RunSpec.isolation). @default none */
  readonly isolation?: "thread" | "process";
}

/** One measured run: the metrics report plus chart data and where the main thread's time went. */
export interface RunResult extends MetricsReport {
  readonly system: System;
  readonly clients: number;
  readonly repeat: number;
  /** Worker processes that shared the run (on one store). */
  readonly workers?: number;
  /** Epoch ms of the measured run's start and end, in the child. */
  readonly started_at_ms?: number;
  readonly ended_at_ms?: number;
  readonly main_thread_utilization: number;
  /** From the process's start to ready to serve (threads spawned and warmed), ms: not in the measured interval. */
  readonly startup_ms?: number;
  /** The run's process at its peak (every thread), MB. */
  readonly peak_rss_mb?: number;
  readonly store_ms?: number;
  /** Process CPU time (every thread) per task that ran, ms: compare with the limit's processor-alone figure. */
  readonly cpu_ms_per_task?: number;
  readonly latency_cdf: ReadonlyArray<readonly [number, number]>;
  readonly depth_series: ReadonlyArray<{ t: number; value: number }>;
}

export interface Check {
  readonly clients: number;
  readonly name: string;
  readonly target: string;
  readonly value: number;
  readonly pass: boolean;
}

/** Min and max over a setting's repeats. */
export interface Spread {
  readonly min_tps: number;
  readonly max_tps: number;
  readonly min_p95_ms: number;
  readonly max_p95_ms: number;
  readonly min_seconds: number;
  readonly max_seconds: number;
}

/** Min and max of each reported figure over runs. */
function spreadOf(runs: readonly RunResult[]): Spread {
  const range = (f: (r: RunResult) => number) => [Math.min(...runs.map(f)), Math.max(...runs.map(f))];
  const [min_tps, max_tps] = range((r) => r.throughput_tps) as [number, number];
  const [min_p95_ms, max_p95_ms] = range((r) => r.p95_latency_ms) as [number, number];
  const [min_seconds, max_seconds] = range((r) => r.duration_seconds) as [number, number];
  return { min_tps, max_tps, min_p95_ms, max_p95_ms, min_seconds, max_seconds };
}

/**
 * The targets (`--check`). io: the seed's (10x the baseline's throughput, p95 under 10% of its)
 * and the machine's: 90% of the limit up to 50 clients, 85% above, p95 within 1.3x the simulated
 * I/O of a task. cpu: 90% of the limit within 300 MB of peak RSS. overhead: the persisted chain's
 * floor, lower on PostgreSQL (a network round trip per batch).
 */
export const TARGETS = {
  ioVsBaseline: 10,
  ioP95VsBaseline: 0.1,
  ioShareOfLimit: (clients: number) => (clients <= 50 ? 0.9 : 0.85),
  ioP95VsSimulatedIo: 1.3,
  cpuShareOfLimit: 0.9,
  cpuPeakRssMb: 300,
  overheadTps: { sqlite: 20_000, postgres: 10_000 },
} as const;

export interface BenchResult {
  readonly generated_at: string;
  readonly machine: MachineFacts;
  readonly settings: BenchOptions & { readonly profile_details: Profile; readonly concurrency: number };
  readonly limits: Record<string, MachineLimit>;
  readonly runs: RunResult[];
  readonly medians: Record<string, Partial<Record<System, RunResult>>>;
  /** Each median's spread over its repeats: throughput, p95 and run length, min and max. */
  readonly spread: Record<string, Partial<Record<System, Spread>>>;
  readonly ratios: Record<
    string,
    { throughput: number | null; p95: number | null; mean: number | null; pct_of_limit: number | null }
  >;
  readonly checks: Check[];
  readonly diagnosis: string[];
}

const baselineScript = new URL("../../../input_new/baseline_task_queue_v2.ts", import.meta.url).pathname;
// the built binary, from the built module or from its source (tests): both sit beside dist/
const benchBin = new URL("../dist/bin.js", import.meta.url).pathname;

/** Extra Node flags for every measured child, e.g. `--cpu-prof`, from TASKQ_BENCH_NODE_ARGS. */
export function childNodeArgs(): string[] {
  return (process.env.TASKQ_BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
}

function runProcess(args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeArgs(), ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LOG_LEVEL: "silent" },
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${what} exited with ${code}: ${stderr.trim().split("\n").at(-1)}`)),
    );
  });
}

/**
 * Runs `count` children at once with a start barrier: each prints `ready` once warm; when all
 * have, each is told to go (so N workers are measured over the same interval).
 */
function runTogether(argsOf: (i: number) => string[], count: number, what: string): Promise<void> {
  let ready = 0;
  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, [...childNodeArgs(), ...argsOf(i)], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, LOG_LEVEL: "silent" },
    }),
  );
  const exits = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        child.stdout.on("data", (d: Buffer) => {
          if (!d.toString().includes("ready")) return;
          if (++ready === count) for (const c of children) c.stdin.write("go\n");
        });
        child.on("error", reject);
        child.on("exit", (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`${what} exited with ${code}: ${stderr.trim().split("\n").at(-1)}`)),
        );
      }),
  );
  return Promise.all(exits).then(() => undefined);
}

/**
 * Writes the page cache's dirty data to disk (`sync`), so a run does not start while the kernel
 * is still writing back an earlier run's outputs: the cpu profile writes about 1 GB a run, and
 * once several runs' worth was pending, writeback throttled the later runs (101, then 75, then
 * 56 tasks/s, with the baseline's falling alike). Skipped where there is no `sync` command.
 */
export function flushWrites(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("sync", [], { stdio: "ignore" });
    child.on("error", () => resolve());
    child.on("exit", () => resolve());
  });
}

/** One result from N workers' results: counts summed over the common wall time; p95/p99 the worst worker's. */
function mergeWorkers(parts: RunResult[]): RunResult {
  const first = parts[0] as RunResult;
  if (parts.length === 1) return first;
  const start = Math.min(...parts.map((p) => p.started_at_ms ?? 0));
  const end = Math.max(...parts.map((p) => p.ended_at_ms ?? 0));
  const seconds = (end - start) / 1000;
  const sum = (f: (p: RunResult) => number) => parts.reduce((n, p) => n + f(p), 0);
  const succeeded = sum((p) => p.success_count);
  return {
    ...first,
    duration_seconds: seconds,
    enqueue_count: sum((p) => p.enqueue_count),
    success_count: succeeded,
    fail_count: sum((p) => p.fail_count),
    retry_count: sum((p) => p.retry_count),
    duplicate_count: sum((p) => p.duplicate_count),
    throughput_tps: succeeded / seconds,
    mean_latency_ms: sum((p) => p.mean_latency_ms * p.success_count) / Math.max(1, succeeded),
    p95_latency_ms: Math.max(...parts.map((p) => p.p95_latency_ms)),
    p99_latency_ms: Math.max(...parts.map((p) => p.p99_latency_ms)),
    cpu_ms_per_task:
      sum((p) => (p.cpu_ms_per_task ?? 0) * (p.success_count + p.fail_count)) /
      Math.max(
        1,
        sum((p) => p.success_count + p.fail_count),
      ),
    store_ms: sum((p) => p.store_ms ?? 0),
    workers: parts.length,
    started_at_ms: start,
    ended_at_ms: end,
  };
}

/** Where every run's input images are generated once, under the work directory. */
const inputsDir = (workDir: string) => join(workDir, "inputs");

/**
 * Writes the run's task file and gives its object store the input images: generated once into
 * the shared inputs store and hard-linked into the run's (`root/<bucket>/<key>`), so runs reuse
 * inputs and only their outputs are new files. Only images not generated yet go through
 * `ensureImages`: its existence check is `statObject`, which hashes the whole file for its etag
 * (about 880 MB a run on the cpu profile).
 */
async function prepareWorkload(
  dir: string,
  workDir: string,
  profile: Profile,
  tasks: number,
  seed: number,
): Promise<string> {
  const workload = generateTasks({ count: tasks, kind: profile.kind, size: profile.size, seed });
  const missing = new Set(
    workload.images.filter((key) => !existsSync(join(inputsDir(workDir), "images", key))),
  );
  if (missing.size > 0) {
    const inputs = await FsObjectStore.open({ root: inputsDir(workDir) });
    try {
      await ensureImages(
        inputs,
        workload.tasks.map((t) => parseTask(t)).filter((t) => t.type === "image" && missing.has(t.imageKey)),
        { size: profile.size },
      );
    } finally {
      await inputs.dispose();
    }
  }
  if (workload.images.length > 0) {
    await mkdir(join(dir, "objects", "images"), { recursive: true });
    for (const key of workload.images)
      await link(join(inputsDir(workDir), "images", key), join(dir, "objects", "images", key));
  }
  const file = join(dir, "tasks.json");
  await writeFile(file, JSON.stringify(workload.tasks));
  return file;
}

/** Tasks per run of a system. */
export function tasksPerRun(options: BenchOptions, system: System): number {
  return system === "baseline" ? (options.baselineTasks ?? options.tasks) : options.tasks;
}

/**
 * One fresh process on a freshly generated workload, fresh store and object store, in a new
 * directory under the work directory (removed with it, after all runs), started once earlier
 * runs' writes are on disk.
 */
export async function measure(
  system: System,
  clients: number,
  repeat: number,
  options: BenchOptions & { workDir: string; databases?: BenchDatabases },
  concurrency: number,
  workers = 1,
): Promise<RunResult> {
  const profile = PROFILES[options.profile];
  const dir = await mkdtemp(join(options.workDir, `taskq-bench-${system}-`));
  const warmup = system === "optimized" && workers === 1 ? (options.warmup ?? 0) : 0;
  const tasksFile = await prepareWorkload(
    dir,
    options.workDir,
    profile,
    warmup + tasksPerRun(options, system),
    options.seed + repeat,
  );
  const resultFile = join(dir, "result.json");
  await flushWrites();
  if (system === "baseline") {
    await runProcess(
      [
        "--import",
        import.meta.resolve("tsx"),
        baselineScript,
        ...["--tasks", tasksFile, "--storage", join(dir, "objects"), "--clients", String(clients)],
        ...["--workers", String(options.threads), "--base-latency-ms", String(profile.baseLatencyMs)],
        ...["--error-rate", String(options.errorRate), "--json", resultFile],
      ],
      "baseline run",
    );
  } else {
    const runtime: RuntimeConfig = {
      store: options.databases ? await options.databases.create() : join(dir, "tasks.db"),
      storage: join(dir, "objects"),
      threads: options.threads,
      concurrency,
      queueSize: options.queueSize,
      onFull: options.onFull,
      attempts: 5,
      backoffBaseMs: 10,
      backoffMaxMs: 1000,
      timeoutMs: 0,
      baseLatencyMs: profile.baseLatencyMs,
      jitterMs: 0,
      errorRate: options.errorRate,
      seed: options.seed + repeat,
      chunkSize: DEFAULT_CHUNK_SIZE,
      leaseMs: SETTINGS.leaseMs.default,
      retentionMs: DEFAULT_RETENTION_MS,
      logLevel: "silent",
    };
    if (workers === 1) {
      const spec: RunSpec = {
        tasksFile,
        resultFile,
        clients,
        runtime,
        ...(warmup > 0 ? { warmup } : {}),
        ...(options.via ? { via: options.via } : {}),
        ...(options.keys ? { keys: options.keys } : {}),
        ...(options.isolation ? { isolation: options.isolation } : {}),
      };
      const specFile = join(dir, "spec.json");
      await writeFile(specFile, JSON.stringify(spec));
      await runProcess([benchBin, "__run-optimized", specFile], "optimized run");
    } else {
      // N workers on one store, each with its share of the clients and of the tasks
      const specFiles = await Promise.all(
        Array.from({ length: workers }, async (_, index) => {
          const spec: RunSpec = {
            tasksFile,
            resultFile: join(dir, `result-${index}.json`),
            clients: Math.floor(clients / workers) + (index < clients % workers ? 1 : 0),
            runtime,
            slice: { index, count: workers },
            barrier: true,
          };
          const file = join(dir, `spec-${index}.json`);
          await writeFile(file, JSON.stringify(spec));
          return file;
        }),
      );
      await runTogether(
        (i) => [benchBin, "__run-optimized", specFiles[i] as string],
        workers,
        "optimized worker",
      );
      const parts = await Promise.all(
        specFiles.map(async (_, i) => JSON.parse(await readFile(join(dir, `result-${i}.json`), "utf8"))),
      );
      return { ...mergeWorkers(parts), system, clients, repeat };
    }
  }
  const report = JSON.parse(await readFile(resultFile, "utf8"));
  return { ...report, system, clients, repeat, workers: 1 };
}

/** The item with the median value (the lower middle of an even count). */
export function medianBy<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => value(a) - value(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The run with the median throughput (the lower middle of an even count). */
export function median(runs: readonly RunResult[]): RunResult | undefined {
  return medianBy(runs, (r) => r.throughput_tps);
}

/** Runs the plan (baseline and optimized alternating, A B A B) and computes medians, ratios, checks. */
export async function runBenchmark(
  options: BenchOptions,
  log: (line: string) => void = () => undefined,
): Promise<BenchResult> {
  // Deleting thousands of files between runs slowed the next run's file creation ~8x for a few
  // seconds on this project's VM disk (mounted with discard): every run's files are kept until
  // all runs are done, and removed at once after.
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "taskq-bench-")));
  const databases = options.store === "postgres" ? await openBenchDatabases(options.pgUrl) : undefined;
  if (databases) log(`task store: a new PostgreSQL database per run on ${databases.server}`);
  try {
    return await runAll({ ...options, workDir, ...(databases ? { databases } : {}) }, log);
  } finally {
    await databases?.dispose();
    if (!options.workDir) await rm(workDir, { recursive: true, force: true });
  }
}

/** The settings as the report shows them: no work directory, no password. */
function withoutWorkDir({
  workDir: _,
  databases: __,
  ...settings
}: BenchOptions & { databases?: BenchDatabases }): BenchOptions {
  if (settings.pgUrl === undefined) return settings;
  const url = new URL(settings.pgUrl);
  if (url.password) url.password = "***";
  return { ...settings, pgUrl: url.toString() };
}

async function runAll(
  options: BenchOptions & { workDir: string; databases?: BenchDatabases },
  log: (line: string) => void,
): Promise<BenchResult> {
  const profile = PROFILES[options.profile];
  const facts = machineFacts();
  const concurrency =
    options.concurrency ?? Math.max(16, Math.ceil(Math.max(...options.clients) / options.threads));
  log(`measuring the processor alone on a ${profile.name} sample (CPU time per task)...`);
  const cpuMs = await measureCpuPerTask(profile, undefined, options.workDir);
  const systems: System[] = options.mode === "compare" ? ["baseline", "optimized"] : [options.mode];
  const runs: RunResult[] = [];
  for (const clients of options.clients) {
    for (let r = 0; r < options.repeat; r++) {
      for (const system of systems) {
        const run = await measure(system, clients, r, options, concurrency);
        runs.push(run);
        log(
          `run ${system} · ${clients} clients · repeat ${r + 1}/${options.repeat} · ${tasksPerRun(options, system)} ${profile.name} tasks: ` +
            `${run.throughput_tps.toFixed(1)} tasks/s over ${run.duration_seconds.toFixed(1)} s, p95 ${run.p95_latency_ms.toFixed(1)} ms` +
            ` (start-up ${((run.startup_ms ?? 0) / 1000).toFixed(2)} s, peak RSS ${(run.peak_rss_mb ?? 0).toFixed(0)} MB)`,
        );
      }
    }
  }
  const limits: BenchResult["limits"] = {};
  const medians: BenchResult["medians"] = {};
  const spread: BenchResult["spread"] = {};
  const ratios: BenchResult["ratios"] = {};
  const checks: Check[] = [];
  const diagnosis: string[] = [];
  for (const clients of options.clients) {
    const key = String(clients);
    const limit = machineLimit(profile, clients, cpuMs, facts.cores);
    limits[key] = limit;
    medians[key] = {};
    spread[key] = {};
    for (const system of systems) {
      const mine = runs.filter((r) => r.clients === clients && r.system === system);
      const m = median(mine);
      if (m) medians[key][system] = m;
      if (mine.length > 0) spread[key][system] = spreadOf(mine);
    }
    const b = medians[key].baseline;
    const o = medians[key].optimized;
    ratios[key] = {
      throughput: b && o && b.throughput_tps > 0 ? o.throughput_tps / b.throughput_tps : null,
      p95: b && o && b.p95_latency_ms > 0 ? o.p95_latency_ms / b.p95_latency_ms : null,
      mean: b && o && b.mean_latency_ms > 0 ? o.mean_latency_ms / b.mean_latency_ms : null,
      pct_of_limit: o ? o.throughput_tps / limit.limit_tps : null,
    };
    const ratio = ratios[key];
    const add = (name: string, target: string, value: number | null, pass: (v: number) => boolean) => {
      if (value !== null) checks.push({ clients, name, target, value, pass: pass(value) });
    };
    const pct = (share: number) => `>= ${Math.round(share * 100)}%`;
    if (profile.name === "io") {
      const share = TARGETS.ioShareOfLimit(clients);
      const p95Ms = TARGETS.ioP95VsSimulatedIo * limit.io_ms_per_task;
      add(
        "throughput vs baseline",
        `>= ${TARGETS.ioVsBaseline}x`,
        ratio.throughput,
        (v) => v >= TARGETS.ioVsBaseline,
      );
      add(
        "p95 vs baseline",
        `<= ${TARGETS.ioP95VsBaseline * 100}%`,
        ratio.p95,
        (v) => v <= TARGETS.ioP95VsBaseline,
      );
      add("share of machine limit", pct(share), ratio.pct_of_limit, (v) => v >= share);
      add(
        "p95 vs simulated I/O",
        `<= ${Math.round(p95Ms)} ms`,
        o ? o.p95_latency_ms : null,
        (v) => v <= p95Ms,
      );
    } else if (profile.name === "cpu") {
      add(
        "share of machine limit",
        pct(TARGETS.cpuShareOfLimit),
        ratio.pct_of_limit,
        (v) => v >= TARGETS.cpuShareOfLimit,
      );
      add(
        "peak RSS",
        `<= ${TARGETS.cpuPeakRssMb} MB`,
        o?.peak_rss_mb ?? null,
        (v) => v <= TARGETS.cpuPeakRssMb,
      );
    } else {
      const floor = TARGETS.overheadTps[options.store ?? "sqlite"];
      add(
        "throughput through the persisted chain",
        `>= ${floor}/s`,
        o ? o.throughput_tps : null,
        (v) => v >= floor,
      );
    }
    if (o && checks.some((c) => c.clients === clients && !c.pass)) {
      const wall = o.duration_seconds * 1000;
      diagnosis.push(
        `${clients} clients: optimized mean latency ${o.mean_latency_ms.toFixed(1)} ms = wait ${o.wait_mean_ms.toFixed(1)} ms + run ${o.run_mean_ms.toFixed(1)} ms; ` +
          `main thread busy ${(o.main_thread_utilization * 100).toFixed(0)}% of the wall time; store batches in flight for ${(((o.store_ms ?? 0) / wall) * 100).toFixed(0)}% of it (summed, and PostgreSQL overlaps two); ` +
          `slot utilization ${(o.thread_utilization * 100).toFixed(0)}%; ` +
          (o.cpu_ms_per_task === undefined
            ? ""
            : `CPU ${o.cpu_ms_per_task.toFixed(3)} ms per task on all threads against ${limit.cpu_ms_per_task.toFixed(3)} ms for the processor alone; `) +
          `limit ${limit.limit_tps} t/s (${limit.io_bound_tps !== null && limit.io_bound_tps <= limit.cpu_bound_tps ? "I/O" : "CPU"}-bound).`,
      );
    }
  }
  return {
    generated_at: new Date().toISOString(),
    machine: facts,
    settings: { ...withoutWorkDir(options), profile_details: profile, concurrency: concurrency },
    limits,
    runs,
    medians,
    spread,
    ratios,
    checks,
    diagnosis,
  };
}
