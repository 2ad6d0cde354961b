// baseline_task_queue_v2: the naive original, kept naive on purpose (see notes.md).
//
// - The queue is an unbounded array: producers push as fast as they like, memory grows with it.
// - A few async workers share ONE global lock, held across dequeue + process + write, so only
//   one task is ever being processed: the other workers just wait for the lock.
// - No idempotency (duplicates are processed again), no retries (a failure is final), no
//   metrics beyond timing.
//
// It does the same work per task as the optimized system (same task file, same object store,
// same variants, same simulated storage latency), through the same processor, and with --json
// it reports latency measured the same way (from each task's submission, by @taskq/metrics).
// Nothing here is slowed on purpose.
//
// Usage: tsx baseline_task_queue_v2.ts --tasks FILE [--storage DIR] [--clients N] [--workers N]
//          [--base-latency-ms MS] [--error-rate P] [--seed-images] [--json FILE]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MetricsRecorder, toReport } from "@taskq/metrics";
import { createProcessor, ensureImages, loadTaskFile, type Task } from "@taskq/processor";

interface Entry {
  task: Task;
  submittedAt: number;
  done: () => void;
}

function usage(message: string): never {
  process.stderr.write(`baseline: ${message}\n`);
  process.exit(2);
}

function number(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    usage(`--${name} must be a number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      tasks: { type: "string", default: join(import.meta.dirname, "sample_tasks_small.json") },
      storage: { type: "string", default: ".taskq/objects" },
      clients: { type: "string" },
      workers: { type: "string" },
      "base-latency-ms": { type: "string" },
      "error-rate": { type: "string" },
      "seed-images": { type: "boolean", default: false },
      json: { type: "string" },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (error) {
  usage((error as Error).message);
}
const clients = number("clients", args.values.clients, 100, 1);
const workers = number("workers", args.values.workers, 4, 1);
const baseLatencyMs = number("base-latency-ms", args.values["base-latency-ms"], 30, 0);
const errorRate = number("error-rate", args.values["error-rate"], 0, 0);

let file: Awaited<ReturnType<typeof loadTaskFile>>;
try {
  file = await loadTaskFile(args.values.tasks as string);
} catch (error) {
  process.stderr.write(`baseline: ${(error as Error).message}\n`);
  process.exit(2);
}
for (const bad of file.invalid) process.stderr.write(`baseline: skipped ${bad.message}\n`);

const processor = await createProcessor({
  key: "baseline",
  storage: { kind: "fs", root: args.values.storage as string },
  simulation: { baseLatencyMs },
  faults: { errorProbability: errorRate },
});
if (args.values["seed-images"]) await ensureImages(processor.store, file.tasks);

// --- the naive queue ------------------------------------------------------------------------
const queue: Entry[] = []; // unbounded
let lockHeld: Promise<void> = Promise.resolve(); // one global lock
const metrics = new MetricsRecorder({ threads: workers });

function acquire(): Promise<() => void> {
  let release!: () => void;
  const next = new Promise<void>((resolve) => {
    release = resolve;
  });
  const acquired = lockHeld.then(() => release);
  lockHeld = lockHeld.then(() => next);
  return acquired;
}

let finished = false;
let wake: (() => void) | undefined;
async function worker(): Promise<void> {
  for (;;) {
    const release = await acquire(); // held across dequeue + process + write
    try {
      const entry = queue.shift();
      if (!entry) {
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      metrics.recordDequeue(queue.length);
      const outcome = await processor.run(entry.task, 1);
      metrics.recordAttempt(outcome.runMs);
      const totalMs = performance.now() - entry.submittedAt;
      const timing = { totalMs, waitMs: totalMs - outcome.runMs, runMs: outcome.runMs };
      if (outcome.ok) metrics.recordSuccess(timing);
      else metrics.recordFailure(outcome.error.errorClass, timing);
      entry.done();
    } finally {
      release();
    }
  }
}

function submit(task: Task): Promise<void> {
  return new Promise((done) => {
    queue.push({ task, submittedAt: performance.now(), done });
    metrics.recordEnqueue(queue.length);
    wake?.();
    wake = undefined;
  });
}

const start = performance.now(); // ready to serve: from the process's start, start-up took this long
const pool = Array.from({ length: workers }, worker);
let next = 0;
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < file.tasks.length) await submit(file.tasks[next++] as Task);
  }),
);
finished = true;
wake?.();
await Promise.all(pool);
const seconds = (performance.now() - start) / 1000;
await processor.dispose();

console.log(`done in ${seconds.toFixed(2)} sec`);
if (args.values.json) {
  const snapshot = metrics.finish();
  const report = {
    ...toReport(snapshot),
    system: "baseline",
    startup_ms: start,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    main_thread_utilization: performance.eventLoopUtilization().utilization,
    latency_cdf: snapshot.latencyCdf,
    depth_series: snapshot.depthSeries,
  };
  writeFileSync(args.values.json, `${JSON.stringify(report, null, 2)}\n`);
}
