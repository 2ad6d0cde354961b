// `taskq-bench history`: a producer and worker processes under seeded faults, then a check of
// every promise against the recorded history (exit 1 on a violation).
import { CliError, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import { formatViolation } from "../history/model.js";
import { runHistory } from "../history/run.js";
import { FAULTS, type FaultKind, faultsFor } from "../history/workload.js";
import { type Mode, type Outcome, progress } from "./shared.js";

/** A yargs coercer for `--faults`: fault kinds, comma-separated; its error names the flag. */
function faultList(value: unknown): FaultKind[] {
  const list = String(value)
    .split(",")
    .map((v) => v.trim());
  const bad = list.find((f) => !(FAULTS as readonly string[]).includes(f));
  if (bad !== undefined)
    throw new CliError(`--faults takes ${FAULTS.join(", ")}, comma-separated; got ${JSON.stringify(bad)}`, 2);
  return list as FaultKind[];
}

const builder = (y: Argv) =>
  y
    .option("store", { choices: ["sqlite", "postgres"] as const, default: "sqlite" as const })
    .option("url", {
      type: "string",
      describe:
        "PostgreSQL server (a role that may CREATE DATABASE); default: a throwaway one (needed for pg-restart)",
    })
    .option("seconds", { type: "number", default: 30, coerce: integerAtLeast("seconds", 5) })
    .option("seed", { type: "number", default: 1, coerce: integerAtLeast("seed", 0) })
    .option("workers", {
      type: "number",
      coerce: integerAtLeast("workers", 1),
      describe: "worker processes (default: 3 on PostgreSQL; SQLite: 1, one machine)",
    })
    .option("faults", {
      type: "string",
      coerce: faultList,
      describe: `of ${FAULTS.join(", ")} (default: every one that applies to the store)`,
    })
    .option("out", { type: "string", default: "benchmark_results/history" })
    .option("quiet", { type: "boolean", default: false })
    .example("taskq-bench history --store postgres --seconds 60 --seed 7", "three workers, every fault");

export const historyMode = (outcome: Outcome): Mode<typeof builder> => ({
  command: "history",
  describe:
    "A producer and worker processes under seeded faults, then a check of every promise against the history",
  builder,
  handler: async (argv) => {
    if (argv.store === "sqlite" && argv.workers !== undefined && argv.workers !== 1)
      throw new CliError("--workers: SQLite is one machine, so one worker process (and the producer)", 2);
    if (argv.url !== undefined && argv.store !== "postgres")
      throw new CliError("--url needs --store postgres", 2);
    const applicable = faultsFor(argv.store, argv.url === undefined);
    const bad = argv.faults?.find((f) => !applicable.includes(f));
    if (bad !== undefined)
      throw new CliError(`--faults: ${bad} does not apply here (it applies: ${applicable.join(", ")})`, 2);
    const report = await runHistory(
      {
        store: argv.store,
        ...(argv.url === undefined ? {} : { url: argv.url }),
        seconds: argv.seconds,
        seed: argv.seed,
        workers: argv.workers ?? (argv.store === "sqlite" ? 1 : 3),
        ...(argv.faults === undefined ? {} : { faults: argv.faults }),
        out: argv.out,
      },
      progress(argv.quiet),
    );
    for (const violation of report.violations) console.log(formatViolation(violation));
    const injected = Object.entries(report.injected)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    console.log(
      `${report.tasks} tasks, ${report.attempts} attempts, faults: ${injected || "none"}; drained in ${report.drainedInMs} ms; ${report.violations.length} violation(s); wrote ${argv.out}/report.json`,
    );
    if (report.violations.length > 0) outcome.exitCode = 1;
  },
});
