// `taskq-bench writes`: what each task writes (issue 32): WAL bytes, rows and index entries per
// task, for the enqueue, the take and the succeed of no-op tasks on a fresh store.
import { CliError, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import { formatWrites, runWrites, writeWrites } from "../writes.js";
import { type Mode, progress } from "./shared.js";

const builder = (y: Argv) =>
  y
    .option("store", { choices: ["sqlite", "postgres"] as const, default: "sqlite" as const })
    .option("tasks", {
      type: "number",
      default: 20_000,
      coerce: integerAtLeast("tasks", 1),
      describe: "no-op tasks enqueued, taken and succeeded",
    })
    .option("batch", {
      type: "number",
      default: 500,
      coerce: integerAtLeast("batch", 1),
      describe: "tasks per enqueueMany, per takeNext, and succeeds per turn",
    })
    .option("pg-url", {
      type: "string",
      describe:
        "PostgreSQL server, a role that may CREATE DATABASE (index entries need a superuser); default: a throwaway one",
    })
    .option("out", { type: "string", default: "benchmark_results" })
    .option("quiet", { type: "boolean", default: false })
    .example("taskq-bench writes --store postgres --tasks 20000", "before and after a change of layout");

export const writesMode: Mode<typeof builder> = {
  command: "writes",
  describe:
    "What each task writes: WAL bytes, rows, index entries (by index) and dead tuples per task, for its enqueue, take and succeed",
  builder,
  handler: async (argv) => {
    if (argv["pg-url"] !== undefined && argv.store !== "postgres")
      throw new CliError("--pg-url needs --store postgres", 2);
    const result = await runWrites(
      {
        store: argv.store,
        tasks: argv.tasks,
        batch: argv.batch,
        ...(argv["pg-url"] === undefined ? {} : { pgUrl: argv["pg-url"] }),
      },
      progress(argv.quiet),
    );
    console.log(formatWrites(result));
    console.log(`\nwrote ${await writeWrites(result, argv.out)}`);
  },
};
