import { setTimeout as sleep } from "node:timers/promises";
import { TimeoutError } from "../errors.js";
import type { SleepTask } from "../task-schema.js";

/** Sleeps `duration`; past `timeout` the sleep is cancelled and the attempt fails as `timeout`. */
export async function sleepTask(task: SleepTask, signal?: AbortSignal): Promise<{ result: string }> {
  signal?.throwIfAborted();
  const timeout = task.timeoutMs;
  if (timeout === undefined || task.durationMs <= timeout) {
    await sleep(task.durationMs, undefined, signal ? { signal } : undefined);
    return { result: `slept ${task.durationMs} ms` };
  }
  await sleep(timeout, undefined, signal ? { signal } : undefined);
  throw new TimeoutError(
    `task ${JSON.stringify(task.id)}: sleep of ${task.durationMs} ms cancelled at its ${timeout} ms timeout`,
  );
}
