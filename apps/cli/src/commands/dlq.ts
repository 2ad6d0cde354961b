import type { TaskStoreDriver } from "@taskq/idempotency";
import { CliError, everyDeadLetter, integerAtLeast, MAX_REDRIVE, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

/** The parser of `taskq dlq`, kept to print its usage when no subcommand is given. */
let dlqParser: Argv | undefined;

export const dlqCommand = {
  // no <command> positional: yargs would refuse a bare `taskq dlq` with its argument count
  command: "dlq",
  describe: "Dead letters: list them, re-drive them, or purge old ones",
  builder: (y: Argv) => {
    dlqParser = y;
    return y
      .command({
        command: "list",
        describe: "List the dead letters (failed tasks and invalid input), each with its kind",
        builder: (yy: Argv) =>
          storeOption(yy)
            .option("json", { type: "boolean", default: false, describe: "print JSON" })
            .example("taskq dlq list", ""),
        handler: (argv: { store: string; json: boolean }) =>
          withExistingStore(argv.store, async (store) => {
            const letters = await everyDeadLetter(store);
            if (argv.json) {
              console.log(JSON.stringify(letters, null, 2));
              return;
            }
            if (letters.length === 0) console.log("no dead letters");
            // its task's kind: "-" for input that never became a task (a validation dead letter)
            for (const d of letters) {
              console.log(
                `${d.taskId}\t${d.kind ?? "-"}\t${d.errorClass}\t${d.attempts} attempt(s)\t${new Date(d.failedAt).toISOString()}\t${d.errorMessage}`,
              );
            }
          }),
      })
      .command({
        command: "retry [id]",
        describe: "Re-drive a dead-lettered task (or --all) back to queued, attempts reset",
        builder: (yy: Argv) =>
          storeOption(yy)
            .positional("id", { type: "string", describe: "task id" })
            .option("all", { type: "boolean", default: false, describe: "re-drive every dead letter" })
            .check((argv) => {
              if ((argv.id === undefined) === !argv.all) throw new CliError("give a task id or --all", 2);
              return true;
            })
            .example("taskq dlq retry t-0042", "one task")
            .example("taskq dlq retry --all", "all of them; `taskq serve` then runs them"),
        handler: (argv: { id?: string; all: boolean; store: string }) =>
          withExistingStore(argv.store, async (store) => {
            const count = argv.all
              ? await redriveEveryDeadLetter(store)
              : await redriveTask(store, String(argv.id));
            if (count === 0 && !argv.all)
              throw new CliError(`no re-drivable dead letter for task ${JSON.stringify(argv.id)}`, 1);
            console.log(`re-drove ${count} task(s) back to queued`);
          }),
      })
      .command({
        command: "purge",
        describe:
          "Delete the dead letters older than --older-than-ms, with the failed tasks they leave (their keys may run again)",
        builder: (yy: Argv) =>
          storeOption(yy)
            .option("older-than-ms", {
              requiresArg: true,
              demandOption: true,
              coerce: integerAtLeast("older-than-ms", 0),
              describe: "how long ago a dead letter must have been written",
            })
            .example("taskq dlq purge --older-than-ms 604800000", "dead letters over a week old"),
        handler: (argv: { store: string; "older-than-ms": number }) =>
          withExistingStore(argv.store, async (store) => {
            const count = await store.purgeDeadLetters(argv["older-than-ms"]);
            console.log(`purged ${count} dead letter(s) older than ${argv["older-than-ms"]} ms`);
          }),
      });
  },
  handler: () => {
    dlqParser?.showHelp((usage) => process.stderr.write(`${usage}\n\n`));
    throw new CliError("give a dlq command: list, retry or purge", 2);
  },
};

/** Re-drives the failed tasks among `seqs`: redriveTasks, MAX_REDRIVE seqs a call. Returns how many. */
async function redriveSeqs(store: TaskStoreDriver, seqs: readonly number[]): Promise<number> {
  let count = 0;
  for (let i = 0; i < seqs.length; i += MAX_REDRIVE)
    count += await store.redriveTasks(seqs.slice(i, i + MAX_REDRIVE));
  return count;
}

/** `dlq retry ID`: the failed tasks with this id (an id may name tasks of several keys). */
async function redriveTask(store: TaskStoreDriver, id: string): Promise<number> {
  const failed = (await store.getById(id)).filter((r) => r.status === "failed").map((r) => r.seq);
  return redriveSeqs(store, failed);
}

/**
 * `dlq retry --all`: the tasks of every open dead letter, oldest first, read once (everyDeadLetter)
 * and then re-driven. A dead letter of an invalid task (no task: taskSeq null) can never be
 * re-driven and stays open: skipped.
 */
async function redriveEveryDeadLetter(store: TaskStoreDriver): Promise<number> {
  const seqs = new Set<number>();
  for (const d of await everyDeadLetter(store)) if (d.taskSeq !== null) seqs.add(d.taskSeq);
  return redriveSeqs(store, [...seqs]);
}
