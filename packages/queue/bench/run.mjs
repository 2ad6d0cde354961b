// Benchmark: no-op tasks through the full chain (validate, claim in SQLite, bounded queue,
// dispatch, completion, metrics), 100 closed-loop clients, once with tinypool threads and once
// with an inline executor (no thread hop). Runs against the built packages.
// Usage: node bench/run.mjs [tasks] [threads] [perThread]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore } from "@taskq/idempotency";
import { MetricsRecorder } from "@taskq/metrics";
import { prepareTask, workerUrl } from "@taskq/processor";
import { InlineExecutor, Orchestrator, runClients, TinypoolExecutor } from "../dist/index.js";

// every store of this run lives here, removed when the process exits
const workDir = mkdtempSync(join(tmpdir(), "taskq-qbench-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

const tasks = Number(process.argv[2] ?? 50_000);
const threads = Number(process.argv[3] ?? 2);
const perThread = Number(process.argv[4] ?? 32);
const config = { key: "bench", storage: { kind: "memory" } };

async function run(name, executor) {
  const store = new SqliteSyncStore({
    path: join(mkdtempSync(join(workDir, "run-")), "tasks.db"),
    checkpoint: "background", // as taskq run and serve open it
  });
  const batched = new SqliteTaskStore(store);
  const metrics = new MetricsRecorder({ threads: executor.concurrency });
  const orchestrator = new Orchestrator({
    prepare: (raw) => prepareTask(raw),
    store: batched,
    executor,
    metrics,
    queueSize: 200,
  });
  const source = (function* () {
    for (let i = 0; i < tasks; i++) yield { id: `n-${i}`, type: "noop" };
  })();
  const start = performance.now();
  const summary = await runClients({ clients: 100, source, submit: (t) => orchestrator.submit(t) });
  const ms = performance.now() - start;
  const snap = metrics.finish();
  await orchestrator.close();
  store.close();
  console.log(
    `${name.padEnd(40)} ${Math.round((summary.fulfilled / ms) * 1000)
      .toLocaleString("en-US")
      .padStart(8)} tasks/s` +
      `  p95 ${snap.latency.p95.toFixed(2)} ms  (${batched.batches} store transactions, ${(batched.operations / batched.batches).toFixed(0)} ops each)`,
  );
}

const inline = new InlineExecutor(async () => ({ ok: true, output: {}, runMs: 0 }), 64);
await run("inline executor (no thread hop)", inline);
const pooled = new TinypoolExecutor({
  filename: workerUrl,
  threads,
  concurrentTasksPerThread: perThread,
  workerData: config, // once per thread; each message carries the task only
  request: (task, attempt) => ({ task, attempt }),
});
await run(`tinypool, ${threads} threads x ${perThread} per thread`, pooled);
console.log(`node ${process.version}, ${tasks} no-op tasks, 100 clients, file database, queue size 200`);
