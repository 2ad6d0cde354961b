import {
  CliError,
  checkKind,
  clientOf,
  type LimitsInfo,
  openStore,
  redactUrl,
  SETTINGS,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

interface LimitsArgs {
  action: "set" | "list" | "remove";
  kind?: string;
  store: string;
  concurrency?: number;
  rate?: number;
  "rate-interval-ms"?: number;
  "per-group-concurrency"?: number;
  json: boolean;
}

/** One kind's limits and where it stands, in one line (monitor prints the same). */
export function limitsLine(l: LimitsInfo): string {
  const parts = [
    l.concurrency === null ? null : `concurrency ${l.running}/${l.concurrency} running`,
    l.rate === null ? null : `rate ${l.startsInWindow}/${l.rate.limit} started per ${l.rate.intervalMs} ms`,
    l.perGroup == null
      ? null
      : `per group at most ${l.perGroup.concurrency} running (groups taken in rotation)`,
  ].filter(Boolean);
  const held =
    l.heldBack === "paused"
      ? `paused since ${new Date(l.pausedAt ?? 0).toISOString()} (taskq kinds resume ${l.kind})`
      : l.heldBack === "concurrency"
        ? "held back: concurrency full"
        : l.heldBack === "breaker"
          ? `held back: its circuit breaker is ${l.breaker?.state ?? "open"} (taskq breaker list)`
          : l.heldBack === "rate"
            ? `held back: rate used up until ${l.openAgainAt?.toISOString()}`
            : "open";
  return [l.kind, ...parts, held].join("  ");
}

const positive = (flag: string, min: number) => (value: unknown) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`, 2);
  return n;
};

export const limitsCommand = {
  command: "limits <action> [kind]",
  describe: "Limits of a kind across every worker on the store: set, list, remove",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("action", { choices: ["set", "list", "remove"] as const, demandOption: true })
      .positional("kind", { type: "string", describe: "the kind (not for list)" })
      .option("concurrency", {
        requiresArg: true,
        coerce: positive("concurrency", 1),
        describe: "at most N tasks of the kind running at once, in all workers together",
      })
      .option("rate", {
        requiresArg: true,
        coerce: positive("rate", 1),
        describe: "at most N starts of the kind per --rate-interval-ms",
      })
      .option("rate-interval-ms", {
        requiresArg: true,
        coerce: positive("rate-interval-ms", 1),
        describe: "the rate's window, ms (default 1000)",
      })
      .option("per-group-concurrency", {
        requiresArg: true,
        coerce: positive("per-group-concurrency", 1),
        describe:
          "at most N running tasks of each group (submit --group) of the kind, in all workers together; its groups are taken in rotation",
      })
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .check((argv) => {
        if (argv.action !== "list" && argv.kind === undefined)
          throw new CliError(`limits ${argv.action} needs a KIND`, 2);
        if (
          argv.action === "set" &&
          argv.concurrency === undefined &&
          argv.rate === undefined &&
          argv["per-group-concurrency"] === undefined
        )
          throw new CliError("limits set needs --concurrency N, --rate N or --per-group-concurrency N", 2);
        if (argv["rate-interval-ms"] !== undefined && argv.rate === undefined)
          throw new CliError("--rate-interval-ms goes with --rate N", 2);
        return true;
      })
      .example("taskq limits set email --concurrency 4", "at most 4 emails at once in the whole fleet")
      .example(
        "taskq limits set api --rate 10 --rate-interval-ms 1000",
        "at most 10 api tasks started a second",
      )
      .example(
        "taskq limits set import --per-group-concurrency 2",
        "each tenant's imports (submit --group TENANT) 2 at a time, tenants taken in turn",
      )
      .example("taskq limits list", "every limit, and what it holds back now"),
  handler: async (argv: LimitsArgs) => {
    const kind = argv.kind as string;
    if (argv.action === "set") {
      checkKind(kind, "kind"); // before the store is opened (or made): a mistake creates nothing
      // the store is made if it does not exist yet, as submit does
      const store = await openStore({
        store: argv.store,
        attempts: SETTINGS.attempts.default,
        leaseMs: SETTINGS.leaseMs.default,
      });
      try {
        await clientOf(store, { owned: false }).setLimits(kind, {
          ...(argv.concurrency === undefined ? {} : { concurrency: argv.concurrency }),
          ...(argv.rate === undefined
            ? {}
            : { rate: { limit: argv.rate, intervalMs: argv["rate-interval-ms"] ?? 1000 } }),
          ...(argv["per-group-concurrency"] === undefined
            ? {}
            : { perGroup: { concurrency: argv["per-group-concurrency"] } }),
        });
        console.log(
          `limits of ${kind} set in ${redactUrl(store.location)} (workers apply them within a second)`,
        );
      } finally {
        await store.close();
      }
      return;
    }
    await withExistingStore(argv.store, async (store) => {
      const client = clientOf(store, { owned: false });
      if (argv.action === "remove") {
        await client.setLimits(kind, null);
        console.log(`limits of ${kind} removed`);
        return;
      }
      const all = await client.limits();
      if (argv.json) console.log(JSON.stringify(all, null, 2));
      else if (all.length === 0) console.log(`no limits in ${redactUrl(store.location)}`);
      else for (const l of all) console.log(limitsLine(l));
    });
  },
};
