// `taskq-bench front-door`: createQueue against the hand-wired runtime (the front door's own cost).
import { availableParallelism } from "node:os";
import { envDefault, integerAtLeast } from "taskq/app";
import type { Argv } from "yargs";
import { formatFrontDoor, runFrontDoor, writeFrontDoor } from "../front-door.js";
import { PROFILES } from "../profiles.js";
import { type Mode, type Outcome, progress } from "./shared.js";

const builder = (y: Argv) =>
  y
    .option("profile", {
      choices: ["overhead", "io", "cpu"] as const,
      default: "overhead" as const,
      describe: "no-op tasks, or the io or cpu profile's (the built-in types run as a handler module)",
    })
    .option("tasks", {
      type: "number",
      coerce: integerAtLeast("tasks", 1),
      describe:
        "tasks per run (default: 100,000 no-op tasks, runs of several seconds past start-up; the profile's otherwise)",
    })
    .option("clients", { type: "number", default: 100, coerce: integerAtLeast("clients", 1) })
    .option("threads", {
      type: "number",
      default: availableParallelism(),
      coerce: integerAtLeast("threads", 1),
    })
    .option("repeat", { type: "number", default: 5, coerce: integerAtLeast("repeat", 1) })
    .option("seed", { type: "number", default: 1 })
    .option("out", { type: "string", default: "benchmark_results" })
    .option("keys", {
      choices: ["pool", "hash"] as const,
      default: "pool" as const,
      describe: "createQueue's keys: the pool's own (the same work) or its default, a hash of the payload",
    })
    .option("against", {
      choices: ["handler", "builtin"] as const,
      default: "handler" as const,
      describe:
        "the hand-wired side: the same no-op handler module (the front door alone) or the built-in no-op task type",
    })
    .option("check", {
      type: "boolean",
      default: false,
      describe: "exit 1 when createQueue is more than 5% slower",
    })
    .option("quiet", { type: "boolean", default: false });

export const frontDoorMode = (outcome: Outcome): Mode<typeof builder> => ({
  command: "front-door",
  describe:
    "The overhead profile through createQueue against the hand-wired runtime (the front door's own cost)",
  builder,
  handler: async (argv) => {
    const result = await runFrontDoor(
      {
        profile: argv.profile,
        tasks:
          argv.tasks ??
          (argv.profile === "overhead" ? 100_000 : PROFILES[argv.profile].defaultTasks.optimized),
        clients: argv.clients,
        threads: argv.threads,
        repeat: argv.repeat,
        seed: argv.seed,
        queueSize: Number(envDefault("queueSize")),
        keys: argv.keys,
        against: argv.against,
      },
      progress(argv.quiet),
    );
    console.log(formatFrontDoor(result));
    console.log(`\nwrote ${await writeFrontDoor(result, argv.out)}`);
    if (argv.check && !result.pass) outcome.exitCode = 1;
  },
});
