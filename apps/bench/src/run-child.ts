// One measured run of the optimized system, in its own process (spawned by the orchestrator).
import { readdirSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type MetricsReport, toReport } from "@taskq/metrics";
import { loadTaskFile, toPrepared } from "@taskq/processor";
import { runClients } from "@taskq/queue";
import { createQueue } from "taskq";
import { openRuntime, processorConfigOf, type RuntimeConfig } from "taskq/app";

/** What the orchestrator asks a child to run. */
export interface RunSpec {
  readonly tasksFile: string;
  readonly resultFile: string;
  readonly clients: number;
  readonly runtime: RuntimeConfig;
  /** This child's share when several workers run one workload: every `count`-th task from `index`. */
  readonly slice?: { readonly index: number; readonly count: number };
  /** The first `warmup` tasks of the file go through the whole path before the clock starts. */
  readonly warmup?: number;
  /** Print `ready` once warm, then wait for a line on stdin before starting (workers start together). */
  readonly barrier?: boolean;
  /**
   * `pool`: the built-in task types through the hand-wired runtime; `queue`: the same tasks as
   * payloads of a no-op handler module through the front door, `createQueue`; `handler`: those
   * payloads and that handler module through the hand-wired runtime (`openRuntime` and its
   * orchestrator): the same code on the threads as `queue`, without the front door.
   * @default "pool"
   */
  readonly via?: "pool" | "queue" | "handler";
  /**
   * The handler runs' idempotency keys: the pool's own (`noop:<id>`, the same work) or the front
   * door's default, a SHA-256 of the payload (random keys: the store's index writes scatter).
   * @default "pool"
   */
  readonly keys?: "pool" | "hash";
  /**
   * A handler run's kind isolated (`isolation: { bench: ... }`): in threads or child processes
   * of its own, as many as the runtime's threads, each running `concurrency` attempts at once (the
   * same slots as the shared threads, so that what differs is the isolation alone).
   * @default none: the shared threads
   */
  readonly isolation?: "thread" | "process";
}

const noopHandler = new URL("./noop-handler.js", import.meta.url);
const builtinHandler = new URL("./builtin-handler.js", import.meta.url);

/** What a handler run submits through, and reads its metrics from. */
interface HandlerSide {
  submit(payload: unknown): Promise<unknown>;
  metrics(): MetricsReport;
  close(): Promise<void>;
}

/** The handler module a run's tasks go to, and what it is given, alike on both sides. */
interface HandlerChoice {
  readonly handler: URL;
  readonly handlerOptions: unknown;
  readonly key: ((payload: unknown) => string) | undefined;
}

/** The run's `isolation` option: its kind (`bench`) in threads or processes of its own, with the shared threads' slots. */
function isolationOf(spec: RunSpec) {
  if (spec.isolation === undefined) return {};
  const { threads, concurrency } = spec.runtime;
  return { isolation: { bench: { in: spec.isolation, count: Math.max(1, threads), concurrency } } };
}

/** The front door: `createQueue` with the handler module. */
async function frontDoor(spec: RunSpec, choice: HandlerChoice): Promise<HandlerSide> {
  const queue = await createQueue({
    handler: choice.handler,
    kind: "bench",
    handlerOptions: choice.handlerOptions,
    store: spec.runtime.store,
    threads: spec.runtime.threads,
    concurrency: spec.runtime.concurrency,
    queueSize: spec.runtime.queueSize,
    onFull: spec.runtime.onFull,
    attempts: spec.runtime.attempts,
    backoffBaseMs: spec.runtime.backoffBaseMs,
    backoffMaxMs: spec.runtime.backoffMaxMs,
    ...(choice.key ? { key: choice.key } : {}),
    ...isolationOf(spec),
  });
  return {
    submit: (payload) => queue.submit(payload),
    metrics: () => queue.metrics(),
    close: () => queue.close(),
  };
}

/** The same handler module through the hand-wired runtime: openRuntime and its orchestrator. */
async function handWired(spec: RunSpec, choice: HandlerChoice): Promise<HandlerSide> {
  const { storage: _objects, ...config } = spec.runtime; // no ctx.objects: as createQueue's
  const runtime = await openRuntime({
    ...config,
    handler: choice.handler,
    kind: "bench",
    handlerOptions: choice.handlerOptions,
    ...(choice.key ? { key: choice.key } : {}),
    ...isolationOf(spec),
  });
  return {
    submit: (payload) => runtime.orchestrator.submit(payload),
    metrics: () => toReport(runtime.metrics.snapshot()),
    close: () => runtime.close(),
  };
}

/**
 * A handler run (`via: "queue"` or `"handler"`): the workload's tasks as payloads of a handler
 * module (the no-op one for no-op tasks; otherwise the built-in types run by the processor as a
 * handler, `builtin-handler.ts`), through the front door or the hand-wired runtime. Warmed alike
 * (one task per slot, before the clock starts); throughput counts the tasks that succeeded during
 * the measured interval.
 */
