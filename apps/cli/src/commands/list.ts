import {
  CliError,
  correlationIdFlag,
  groupFlag,
  integerAtLeast,
  TASK_STATUSES,
  taskView,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

interface ListArgs {
  store: string;
  status?: (typeof TASK_STATUSES)[number];
  kind?: string;
  tag?: string;
  "correlation-id"?: string;
  group?: string;
  before?: number;
  limit: number;
  json: boolean;
}

/** The most a page may hold (the store's listTasks bound). */
const MAX_LIMIT = 500;

export const listCommand = {
  command: "list",
  describe: "List tasks, newest first: by status, kind, tag, correlation id or group, a page at a time",
  builder: (y: Argv) =>
    storeOption(y)
      .option("status", { choices: TASK_STATUSES, describe: "only tasks with this status" })
      .option("kind", { type: "string", requiresArg: true, describe: "only tasks of this kind" })
      .option("tag", {
        type: "string",
        requiresArg: true,
        describe: "only tasks with this tag (submit --tag)",
      })
      .option("correlation-id", {
        type: "string",
        requiresArg: true,
        coerce: correlationIdFlag("correlation-id"),
        describe: "only tasks enqueued with this correlation id (submit --correlation-id)",
      })
      .option("group", {
        type: "string",
        requiresArg: true,
        coerce: groupFlag("group"),
        describe: "only tasks of this group (submit --group)",
      })
      .option("before", {
        requiresArg: true,
        coerce: integerAtLeast("before", 1),
        describe: "only tasks with a seq below this (the next page: the last seq printed)",
      })
      .option("limit", {
        requiresArg: true,
        default: 50,
        coerce: integerAtLeast("limit", 1),
        describe: `tasks on the page (at most ${MAX_LIMIT})`,
      })
      .option("json", {
        type: "boolean",
        default: false,
        describe: "print JSON (each task as status --json prints it)",
      })
      .check((argv) => {
        if ((argv.limit as number) > MAX_LIMIT)
          throw new CliError(`--limit must be at most ${MAX_LIMIT}, got ${argv.limit}`, 2);
        return true;
      })
      .example("taskq list --tag tenant:42", "the tasks tagged tenant:42, newest first")
      .example("taskq list --correlation-id req-7f3a", "the tasks a request enqueued")
      .example("taskq list --group tenant-42 --status queued", "a tenant's waiting tasks")
      .example("taskq list --status failed --kind email --limit 20", "the last 20 failed emails"),
  handler: (argv: ListArgs) =>
    withExistingStore(argv.store, async (store) => {
      const [tasks, now] = await Promise.all([
        store.listTasks({
          limit: argv.limit,
          ...(argv.status === undefined ? {} : { status: argv.status }),
          ...(argv.kind === undefined ? {} : { kind: String(argv.kind) }),
          ...(argv.tag === undefined ? {} : { tag: String(argv.tag) }),
          ...(argv["correlation-id"] === undefined ? {} : { correlationId: argv["correlation-id"] }),
          ...(argv.group === undefined ? {} : { group: argv.group }),
          ...(argv.before === undefined ? {} : { beforeSeq: argv.before }),
        }),
        store.now(),
      ]);
      const views = tasks.map((t) => taskView(t, now));
      if (argv.json) {
        console.log(
          JSON.stringify(
            views.map((v) => ({ ...v, result: v.result ?? null })),
            null,
            2,
          ),
        );
        return;
      }
      if (views.length === 0) {
        console.log("no tasks");
        return;
      }
      for (const v of views)
        console.log(
          [
            v.seq,
            v.id,
            v.kind,
            v.scheduled ? "scheduled" : v.status,
            `${v.attempts}/${v.maxAttempts}`,
            new Date(v.createdAt).toISOString(),
            v.tags.join(","),
          ].join("\t"),
        );
      // a full page may have more below it
      if (views.length === argv.limit)
        process.stderr.write(`taskq: more with --before ${(views.at(-1) as { seq: number }).seq}\n`);
    }),
};
