export { main } from "./cli.js";
export {
  type MachineFacts,
  type MachineLimit,
  machineFacts,
  machineLimit,
  measureCpuPerTask,
} from "./machine.js";
export { type MicroResult, runMicro } from "./micro.js";
export {
  type BenchOptions,
  type BenchResult,
  type Check,
  type RunResult,
  runBenchmark,
  type Spread,
  type System,
  TARGETS,
  tasksPerRun,
} from "./orchestrate.js";
export { PROFILES, type Profile } from "./profiles.js";
export { renderHtml, writeReports } from "./report-files.js";
export { formatTable } from "./report-table.js";
