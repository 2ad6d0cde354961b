import { envDefault, integerAtLeast, integerRule, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

export const pruneCommand = {
  command: "prune",
  describe:
    "Delete the records of tasks that succeeded longer ago than the retention window (their keys may run again)",
  builder: (y: Argv) =>
    storeOption(y)
      .option("older-than-ms", {
        requiresArg: true,
        default: envDefault("retentionMs", integerRule(0)) as number,
        coerce: integerAtLeast("older-than-ms", 0),
        describe: "how long ago a task must have succeeded (RETENTION_MS)",
      })
      .example("taskq prune", "what run and serve prune in the background, now")
      .example("taskq prune --older-than-ms 3600000", "everything that succeeded over an hour ago"),
  handler: (argv: { store: string; "older-than-ms": number }) =>
    withExistingStore(argv.store, async (store) => {
      let total = 0;
      for (let n = -1; n !== 0; total += n)
        n = await store.prune({ olderThanMs: argv["older-than-ms"], limit: 500 });
      console.log(
        `pruned ${total} succeeded task(s) that finished more than ${argv["older-than-ms"]} ms ago`,
      );
    }),
};
