// Runs N no-op tasks from 100 closed-loop clients through the real runtime and reports RSS and the
// JS heap at every tenth of the run and at the end (after GC), the queue's max depth, and what is
// left open after close.

import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { runClients } from "@taskq/queue";
import { openRuntime } from "taskq/app";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const total = Number(process.argv[2]);
const dir = String(process.argv[3]);
const baselineResources = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap");
const runtime = await openRuntime({
  store: join(dir, "tasks.db"),
  storage: join(dir, "objects"),
  threads: 2,
  concurrency: 32,
  queueSize: 200,
  onFull: "block",
  attempts: 3,
  backoffBaseMs: 10,
  backoffMaxMs: 100,
  timeoutMs: 0,
  baseLatencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  seed: 1,
  chunkSize: 65_536,
  leaseMs: 30_000,
  retentionMs: 0,
  logLevel: "silent",
});
let done = 0;
/** RSS and JS heap after a GC at every tenth of the run. */
const samples: { done: number; rss: number; heap: number }[] = [];
await runClients({
  clients: 100,
  source: (function* () {
    for (let i = 0; i < total; i++) yield { id: `n-${i}`, type: "noop" };
  })(),
  submit: (task) => runtime.orchestrator.submit(task),
  onSettled: () => {
    done++;
    if (done % Math.floor(total / 10) === 0) {
      gc();
      const m = process.memoryUsage();
      samples.push({ done, rss: m.rss, heap: m.heapUsed });
      if (process.env["TASKQ_LOAD_TRACE"])
        process.stderr.write(
          `${done} rss ${(m.rss / 1e6).toFixed(1)} heap ${(m.heapUsed / 1e6).toFixed(1)} ext ${(m.external / 1e6).toFixed(1)} ab ${(m.arrayBuffers / 1e6).toFixed(1)}\n`,
        );
    }
  },
});
gc();
const rssEnd = process.memoryUsage().rss;
const snapshot = runtime.metrics.finish();
await runtime.close();
await new Promise((resolve) => setImmediate(resolve));
const left = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap");
const extra = [...left];
for (const r of baselineResources) {
  const i = extra.indexOf(r);
  if (i >= 0) extra.splice(i, 1);
}
console.log(
  JSON.stringify({
    succeeded: snapshot.succeeded,
    maxQueueDepth: snapshot.maxQueueDepth,
    samples,
    rssEnd,
    leaks: {
      resources: extra,
      sigint: process.listenerCount("SIGINT"),
      sigterm: process.listenerCount("SIGTERM"),
    },
  }),
);
