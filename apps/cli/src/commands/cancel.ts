import { clientOf, redactUrl, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

export const cancelCommand = {
  command: "cancel <id>",
  describe:
    "Cancel a task: a queued one never runs; a running one has its handler's ctx.signal aborted on the worker that runs it",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("id", { type: "string", demandOption: true, describe: "task id (as submit printed it)" })
      .example("taskq cancel task-1a2b", "cancel one task"),
  handler: (argv: { id: string; store: string }) =>
    withExistingStore(argv.store, async (store) => {
      const task = await clientOf(store, { owned: false }).cancel(String(argv.id));
      console.log(
        task.status === "cancelled"
          ? `cancelled ${task.id} (${task.kind}) in ${redactUrl(store.location)}`
          : `cancel requested: ${task.id} (${task.kind}) is running; it ends cancelled when its handler stops, unless it finishes first`,
      );
    }),
};
