// Test wiring of the real chain: SQLite store (temp file, batched), metrics recorder, tinypool
// threads running the processor's worker, storage-sim on a temp directory.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore } from "@taskq/idempotency";
import { MetricsRecorder } from "@taskq/metrics";
import {
  type FaultOptions,
  type ProcessorConfig,
  prepareTask,
  syntheticPpm,
  type Task,
  type TaskOutput,
  workerUrl,
} from "@taskq/processor";
import { FsObjectStore, type SimulationOptions } from "@taskq/storage-sim";
import { type OnFull, Orchestrator, TinypoolExecutor } from "../src/index.js";

export interface ChainOptions {
  threads?: number;
  perThread?: number;
  queueSize?: number;
  onFull?: OnFull;
  faults?: FaultOptions;
  simulation?: SimulationOptions;
  maxAttempts?: number;
  taskTimeoutMs?: number;
}

export async function makeChain(options: ChainOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "taskq-chain-"));
  const config: ProcessorConfig = {
    key: dir,
    storage: { kind: "fs", root: join(dir, "objects") },
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.simulation ? { simulation: options.simulation } : {}),
  };
  const objects = await FsObjectStore.open({ root: join(dir, "objects") });
  const store = new SqliteSyncStore({ path: join(dir, "tasks.db") });
  const executor = new TinypoolExecutor<Task, TaskOutput>({
    filename: workerUrl,
    threads: options.threads ?? 2,
    concurrentTasksPerThread: options.perThread ?? 4,
    request: (task, attempt) => ({ task, attempt, config }),
  });
  const metrics = new MetricsRecorder({ threads: executor.concurrency });
  const orchestrator = new Orchestrator<Task, TaskOutput>({
    prepare: (raw) => prepareTask(raw),
    store: new SqliteTaskStore(store),
    executor,
    metrics,
    retry: { maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 1, maxDelayMs: 4 },
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
    ...(options.onFull === undefined ? {} : { onFull: options.onFull }),
    ...(options.taskTimeoutMs === undefined ? {} : { taskTimeoutMs: options.taskTimeoutMs }),
  });
  return {
    dir,
    objects,
    store,
    metrics,
    orchestrator,
    executor,
    async addImages(count: number, width = 40, height = 30) {
      for (let i = 0; i < count; i++)
        await objects.putObject("images", `img-${i}.ppm`, syntheticPpm(width + i, height, i));
    },
    async close() {
      await orchestrator.close();
      store.close();
    },
  };
}

/** `count` image tasks over `unique` images and the three variants; ids unique, keys repeat. */
export function imageTasks(count: number, unique: number): Record<string, unknown>[] {
  const variants = ["thumb", "gray", "blur"];
  return Array.from({ length: count }, (_, i) => ({
    id: `t-${i}`,
    image_key: `img-${i % unique}.ppm`,
    variant: variants[Math.floor(i / unique) % 3],
  }));
}
