// 2,000 tasks (10% of them duplicates) from 50 concurrent clients, then the metrics.
import { createQueue } from "taskq";

const queue = await createQueue({
  handler: new URL("./handlers/checksum.mjs", import.meta.url),
  store: ":memory:",
  concurrency: 4,
  queueSize: 100,
});
const payloads = Array.from({ length: 2000 }, (_, n) => ({ seed: n % 1800, size: 4096 }));
const summary = await queue.submitMany(payloads, { clients: 50 });
const m = queue.metrics();
console.log(summary);
console.log(`succeeded ${m.success_count}, duplicates ${m.duplicate_count}, failed ${m.fail_count}`);
console.log(
  `throughput ${m.throughput_tps} tasks/s, p95 ${m.p95_latency_ms} ms, max queue depth ${m.max_queue_depth}`,
);
await queue.close();
