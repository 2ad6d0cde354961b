import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSyncStore } from "@taskq/idempotency";
import { LatencyHistogram } from "@taskq/metrics";
import { workerUrl } from "@taskq/processor";
import { BoundedQueue, TinypoolExecutor } from "@taskq/queue";

/** One component's rate. */
export interface MicroResult {
  readonly name: string;
  readonly ops: number;
  readonly opsPerSecond: number;
}

async function time(name: string, ops: number, fn: () => Promise<void> | void): Promise<MicroResult> {
  const start = performance.now();
  await fn();
  return { name, ops, opsPerSecond: ops / ((performance.now() - start) / 1000) };
}

/** Micro-benchmarks of the components, each in operations per second. `scale` shrinks them for tests. */
export async function runMicro(scale = 1): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  const samples = Math.round(2_000_000 * scale);
  const histogram = new LatencyHistogram();
  results.push(
    await time("histogram record", samples, () => {
      for (let i = 0; i < samples; i++) histogram.record(0.5 + (i % 997) * 0.31);
    }),
  );

  const tasks = Math.round(50_000 * scale);
  const store = new SqliteSyncStore({ path: join(mkdtempSync(join(tmpdir(), "taskq-micro-")), "tasks.db") });
  results.push(
    await time("store claim+start+succeed (100 per transaction)", tasks, () => {
      for (let i = 0; i < tasks; i += 100) {
        store.transaction(() => {
          for (let j = i; j < Math.min(tasks, i + 100); j++) {
            const claim = store.claim({ id: `t${j}`, idempotencyKey: `k${j}`, kind: "noop", payload: {} });
            if (!claim.created) continue;
            const started = store.start(claim.seq, claim.version);
            store.succeed(claim.seq, started.version, {});
          }
        });
      }
    }),
  );
  store.close();

  const items = Math.round(1_000_000 * scale);
  const queue = new BoundedQueue<number>({ maxSize: 200 });
  results.push(
    await time("bounded queue put+take (4 producers, 4 consumers)", items, async () => {
      let produced = 0;
      let claimed = 0;
      await Promise.all([
        ...Array.from({ length: 4 }, async () => {
          while (produced < items) await queue.put(produced++);
        }),
        ...Array.from({ length: 4 }, async () => {
          // Claim an item before waiting for it, so no consumer waits for one that never comes.
          while (claimed < items) {
            claimed++;
            await queue.take();
          }
        }),
      ]);
    }),
  );

  const dispatches = Math.round(50_000 * scale);
  const config = { key: "micro", storage: { kind: "memory" as const } };
  const executor = new TinypoolExecutor<unknown, unknown>({
    filename: workerUrl,
    threads: 2,
    concurrentTasksPerThread: 32,
    request: (task, attempt) => ({ task, attempt, config }),
  });
  await executor.run({ id: "warm", type: "noop", idempotencyKey: "warm" }, 1);
  results.push(
    await time("thread dispatch round trip (no-op, 64 in flight)", dispatches, async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < dispatches) {
            next++;
            await executor.run({ id: "n", type: "noop", idempotencyKey: "n" }, 1);
          }
        }),
      );
    }),
  );
  await executor.destroy();
  return results;
}
