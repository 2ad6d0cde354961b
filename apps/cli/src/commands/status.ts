import {
  CliError,
  duration,
  readWorkers,
  redactUrl,
  type TaskView,
  taskView,
  type WorkerReading,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

export const statusCommand = {
  command: "status <id>",
  describe: "Show a task's record",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("id", { type: "string", demandOption: true, describe: "task id" })
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .example("taskq status t-0001", "status, attempts, result, last error, when it ran and for how long"),
  handler: (argv: { id: string; store: string; json: boolean }) =>
    withExistingStore(argv.store, async (store) => {
      // the task as every reader shows it; "scheduled" and run times by the store's clock
      const [records, now] = await Promise.all([store.getById(String(argv.id)), store.now()]);
      if (records.length === 0)
        throw new CliError(`no task with id ${JSON.stringify(argv.id)} in ${redactUrl(store.location)}`, 1);
      const views = records.map((r) => taskView(r, now));
      if (argv.json) {
        // the result as JSON, as the payload is (null when there is none)
        const json = views.map((v) => ({ ...v, result: v.result === undefined ? null : v.result }));
        console.log(JSON.stringify(json.length === 1 ? json[0] : json, null, 2));
        return;
      }
      // a running task is leased to a worker: executing there now, or waiting in it for a slot
      const workers = records.some((r) => r.status === "running") ? await readWorkers(store) : [];
      for (const v of views) console.log(lines(v, workers).join("\n"));
    }),
};

/** A task's lines: its record, and when it ran or will run, and for how long. */
function lines(v: TaskView, workers: readonly WorkerReading[]): string[] {
  const at = (ms: number) => new Date(ms).toISOString();
  const result =
    v.result === undefined ? undefined : typeof v.result === "string" ? v.result : JSON.stringify(v.result);
  const dueInMs = v.dueInMs ?? 0;
  return [
    `id:              ${v.id}`,
    `idempotency_key: ${v.idempotencyKey}`,
    `kind:            ${v.kind}`,
    `status:          ${v.status}${v.status === "running" ? ` (${leaseOf(v.leaseOwner, workers)})` : ""}${
      v.scheduled ? ` (scheduled for ${at(v.nextRunAt)})` : ""
    }`,
    `priority:        ${v.priority}`,
    ...(v.tags.length === 0 ? [] : [`tags:            ${v.tags.join(", ")}`]),
    `attempts:        ${v.attempts} of ${v.maxAttempts}`,
    `output_key:      ${v.outputKey ?? "-"}`,
    `etag:            ${v.etag ?? "-"}`,
    ...(result === undefined
      ? []
      : [`result:          ${result.length > 80 ? `${result.slice(0, 80)}…` : result}`]),
    `last error:      ${v.errorClass ? `${v.errorClass}: ${v.errorMessage}` : "-"}`,
    `created:         ${at(v.createdAt)}`,
    ...(v.status === "queued"
      ? [
          `runs at:         ${at(v.nextRunAt)} (${dueInMs > 0 ? `in ${duration(dueInMs)}` : `due ${duration(-dueInMs)} ago`})`,
        ]
      : []),
    // a queued task's startedAt is an earlier attempt's
    ...(v.status !== "queued" && v.startedAt !== null ? [`started:         ${at(v.startedAt)}`] : []),
    ...(v.finishedAt !== null ? [`finished:        ${at(v.finishedAt)}`] : []),
    ...(v.runMs === null
      ? []
      : [`run time:        ${duration(v.runMs)}${v.status === "running" ? " so far" : ""}`]),
    `updated:         ${at(v.updatedAt)}`,
    `version:         ${v.version}`,
  ];
}

/** Where a running task is: its worker, and how many of the tasks it holds that worker executes. */
function leaseOf(owner: string | null, workers: readonly WorkerReading[]): string {
  if (owner === null) return "leased to no one";
  const worker = workers.find((w) => w.owner === owner);
  if (!worker || worker.executing === null) return `leased to ${owner}, which has not reported lately`;
  return `leased to ${owner}, which executes ${worker.executing} of the ${worker.leased} tasks it holds`;
}
