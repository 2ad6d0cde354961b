// `taskq-bench drain`: a backlog on PostgreSQL stored first (not timed), then worker processes
// timed until none is left, taskq beside graphile-worker.
import { CliError, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import { DRAIN_SYSTEMS, type DrainSystem, formatDrain, runDrain, writeDrain } from "../drain.js";
import { type Mode, progress } from "./shared.js";

/** A yargs coercer for `--systems`: drain systems, comma-separated; its error names the flag. */
function systemList(value: unknown): DrainSystem[] {
  const list = String(value)
    .split(",")
    .map((v) => v.trim());
  const bad = list.find((s) => !(s in DRAIN_SYSTEMS));
  if (bad !== undefined || list.length === 0)
    throw new CliError(
      `--systems takes ${Object.keys(DRAIN_SYSTEMS).join(", ")}, comma-separated; got ${JSON.stringify(bad ?? value)}`,
      2,
    );
  return list as DrainSystem[];
}

/** A yargs coercer for a JSON object; its error names the flag. */
function jsonObject(flag: string) {
  return (value: unknown): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(value));
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new CliError(`--${flag} must be a JSON object, got ${JSON.stringify(value)}`, 2);
    return parsed as Record<string, unknown>;
  };
}

const builder = (y: Argv) =>
  y
    .option("tasks", {
      type: "number",
      default: 100_000,
      coerce: integerAtLeast("tasks", 1),
      describe: "tasks in the backlog",
    })
    .option("rounds", { type: "number", default: 3, coerce: integerAtLeast("rounds", 1) })
    .option("systems", {
      type: "string",
      default: "taskq,taskq-x2,graphile-worker,graphile-worker-x2",
      coerce: systemList,
      describe: `alternated round by round, of ${Object.keys(DRAIN_SYSTEMS).join(", ")}`,
    })
    .option("pg-url", { type: "string", describe: "PostgreSQL server (default: a throwaway one)" })
    .option("worker-options", {
      type: "string",
      coerce: jsonObject("worker-options"),
      describe: "createWorker options of the taskq workers, as JSON: '{\"threads\":0}'",
    })
    .option("a-worker", {
      type: "string",
      describe: "another build's apps/bench/dist/drain-worker.js, run as taskq-a (an A/B in one series)",
    })
    .option("out", { type: "string", default: "benchmark_results" })
    .option("quiet", { type: "boolean", default: false })
    .example("taskq-bench drain --systems taskq,graphile-worker", "taskq beside graphile-worker");

export const drainMode: Mode<typeof builder> = {
  command: "drain",
  describe:
    "Drain a backlog on PostgreSQL: tasks stored first (not timed), then worker processes timed until none is left",
  builder,
  handler: async (argv) => {
    const result = await runDrain(
      {
        tasks: argv.tasks,
        rounds: argv.rounds,
        systems: argv.systems,
        ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
        ...(argv["worker-options"] === undefined ? {} : { workerOptions: argv["worker-options"] }),
        ...(argv["a-worker"] === undefined ? {} : { aWorker: argv["a-worker"] }),
      },
      progress(argv.quiet),
    );
    console.log(formatDrain(result, argv.rounds));
    console.log(`\nwrote ${await writeDrain(result, argv.out)}`);
  },
};
