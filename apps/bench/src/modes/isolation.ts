// `taskq-bench isolation`: what running a kind isolated (threads or processes of its own) costs
// per task, on the overhead profile, against the shared threads.
import { availableParallelism } from "node:os";
import { CliError, envDefault, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import {
  formatIsolationCost,
  ISOLATION_LEVELS,
  type IsolationLevelRun,
  runIsolationCost,
  writeIsolationCost,
} from "../isolation-cost.js";
import { type Mode, progress } from "./shared.js";

/** `--levels shared,thread,process`: which to run, in that order (alternated each repeat). */
function levelList(value: unknown): IsolationLevelRun[] {
  const levels = String(value)
    .split(",")
    .map((v) => v.trim());
  const bad = levels.find((l) => !(ISOLATION_LEVELS as readonly string[]).includes(l));
  if (levels.length === 0 || bad !== undefined)
    throw new CliError(
      `--levels must be a comma-separated list of ${ISOLATION_LEVELS.join(", ")}, got ${JSON.stringify(value)}`,
      2,
    );
  return levels as IsolationLevelRun[];
}

const builder = (y: Argv) =>
  y
    .option("tasks", {
      type: "number",
      default: 50_000,
      coerce: integerAtLeast("tasks", 1),
      describe: "no-op tasks per run",
    })
    .option("clients", { type: "number", default: 100, coerce: integerAtLeast("clients", 1) })
    .option("threads", {
      type: "number",
      default: availableParallelism(),
      coerce: integerAtLeast("threads", 1),
      describe: "threads of the shared pool; an isolated level gets as many threads or processes",
    })
    .option("concurrency", {
      type: "number",
      default: 16,
      coerce: integerAtLeast("concurrency", 1),
      describe: "attempts each thread (or process) runs at once",
    })
    .option("levels", {
      type: "string",
      default: ISOLATION_LEVELS.join(","),
      coerce: levelList,
      describe: "the levels to run, alternated each repeat (shared: the kind on the shared threads)",
    })
    .option("repeat", { type: "number", default: 5, coerce: integerAtLeast("repeat", 1) })
    .option("seed", { type: "number", default: 1 })
    .option("out", { type: "string", default: "benchmark_results" })
    .option("quiet", { type: "boolean", default: false });

export const isolationMode: Mode<typeof builder> = {
  command: "isolation",
  describe:
    "The overhead profile with its kind on the shared threads, in threads of its own and in child processes: the cost per task of each isolation level",
  builder,
  handler: async (argv) => {
    const result = await runIsolationCost(
      {
        tasks: argv.tasks,
        clients: argv.clients,
        threads: argv.threads,
        concurrency: argv.concurrency,
        repeat: argv.repeat,
        seed: argv.seed,
        queueSize: Number(envDefault("queueSize")),
        levels: argv.levels,
      },
      progress(argv.quiet),
    );
    console.log(formatIsolationCost(result));
    console.log(`\nwrote ${await writeIsolationCost(result, argv.out)}`);
  },
};
