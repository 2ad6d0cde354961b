import {
  CliError,
  checkKind,
  clientOf,
  readStore,
  redactUrl,
  type StoreReading,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";

interface KindsArgs {
  action: "pause" | "resume" | "list";
  kind?: string;
  store: string;
  json: boolean;
}

/** A kind as `kinds list` shows it: its tasks by state, who serves it, and whether it is paused. */
export interface KindRow {
  readonly kind: string;
  readonly queued: number;
  readonly scheduled: number;
  readonly running: number;
  readonly paused: boolean;
  readonly pausedAt: string | null;
  /** Live workers whose latest report names the kind. */
  readonly workers: number;
}

/** Every kind the store knows of (its tasks, limits, pauses, or a live worker's), in code-point order. */
export function kindRows(r: StoreReading): KindRow[] {
  const live = r.workers.filter((w) => !w.stale);
  const names = new Set<string>([
    ...r.byKind.map((k) => k.kind),
    ...r.limits.map((l) => l.kind),
    ...live.flatMap((w) => w.kinds),
  ]);
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((kind) => {
      const counts = r.byKind.find((k) => k.kind === kind);
      const limit = r.limits.find((l) => l.kind === kind);
      return {
        kind,
        queued: counts?.queued ?? 0,
        scheduled: counts?.scheduled ?? 0,
        running: counts?.running ?? 0,
        paused: limit?.paused ?? false,
        pausedAt: limit?.pausedAt == null ? null : new Date(limit.pausedAt).toISOString(),
        workers: live.filter((w) => w.kinds.includes(kind)).length,
      };
    });
}

function kindLine(k: KindRow, capped: boolean): string {
  const plus = capped ? "+" : "";
  const state = k.paused ? `PAUSED since ${k.pausedAt}` : "running";
  const served = k.workers === 0 ? "no live worker serves it" : `${k.workers} live worker(s)`;
  return `${k.kind}  ${state}  queued ${k.queued}${plus}  scheduled ${k.scheduled}${plus}  running ${k.running}${plus}  ${served}`;
}

export const kindsCommand = {
  command: "kinds <action> [kind]",
  describe: "Pause or resume a kind across every worker on the store, or list the kinds",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("action", { choices: ["pause", "resume", "list"] as const, demandOption: true })
      .positional("kind", { type: "string", describe: "the kind (not for list)" })
      .option("json", { type: "boolean", default: false, describe: "print JSON" })
      .check((argv) => {
        if (argv.action !== "list" && argv.kind === undefined)
          throw new CliError(`kinds ${argv.action} needs a KIND`, 2);
        return true;
      })
      .example(
        "taskq kinds pause email",
        "no worker starts an email task from its next take; running ones finish, queued ones wait",
      )
      .example("taskq kinds resume email", "the workers take the queued emails again")
      .example("taskq kinds list", "every kind: queued, running, paused, and the live workers serving it"),
  handler: async (argv: KindsArgs) => {
    if (argv.kind !== undefined) checkKind(argv.kind, "kind");
    await withExistingStore(argv.store, async (store) => {
      const client = clientOf(store, { owned: false });
      const kind = argv.kind as string;
      if (argv.action === "pause") {
        const changed = await client.pauseKind(kind);
        console.log(
          changed
            ? `${kind} paused in ${redactUrl(store.location)}: no worker starts its tasks from its next take; running ones finish`
            : `${kind} was paused already`,
        );
        return;
      }
      if (argv.action === "resume") {
        const changed = await client.resumeKind(kind);
        console.log(changed ? `${kind} resumed: the workers take its tasks again` : `${kind} was not paused`);
        return;
      }
      const reading = await readStore(store);
      const rows = kindRows(reading);
      if (argv.json) console.log(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) console.log(`no kinds in ${redactUrl(store.location)}`);
      else for (const k of rows) console.log(kindLine(k, reading.capped.length > 0));
    });
  },
};
