import { CliError, readStore, redactUrl, type StoreReading, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { dbOption } from "../options.js";

export const statusCommand = {
  command: "status <id>",
  describe: "Show a task's record",
  builder: (y: Argv) =>
    dbOption(y)
      .positional("id", { type: "string", demandOption: true, describe: "task id" })
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .example("taskq status t-0001", "status, attempts, output and last error"),
  handler: (argv: { id: string; db: string; json: boolean }) =>
    withExistingStore(argv.db, async (store) => {
      const records = await store.getById(String(argv.id));
      if (records.length === 0)
        throw new CliError(`no task with id ${JSON.stringify(argv.id)} in ${redactUrl(store.location)}`, 1);
      if (argv.json) {
        console.log(JSON.stringify(records.length === 1 ? records[0] : records, null, 2));
        return;
      }
      // a running task is leased to a manager: executing there now, or waiting in it for a slot
      const reading = records.some((r) => r.status === "running") ? await readStore(store, 1) : undefined;
      for (const r of records) {
        console.log(
          [
            `id:              ${r.id}`,
            `idempotency_key: ${r.idempotencyKey}`,
            `kind:            ${r.kind}`,
            `status:          ${r.status}${r.status === "running" ? ` (${leaseOf(r.leaseOwner, reading)})` : ""}${
              r.status === "queued" && r.nextRunAt > Date.now()
                ? ` (scheduled for ${new Date(r.nextRunAt).toISOString()})`
                : ""
            }`,
            `priority:        ${r.priority}`,
            `attempts:        ${r.attempts} of ${r.maxAttempts}`,
            `output_key:      ${r.outputKey ?? "-"}`,
            `etag:            ${r.etag ?? "-"}`,
            ...(r.result
              ? [`result:          ${r.result.length > 80 ? `${r.result.slice(0, 80)}…` : r.result}`]
              : []),
            `last error:      ${r.errorClass ? `${r.errorClass}: ${r.errorMessage}` : "-"}`,
            `created:         ${new Date(r.createdAt).toISOString()}`,
            `updated:         ${new Date(r.updatedAt).toISOString()}`,
            `version:         ${r.version}`,
          ].join("\n"),
        );
      }
    }),
};

/** Where a running task is: its manager, and how many of the tasks it holds that manager executes. */
function leaseOf(owner: string | null, reading: StoreReading | undefined): string {
  if (owner === null) return "leased to no one";
  const manager = reading?.managers.find((m) => m.owner === owner);
  if (!manager || manager.executing === null) return `leased to ${owner}, which has not reported lately`;
  return `leased to ${owner}, which executes ${manager.executing} of the ${manager.leased} tasks it holds`;
}
