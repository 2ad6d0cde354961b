// Micro-benchmark: the cost of recording one latency sample plus one counter update, and of a
// log call filtered out by the level. Runs against the built package (pnpm build first).
// Usage: node bench/run.mjs [iterations]
import { Writable } from "node:stream";
import { createLogger, LatencyHistogram, MetricsRecorder } from "../dist/index.js";

const iterations = Number(process.argv[2] ?? 2_000_000);

function measure(name, fn) {
  for (let i = 0; i < 100_000; i++) fn(i); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(
    `${name.padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/op  ${(1e9 / ns / 1e6).toFixed(2).padStart(6)} M ops/s`,
  );
}

const histogram = new LatencyHistogram();
measure("LatencyHistogram.record", (i) => histogram.record(0.5 + (i % 1000) * 0.37));

const recorder = new MetricsRecorder({ threads: 4 });
measure("recordSuccess (3 histograms) + counter", (i) =>
  recorder.recordSuccess({ totalMs: 1 + (i % 500), waitMs: 0.2, runMs: 0.8 }),
);
measure("recordEnqueue (counter + depth gauge)", (i) => recorder.recordEnqueue(i % 200));

const sink = new Writable({ write: (_c, _e, done) => done() });
const log = createLogger({ level: "info", destination: sink });
measure("logger.debug filtered out at level info", (i) => log.debug({ task_id: "t", attempt: i }, "attempt"));
console.log(`node ${process.version}, ${iterations} iterations each`);
