import {
  CliError,
  checkKind,
  clientOf,
  isNewStoreFile,
  openStore,
  parseCron,
  redactUrl,
  type ScheduleInfo,
  SETTINGS,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { checkKnownKind, STRICT_OPTION } from "../known-kind.js";
import { storeOption } from "../options.js";

interface ScheduleArgs {
  action: "add" | "list" | "remove" | "pause" | "resume";
  name?: string;
  store: string;
  cron?: string;
  timezone?: string;
  kind?: string;
  payload?: string;
  priority?: number;
  attempts?: number;
  strict: boolean;
  json: boolean;
}

const line = (s: ScheduleInfo) =>
  [
    s.name.padEnd(20),
    `${s.cron}${s.timezone ? ` (${s.timezone})` : ""}`.padEnd(28),
    s.kind.padEnd(14),
    s.paused ? "paused".padEnd(26) : `next ${s.nextRunAt.toISOString()}`,
    `last ${s.lastRunAt ? s.lastRunAt.toISOString() : "-"}`,
  ].join("  ");

export const scheduleCommand = {
  command: "schedule <action> [name]",
  describe: "Recurring tasks: add (or replace), list, remove, pause or resume a cron schedule",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("action", {
        choices: ["add", "list", "remove", "pause", "resume"] as const,
        demandOption: true,
        describe: "what to do",
      })
      .positional("name", { type: "string", describe: "the schedule's name (not for list)" })
      .option("cron", {
        type: "string",
        requiresArg: true,
        describe: "five fields (minute hour day month weekday), or six with seconds first",
      })
      .option("timezone", { type: "string", requiresArg: true, describe: "an IANA time zone (default UTC)" })
      .option("kind", { type: "string", requiresArg: true, describe: "the kind of the tasks it enqueues" })
      .option("payload", {
        type: "string",
        requiresArg: true,
        describe: "their payload as JSON (default {})",
      })
      .option("priority", { type: "number", requiresArg: true, describe: "their priority (default 0)" })
      .option("attempts", { type: "number", requiresArg: true, describe: "their attempts in all" })
      .option("strict", STRICT_OPTION)
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .check((argv) => {
        if (argv.action !== "list" && argv.name === undefined)
          throw new CliError(`schedule ${argv.action} needs a NAME`, 2);
        if (argv.action === "add" && (argv.cron === undefined || argv.kind === undefined))
          throw new CliError("schedule add needs --cron EXPR and --kind KIND", 2);
        return true;
      })
      .example(
        `taskq schedule add nightly --cron "0 3 * * *" --timezone Europe/Berlin --kind report --payload '{"what":"sales"}'`,
        "every day at 03:00 Berlin time",
      )
      .example(`taskq schedule add ticker --cron "*/2 * * * * *" --kind tick`, "every two seconds")
      .example("taskq schedule list", "every schedule, its next and last occurrence")
      .example("taskq schedule remove nightly", "no more occurrences"),
  handler: async (argv: ScheduleArgs) => {
    const name = argv.name as string;
    if (argv.action === "add") {
      let payload: unknown = {};
      if (argv.payload !== undefined) {
        try {
          payload = JSON.parse(argv.payload);
        } catch (error) {
          throw new CliError(`--payload is not valid JSON: ${(error as Error).message}`, 2);
        }
      }
      // what can be checked is checked before the store is opened (or made): a mistake creates nothing
      checkKind(argv.kind, "--kind");
      checkKind(name, "schedule name");
      parseCron(argv.cron, argv.timezone ?? null, "--cron");
      // a kind the store does not know (most likely mistyped) is said, or refused with --strict
      const newStore = isNewStoreFile(argv.store);
      if (newStore) await checkKnownKind(undefined, argv.kind as string, argv.strict);
      // the store is made if it does not exist yet, as submit does
      const store = await openStore({
        store: argv.store,
        attempts: SETTINGS.attempts.default,
        leaseMs: SETTINGS.leaseMs.default,
      });
      try {
        if (!newStore) await checkKnownKind(store, argv.kind as string, argv.strict);
        const info = await clientOf(store, { owned: false }).schedule(name, {
          cron: argv.cron as string,
          kind: argv.kind as string,
          payload,
          ...(argv.timezone === undefined ? {} : { timezone: argv.timezone }),
          options: {
            ...(argv.priority === undefined ? {} : { priority: argv.priority }),
            ...(argv.attempts === undefined ? {} : { maxAttempts: argv.attempts }),
          },
        });
        console.log(
          argv.json
            ? JSON.stringify(info, null, 2)
            : `scheduled ${info.name}: ${info.cron}${info.timezone ? ` (${info.timezone})` : ""}, kind ${info.kind}, next ${info.nextRunAt.toISOString()}, in ${redactUrl(store.location)}`,
        );
      } finally {
        await store.close();
      }
      return;
    }
    await withExistingStore(argv.store, async (store) => {
      const client = clientOf(store, { owned: false });
      if (argv.action === "list") {
        const all = await client.schedules();
        if (argv.json) console.log(JSON.stringify(all, null, 2));
        else if (all.length === 0) console.log(`no schedules in ${redactUrl(store.location)}`);
        else for (const s of all) console.log(line(s));
      } else if (argv.action === "remove") {
        if (!(await client.unschedule(name)))
          throw new CliError(`no schedule named ${JSON.stringify(name)} in ${redactUrl(store.location)}`, 1);
        console.log(`removed ${name} (the tasks it enqueued stay)`);
      } else {
        const info =
          argv.action === "pause" ? await client.pauseSchedule(name) : await client.resumeSchedule(name);
        console.log(argv.json ? JSON.stringify(info, null, 2) : line(info));
      }
    });
  },
};
