// `taskq-bench scale`: the optimized system with 1, 2, 4... worker processes on one store.
import { availableParallelism } from "node:os";
import { envDefault, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import { PROFILES } from "../profiles.js";
import { formatScale, runScale, writeScale } from "../scale.js";
import { integerList, type Mode, progress } from "./shared.js";

const builder = (y: Argv) =>
  y
    .option("profile", { choices: ["io", "cpu", "overhead"] as const, default: "overhead" as const })
    .option("tasks", {
      type: "number",
      coerce: integerAtLeast("tasks", 1),
      describe: "tasks per run",
    })
    .option("clients", { type: "number", default: 100, coerce: integerAtLeast("clients", 1) })
    .option("workers", {
      type: "string",
      default: "1,2,4",
      coerce: integerList("workers"),
      describe: "worker process counts, a list",
    })
    .option("threads", {
      type: "number",
      default: availableParallelism(),
      coerce: integerAtLeast("threads", 1),
      describe: "threads per worker",
    })
    .option("repeat", { type: "number", default: 3, coerce: integerAtLeast("repeat", 1) })
    .option("store", { choices: ["sqlite", "postgres"] as const, default: "postgres" as const })
    .option("pg-url", { type: "string", describe: "PostgreSQL server (default: a throwaway one)" })
    .option("seed", { type: "number", default: 1 })
    .option("out", { type: "string", default: "benchmark_results" })
    .option("quiet", { type: "boolean", default: false })
    .example("taskq-bench scale --profile overhead --workers 1,2,4", "the scaling table");

export const scaleMode: Mode<typeof builder> = {
  command: "scale",
  describe: "The optimized system with 1, 2, 4... worker processes on one store (PostgreSQL by default)",
  builder,
  handler: async (argv) => {
    const options = {
      profile: argv.profile,
      tasks: argv.tasks ?? PROFILES[argv.profile].defaultTasks.optimized,
      clients: argv.clients,
      workers: argv.workers,
      threads: argv.threads,
      queueSize: Number(envDefault("queueSize")),
      onFull: "block" as const,
      errorRate: 0,
      repeat: argv.repeat,
      seed: argv.seed,
      store: argv.store,
      ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
    };
    const result = await runScale(options, progress(argv.quiet));
    console.log(formatScale(result, options));
    console.log(`\nwrote ${await writeScale(result, argv.out)}`);
  },
};
