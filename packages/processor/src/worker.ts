// The tinypool worker entry: one processor per configuration per thread, reused across tasks.
import { Tinypool } from "tinypool";
import { createProcessor, type Processor, type ProcessorConfig, type TaskOutcome } from "./processor.js";
import type { Task } from "./task-schema.js";
import { guardWorker } from "./worker-guard.js";

/** The message a worker receives for one attempt. */
export interface WorkerRequest {
  readonly task: Task;
  readonly attempt: number;
  /**
   * The processor configuration. Leave it out to use the pool's `workerData`, sent once per
   * thread instead of cloned into every message.
   */
  readonly config?: ProcessorConfig;
}

const processors = new Map<string, Promise<Processor>>();

/** Runs one attempt; never throws for a task failure (it is returned, classified). */
async function runTask(request: WorkerRequest): Promise<TaskOutcome> {
  const config = request.config ?? (Tinypool.workerData as ProcessorConfig | undefined);
  if (!config)
    throw new Error("no processor configuration: give the pool workerData or the request a config");
  let processor = processors.get(config.key);
  if (!processor) {
    processor = createProcessor(config);
    processors.set(config.key, processor);
  }
  return (await processor).run(request.task, request.attempt);
}

export default guardWorker(runTask);
