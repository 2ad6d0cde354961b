// The tinypool worker entry: one processor per configuration per thread, reused across tasks.
import { createProcessor, type Processor, type ProcessorConfig, type TaskOutcome } from "./processor.js";
import type { Task } from "./task-schema.js";
import { guardWorker } from "./worker-guard.js";

/** The message a worker receives for one attempt. */
export interface WorkerRequest {
  readonly task: Task;
  readonly attempt: number;
  readonly config: ProcessorConfig;
}

const processors = new Map<string, Promise<Processor>>();

/** Runs one attempt; never throws for a task failure (it is returned, classified). */
async function runTask(request: WorkerRequest): Promise<TaskOutcome> {
  let processor = processors.get(request.config.key);
  if (!processor) {
    processor = createProcessor(request.config);
    processors.set(request.config.key, processor);
  }
  return (await processor).run(request.task, request.attempt);
}

export default guardWorker(runTask);
