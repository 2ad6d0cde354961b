import type { Argv } from "yargs";
import { envDefault } from "../config.js";
import { CliError } from "../errors.js";
import { openExistingStore } from "../runtime.js";

export const statusCommand = {
  command: "status <id>",
  describe: "Show a task's record",
  builder: (y: Argv) =>
    y
      .positional("id", { type: "string", demandOption: true, describe: "task id" })
      .option("db", {
        type: "string",
        default: envDefault("db") as string,
        describe: "SQLite task store (IDEMPOTENCY_DB_PATH)",
      })
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .example("taskq status t-0001", "status, attempts, output and last error"),
  handler: (argv: { id: string; db: string; json: boolean }) => {
    const store = openExistingStore(argv.db);
    try {
      const records = store.getById(String(argv.id));
      if (records.length === 0)
        throw new CliError(`no task with id ${JSON.stringify(argv.id)} in ${argv.db}`, 1);
      if (argv.json) {
        console.log(JSON.stringify(records.length === 1 ? records[0] : records, null, 2));
        return;
      }
      for (const r of records) {
        console.log(
          [
            `id:              ${r.id}`,
            `idempotency_key: ${r.idempotencyKey}`,
            `type:            ${r.type}`,
            `status:          ${r.status}`,
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
    } finally {
      store.close();
    }
  },
};
