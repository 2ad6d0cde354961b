// The tinypool worker entry: one processor per configuration per thread, reused across tasks.
import { TransientError } from "./errors.js";
import { createProcessor, type Processor, type ProcessorConfig, type TaskOutcome } from "./processor.js";
import type { Task } from "./task-schema.js";

/** The message a worker receives for one attempt. */
export interface WorkerRequest {
  readonly task: Task;
  readonly attempt: number;
  readonly config: ProcessorConfig;
}

const processors = new Map<string, Promise<Processor>>();

// tinypool 2 settles a thread's tasks only when the thread emits "error": a thread that calls
// process.exit() would leave them pending forever. Code running here gets a thrown, retryable
// `worker_crash` error instead, and the thread lives on.
process.exit = ((code?: number) => {
  throw new TransientError(`process.exit(${code ?? ""}) called inside a worker task`, "worker_crash");
}) as typeof process.exit;

/** Runs one attempt; never throws for a task failure (it is returned, classified). */
export default async function runTask(request: WorkerRequest): Promise<TaskOutcome> {
  let processor = processors.get(request.config.key);
  if (!processor) {
    processor = createProcessor(request.config);
    processors.set(request.config.key, processor);
  }
  return (await processor).run(request.task, request.attempt);
}
