// The history checker: a pure function of what a run recorded (the handlers' attempts, the
// producer's calls and answers, the fleet's faults and exits, the store's final tasks) and the
// workload's settings, to the promises it finds broken. checks-tasks.ts holds the promises about
// each task, checks-fleet.ts those about the fleet; each violation names its promise and task.
import { buildHistory } from "./attempts.js";
import { checkFleet } from "./checks-fleet.js";
import { checkTasks } from "./checks-tasks.js";
import type {
  AttemptEvent,
  FinalTask,
  FleetEntry,
  ProducerEntry,
  Violation,
  WorkloadConfig,
} from "./model.js";

export interface HistoryInput {
  readonly events: readonly AttemptEvent[];
  readonly producer: readonly ProducerEntry[];
  readonly final: readonly FinalTask[];
  readonly fleet: readonly FleetEntry[];
  readonly config: WorkloadConfig;
}

export function checkHistory(input: HistoryInput): Violation[] {
  const h = buildHistory(input.events, input.producer, input.final, input.fleet);
  return [...checkTasks(h), ...checkFleet(h, input.fleet, input.config)];
}
