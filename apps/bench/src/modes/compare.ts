// `taskq-bench` (the default mode): the baseline and the optimized system on the same workload,
// `--mode compare|baseline|optimized`, a table, the JSON, CSV and HTML reports.
import { availableParallelism } from "node:os";
import { envDefault, integerAtLeast, numberBetween } from "taskq/app";
import type { Argv } from "yargs";
import { type BenchOptions, runBenchmark } from "../orchestrate.js";
import { PROFILES } from "../profiles.js";
import { writeReports } from "../report-files.js";
import { formatTable } from "../report-table.js";
import { integerList, type Mode, type Outcome, progress } from "./shared.js";

const builder = (y: Argv) =>
  y
    .option("mode", {
      choices: ["compare", "baseline", "optimized"] as const,
      default: "compare" as const,
    })
    .option("profile", {
      choices: ["io", "cpu", "overhead"] as const,
      default: "io" as const,
      describe: "workload profile",
    })
    .option("tasks", {
      type: "number",
      coerce: integerAtLeast("tasks", 1),
      describe: "tasks per optimized run (default: the profile's, runs of 5 s or more)",
    })
    .option("baseline-tasks", {
      type: "number",
      coerce: integerAtLeast("baseline-tasks", 1),
      describe: "tasks per baseline run (default: the profile's, or --tasks when fewer)",
    })
    .option("warmup", {
      type: "number",
      coerce: integerAtLeast("warmup", 0),
      describe:
        "tasks each optimized run puts through its whole path before its clock starts (default: a tenth of --tasks)",
    })
    .option("clients", {
      type: "string",
      default: "50,100",
      coerce: integerList("clients"),
      describe: "concurrent clients, a list: one run per value",
    })
    .option("threads", {
      type: "number",
      default: availableParallelism(),
      coerce: integerAtLeast("threads", 1),
      describe: "worker threads",
    })
    .option("concurrency", {
      type: "number",
      coerce: integerAtLeast("concurrency", 1),
      describe: "attempts one thread runs at once (default: enough slots for the clients)",
    })
    .option("queue-size", {
      type: "number",
      default: envDefault("queueSize"),
      coerce: integerAtLeast("queue-size", 1),
    })
    .option("on-full", { choices: ["block", "reject"] as const, default: "block" as const })
    .option("error-rate", {
      type: "number",
      default: 0,
      coerce: numberBetween("error-rate", 0, 1),
      describe: "injected transient error probability",
    })
    .option("repeat", {
      type: "number",
      default: 3,
      coerce: integerAtLeast("repeat", 1),
      describe: "runs per setting; the median is reported",
    })
    .option("seed", { type: "number", default: 1 })
    .option("out", {
      type: "string",
      default: "benchmark_results",
      describe: "where the JSON, CSV and HTML go",
    })
    .option("store", {
      choices: ["sqlite", "postgres"] as const,
      default: "sqlite" as const,
      describe: "the optimized system's task store (a new file or database per run)",
    })
    .option("pg-url", {
      type: "string",
      describe:
        "PostgreSQL server for --store postgres (a role that may CREATE DATABASE); default: a throwaway one",
    })
    .option("check", { type: "boolean", default: false, describe: "exit 1 when a target is missed" })
    .option("quiet", { type: "boolean", default: false, describe: "no progress lines" })
    .example("taskq-bench --mode compare --profile io --clients 100", "the seed's comparison")
    .example("taskq-bench --profile overhead --mode optimized --check", "the queue's own cost")
    .example("taskq-bench micro", "component micro-benchmarks");

export const compareMode = (outcome: Outcome): Mode<typeof builder> => ({
  command: "$0",
  describe: "Run the baseline and the optimized system on the same workload and compare them",
  builder,
  handler: async (argv) => {
    const optimizedTasks = argv.tasks ?? PROFILES[argv.profile].defaultTasks.optimized;
    const options: BenchOptions = {
      mode: argv.mode,
      profile: argv.profile,
      tasks: optimizedTasks,
      baselineTasks:
        argv["baseline-tasks"] ??
        Math.min(argv.tasks ?? Number.POSITIVE_INFINITY, PROFILES[argv.profile].defaultTasks.baseline),
      warmup: argv.warmup ?? Math.floor(optimizedTasks / 10),
      clients: argv.clients,
      threads: argv.threads,
      ...(argv.concurrency === undefined ? {} : { concurrency: argv.concurrency }),
      queueSize: Number(argv["queue-size"]),
      onFull: argv["on-full"],
      errorRate: argv["error-rate"],
      repeat: argv.repeat,
      seed: argv.seed,
      store: argv.store,
      ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
    };
    const result = await runBenchmark(options, progress(argv.quiet));
    console.log(formatTable(result));
    const files = await writeReports(result, argv.out);
    console.log(`\nwrote ${files.join(", ")}`);
    if (argv.check && result.checks.some((c) => !c.pass)) outcome.exitCode = 1;
  },
});
