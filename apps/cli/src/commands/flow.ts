import { readFile } from "node:fs/promises";
import { connect, type FlowSpec } from "taskq";
import { CliError } from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

interface FlowSubmitArgs {
  file: string;
  store: string;
  json: boolean;
}

/**
 * The flow a file holds, as `enqueueFlow` takes it: `{ "tasks": { name: { kind, payload, after,
 * key, id, maxAttempts, priority, tags, correlationId, group } } }`; one line naming the file otherwise.
 */
async function flowOf(file: string): Promise<FlowSpec> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
  try {
    return JSON.parse(text) as FlowSpec;
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, 2);
  }
}

const submitFlow = {
  command: "submit <file>",
  describe:
    "Enqueue a workflow in one transaction: a JSON file { tasks: { name: { kind, payload, after: [names] } } }; a task may also give key, id, maxAttempts, priority, tags, correlationId and group (as taskq submit's flags); an after entry is a name, { task, ifFailed } or { id, ifFailed } (an existing task)",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("file", { type: "string", demandOption: true, describe: "the flow, as JSON" })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "print each task's name, id and status as JSON",
      })
      .example(
        "taskq flow submit nightly.json",
        'with nightly.json: {"tasks": {"a": {"kind": "fetch"}, "b": {"kind": "load", "after": ["a"]}}}',
      ),
  handler: async (argv: FlowSubmitArgs) => {
    const spec = await flowOf(String(argv.file));
    const client = await connect({ store: argv.store });
    try {
      const enqueued = await client.enqueueFlow(spec);
      if (argv.json) console.log(JSON.stringify(enqueued, null, 2));
      else {
        for (const [name, e] of Object.entries(enqueued))
          console.log(`${name} ${e.id}${e.duplicate ? ` (duplicate, ${e.status})` : ""}`);
      }
    } finally {
      await client.close();
    }
  },
};

export const flowCommand = {
  command: "flow <command>",
  describe: "Workflows: tasks that run after other tasks (taskq submit --after for one task)",
  builder: (y: Argv) => y.command(submitFlow).demandCommand(1, "give a flow command: submit"),
  handler: () => undefined,
};