async function runHandlerChild(spec: RunSpec): Promise<void> {
  const file = await loadTaskFile(spec.tasksFile);
  const payloads = file.tasks.map((task) => toPrepared(task).payload);
  const builtin = file.tasks.some((task) => task.type !== "noop");
  const choice: HandlerChoice = {
    handler: builtin ? builtinHandler : noopHandler,
    handlerOptions: builtin
      ? processorConfigOf(spec.runtime, resolve(spec.runtime.storage as string))
      : undefined,
    // the pool's keys (the same work), unless the default hashed key is what is measured
    key: spec.keys === "hash" ? undefined : (p: unknown) => `noop:${(p as { id: string }).id}`,
  };
  const side = spec.via === "queue" ? await frontDoor(spec, choice) : await handWired(spec, choice);
  const slots = spec.runtime.threads * spec.runtime.concurrency;
  // the workload's first tasks under ids and keys of their own
  await Promise.all(
    payloads
      .slice(0, slots)
      .map((p, n) => side.submit({ ...(p as object), id: `warmup-${n}`, idempotency_key: `warmup-${n}` })),
  );
  const before = side.metrics();
  const startupMs = performance.now();
  const cpu = process.cpuUsage();
  // a kind isolated in processes spends CPU in them too (Linux: read from /proc; else not counted)
  const childCpu = childrenCpuMs();
  const start = performance.now();
  await runClients({ clients: spec.clients, source: payloads, submit: (payload) => side.submit(payload) });
  const seconds = (performance.now() - start) / 1000;
  const cpuUsed = process.cpuUsage(cpu);
  const childCpuMs = childrenCpuMs() - childCpu;
  const after = side.metrics();
  await side.close();
  const succeeded = after.success_count - before.success_count;
  const result = {
    ...after,
    system: "optimized",
    via: spec.via,
    duration_seconds: seconds,
    success_count: succeeded,
    duplicate_count: after.duplicate_count - before.duplicate_count,
    throughput_tps: succeeded / seconds,
    cpu_ms_per_task: ((cpuUsed.user + cpuUsed.system) / 1000 + childCpuMs) / Math.max(1, succeeded),
    ...(spec.isolation ? { isolation: spec.isolation } : {}),
    startup_ms: startupMs,
    peak_rss_mb: peakRssMb(),
    main_thread_utilization: 0,
    latency_cdf: [],
    depth_series: [],
  };
  await writeFile(spec.resultFile, `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * CPU time of this process's child processes alive now (user and system), ms: summed from
 * /proc/<pid>/stat on Linux, 0 elsewhere (and for children that have exited).
 */
export function childrenCpuMs(): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // after the command's closing parenthesis: state, ppid, ..., utime (14th field), stime (15th)
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid) continue;
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Linux's clock ticks per second (USER_HZ), what /proc/<pid>/stat counts CPU time in. */
const CLOCK_TICKS = 100;

/** The process's peak resident set so far (every thread), MB. */
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Waits for one line on stdin. */
function goSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once("data", () => resolve());
    process.stdin.resume();
  });
}

/** Runs the spec in `specFile` and writes the result JSON (the metrics report plus chart data). */
export async function runOptimizedChild(specFile: string): Promise<void> {
  const spec = JSON.parse(await readFile(specFile, "utf8")) as RunSpec;
  if (spec.via === "queue" || spec.via === "handler") return runHandlerChild(spec);
  const file = await loadTaskFile(spec.tasksFile);
  const slice = spec.slice ?? { index: 0, count: 1 };
  // validated when loaded, as `taskq run` does
  const all = file.tasks.map(toPrepared);
  const warmupTasks = all.slice(0, spec.warmup ?? 0);
  const prepared = all.slice(warmupTasks.length).filter((_, i) => i % slice.count === slice.index);
  const runtime = await openRuntime(spec.runtime);
  // Start the clock at "ready to serve", as the baseline's does: spawn and warm the threads with
  // one attempt per slot (straight on the executor, no store record), then run the warm-up tasks
  // through the whole path, then start the metrics over.
  const slotWarmup = file.tasks.slice(0, runtime.executor.concurrency);
  await Promise.all(slotWarmup.map((task) => runtime.executor.run(task, 1)));
  if (warmupTasks.length > 0)
    await runClients({
      clients: spec.clients,
      source: warmupTasks,
      submit: (t) => runtime.orchestrator.submitPrepared(t),
    });
  if (spec.barrier) {
    process.stdout.write("ready\n");
    await goSignal();
    process.stdin.pause();
  }
  // from the process's start (performance's time origin) to ready to serve: reported on its own
  const startupMs = performance.now();
  runtime.metrics.reset();
  runtime.store.resetCounters();
  const startedAt = performance.timeOrigin + performance.now();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  await runClients({
    clients: spec.clients,
    source: prepared,
    submit: (t) => runtime.orchestrator.submitPrepared(t),
  });
  const snapshot = runtime.metrics.finish();
  const endedAt = performance.timeOrigin + performance.now();
  const mainThread = performance.eventLoopUtilization(elu).utilization;
  const cpuUsed = process.cpuUsage(cpu);
  const storeMs = runtime.store.counters().busyMs;
  const peakRss = peakRssMb();
  await runtime.close();
  const result = {
    ...toReport(snapshot),
    system: "optimized",
    started_at_ms: startedAt,
    ended_at_ms: endedAt,
    main_thread_utilization: mainThread,
    startup_ms: startupMs,
    peak_rss_mb: peakRss,
    store_ms: storeMs,
    // All threads of the process (main, workers, libuv's pool), per task that ran.
    cpu_ms_per_task:
      (cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, snapshot.succeeded + snapshot.failed),
    latency_cdf: snapshot.latencyCdf,
    depth_series: snapshot.depthSeries,
  };
  await writeFile(spec.resultFile, `${JSON.stringify(result, null, 2)}\n`);
}
