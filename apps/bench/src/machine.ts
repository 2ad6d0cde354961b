import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { createProcessor, ensureImages, generateTasks, parseTask } from "@taskq/processor";
import type { Profile } from "./profiles.js";

/** Facts about the machine a run happened on. */
export interface MachineFacts {
  readonly cores: number;
  readonly cpu: string;
  readonly memory_gib: number;
  readonly node: string;
  readonly platform: string;
}

export function machineFacts(): MachineFacts {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
  };
}

/** The machine's limit for a workload, from measured parts. */
export interface MachineLimit {
  /** CPU time of one task, ms: the processor alone, single-threaded, on a sample, no simulated latency. */
  readonly cpu_ms_per_task: number;
  /** Simulated I/O time of one task, ms, from the latency model (requests x latency). */
  readonly io_ms_per_task: number;
  readonly cores: number;
  readonly clients: number;
  /** clients / I/O time: how fast the clients could go if the work took no CPU. */
  readonly io_bound_tps: number | null;
  /** cores / CPU time: how fast the cores could go if I/O took no time. */
  readonly cpu_bound_tps: number;
  /** min of the two: the best this machine can do on this workload with this many clients. */
  readonly limit_tps: number;
}

/**
 * Measures the CPU time of one task by running the processor alone, on the main thread, one task
 * at a time, over a sample of the workload (process CPU time, not wall time; the second of two
 * passes, so JIT warm-up is not counted). Works in a new directory under `parent`, removed after.
 */
export async function measureCpuPerTask(profile: Profile, sample = 90, parent = tmpdir()): Promise<number> {
  const dir = await mkdtemp(join(parent, "taskq-limit-"));
  try {
    const processor = await createProcessor({
      key: dir,
      // the file I/O of the worker threads that run the optimized system (blocking calls)
      storage: { kind: "fs", root: join(dir, "objects"), io: "sync" },
    });
    const { tasks } = generateTasks({
      count: sample,
      duplicates: 0,
      kind: profile.kind,
      size: profile.size,
      seed: 99,
    });
    const parsed = tasks.map((t) => parseTask(t));
    await ensureImages(processor.store, parsed, { size: profile.size });
    for (const task of parsed) await processor.run(task, 1); // a first pass warms up the JIT
    const before = process.cpuUsage();
    for (const task of parsed) {
      const outcome = await processor.run(task, 1);
      if (!outcome.ok) throw new Error(`sample task failed: ${outcome.error.message}`);
    }
    const used = process.cpuUsage(before);
    await processor.dispose();
    return (used.user + used.system) / 1000 / parsed.length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function machineLimit(
  profile: Profile,
  clients: number,
  cpuMsPerTask: number,
  cores: number,
  jitterMs = 0,
): MachineLimit {
  const ioMs = profile.requestsPerTask * (profile.baseLatencyMs + jitterMs / 2);
  const ioBound = ioMs > 0 ? (clients / ioMs) * 1000 : null;
  const cpuBound = (cores / Math.max(cpuMsPerTask, 1e-6)) * 1000;
  return {
    cpu_ms_per_task: Number(cpuMsPerTask.toFixed(4)),
    io_ms_per_task: ioMs,
    cores,
    clients,
    io_bound_tps: ioBound === null ? null : Number(ioBound.toFixed(1)),
    cpu_bound_tps: Number(cpuBound.toFixed(1)),
    limit_tps: Number(Math.min(ioBound ?? Number.POSITIVE_INFINITY, cpuBound).toFixed(1)),
  };
}
