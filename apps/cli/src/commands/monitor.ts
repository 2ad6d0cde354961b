import { setTimeout as sleep } from "node:timers/promises";
import { labelValue } from "@taskq/metrics";
import type { LeaseHolder, StoreStats, TaskStoreDriver } from "taskq";
import { numberBetween, redactUrl, withExistingStore } from "taskq/app";
import type { Argv } from "yargs";
import { dbOption } from "../options.js";

interface MonitorArgs {
  db: string;
  once: boolean;
  interval: number;
  export?: "json" | "prometheus";
}

/** One look at the store: counts, throughput, and the managers holding leases. */
export interface Reading extends StoreStats {
  readonly timestamp: string;
  readonly throughputTps: number;
  readonly managers: readonly LeaseHolder[];
}

function toJson(r: Reading) {
  return {
    timestamp: r.timestamp,
    queued: r.queued,
    running: r.running,
    succeeded: r.succeeded,
    failed: r.failed,
    total: r.total,
    dead_letters: r.deadLetters,
    oldest_queued_age_ms: r.oldestQueuedAgeMs,
    throughput_tps: Number(r.throughputTps.toFixed(2)),
    managers: r.managers.map((m) => ({
      owner: m.owner,
      running: m.running,
      lease_expires_at: new Date(m.leaseExpiresAt).toISOString(),
    })),
  };
}

/** The store's state in the Prometheus text format. */
export function storePrometheus(r: Reading): string {
  const owner = (name: string) => `{owner="${labelValue(name)}"}`;
  const lines = [
    "# HELP taskq_store_tasks Task records by status.",
    "# TYPE taskq_store_tasks gauge",
    ...(["queued", "running", "succeeded", "failed"] as const).map(
      (s) => `taskq_store_tasks{status="${s}"} ${r[s]}`,
    ),
    "# HELP taskq_store_dead_letters Dead letters not re-driven.",
    "# TYPE taskq_store_dead_letters gauge",
    `taskq_store_dead_letters ${r.deadLetters}`,
    "# HELP taskq_store_oldest_queued_age_seconds Age of the oldest queued task.",
    "# TYPE taskq_store_oldest_queued_age_seconds gauge",
    `taskq_store_oldest_queued_age_seconds ${(r.oldestQueuedAgeMs ?? 0) / 1000}`,
    "# HELP taskq_store_throughput_tasks_per_second Tasks that succeeded per second over the last interval.",
    "# TYPE taskq_store_throughput_tasks_per_second gauge",
    `taskq_store_throughput_tasks_per_second ${r.throughputTps}`,
    "# HELP taskq_store_manager_running_tasks Running tasks leased to each manager.",
    "# TYPE taskq_store_manager_running_tasks gauge",
    ...r.managers.map((m) => `taskq_store_manager_running_tasks${owner(m.owner)} ${m.running}`),
  ];
  return `${lines.join("\n")}\n`;
}

function human(r: Reading, db: string, interval: number): string {
  const age = r.oldestQueuedAgeMs === null ? "-" : `${(r.oldestQueuedAgeMs / 1000).toFixed(1)} s`;
  const now = Date.parse(r.timestamp);
  return [
    `taskq monitor  ${r.timestamp}  ${db}`,
    `  queued ${r.queued}  running ${r.running}  succeeded ${r.succeeded}  failed ${r.failed}  dead letters ${r.deadLetters}`,
    `  throughput (last ${interval} s) ${r.throughputTps.toFixed(1)} tasks/s  oldest queued ${age}`,
    `  managers holding leases: ${r.managers.length === 0 ? "none" : r.managers.length}`,
    ...r.managers.map(
      (m) =>
        `    ${m.owner}  running ${m.running}  lease ${m.leaseExpiresAt >= now ? `expires in ${((m.leaseExpiresAt - now) / 1000).toFixed(1)} s` : "expired"}`,
    ),
  ].join("\n");
}

/** Reads the store once: counts, throughput over the last `intervalS` seconds, lease holders. */
export async function readStore(store: TaskStoreDriver, intervalS: number): Promise<Reading> {
  const [stats, succeeded, managers] = await Promise.all([
    store.stats(),
    store.succeededWithin(intervalS * 1000),
    store.leaseHolders(),
  ]);
  return {
    ...stats,
    timestamp: new Date().toISOString(),
    throughputTps: succeeded / intervalS,
    managers,
  };
}

export const monitorCommand = {
  command: "monitor",
  describe:
    "Show the store: counts by status, throughput, oldest queued age, dead letters, the managers holding leases",
  builder: (y: Argv) =>
    dbOption(y)
      .option("once", { type: "boolean", default: false, describe: "print once and exit" })
      .option("interval", {
        requiresArg: true,
        default: 1,
        coerce: numberBetween("interval", 0.1, 3600),
        describe: "seconds between readings",
      })
      .option("export", {
        choices: ["json", "prometheus"] as const,
        describe: "print JSON or Prometheus text instead",
      })
      .example("taskq monitor", "live, every second, until Ctrl-C")
      .example("taskq monitor --once --export prometheus", "one scrape"),
  handler: (argv: MonitorArgs) =>
    withExistingStore(argv.db, async (store) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        for (;;) {
          const reading = await readStore(store, argv.interval);
          if (argv.export === "json") console.log(JSON.stringify(toJson(reading)));
          else if (argv.export === "prometheus") process.stdout.write(storePrometheus(reading));
          else console.log(human(reading, redactUrl(store.location), argv.interval));
          if (argv.once) break;
          await sleep(argv.interval * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
          if (stop.signal.aborted) break;
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    }),
};
