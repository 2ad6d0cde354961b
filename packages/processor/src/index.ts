export {
  type Classified,
  classify,
  type ErrorClass,
  PermanentError,
  TaskError,
  TimeoutError,
  TransientError,
  ValidationError,
} from "./errors.js";
export { createFaultInjector, type FaultDecision, type FaultOptions } from "./faults.js";
export { compute } from "./handlers/compute.js";
export type { HttpSimulation } from "./handlers/http-request.js";
export { outputKeyOf } from "./handlers/image.js";
export { transformImage } from "./image/pipeline.js";
export { channelsOf, encodeHeader, MAX_PIXELS, MAX_SIDE, type PpmHeader, readRows } from "./image/ppm.js";
export { syntheticPpm } from "./image/synthetic.js";
export { createTransform, type RowTransform, type VariantOptions } from "./image/variants.js";
export {
  BUILT_IN_TYPES,
  type BuiltInEnv,
  type BuiltInRunner,
  builtInRunner,
  createProcessor,
  openStore,
  type Processor,
  type ProcessorConfig,
  type TaskOutcome,
  type TaskOutput,
} from "./processor.js";
export {
  type InvalidTask,
  loadPayloadFile,
  loadTaskFile,
  parseTaskText,
  type StreamedTask,
  streamTaskFile,
  type TaskFile,
  TaskFileError,
} from "./task-file.js";
export {
  COMPUTE_OPERATIONS,
  type ComputeTask,
  type FailTask,
  HTTP_METHODS,
  type HttpRequestTask,
  type ImageTask,
  LIMITS,
  type NoopTask,
  type ParseOptions,
  type PreparedTask,
  parseTask,
  prepareTask,
  type SleepTask,
  TASK_TYPES,
  type Task,
  type TaskType,
  toPrepared,
  toWire,
  VARIANTS,
  type Variant,
} from "./task-schema.js";
export type { WorkerRequest } from "./worker.js";
export { type CrashOutcome, guardWorker } from "./worker-guard.js";

/** Absolute URL of the built worker entry, for tinypool's `filename`. */
export const workerUrl: URL = new URL("./worker.js", import.meta.url);
export { ensureImages, generateTasks, imageSeed, type Workload, type WorkloadOptions } from "./workload.js";
