import { setTimeout as sleep } from "node:timers/promises";
import type { StoreStats } from "@taskq/idempotency";
import type { Argv } from "yargs";
import { envDefault, numberBetween } from "../config.js";
import { openExistingStore } from "../runtime.js";

interface MonitorArgs {
  db: string;
  once: boolean;
  interval: number;
  export?: "json" | "prometheus";
}

interface Reading extends StoreStats {
  readonly timestamp: string;
  readonly throughputTps: number;
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
  };
}

/** The store's state in the Prometheus text format. */
export function storePrometheus(r: Reading): string {
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
  ];
  return `${lines.join("\n")}\n`;
}

function human(r: Reading, db: string, interval: number): string {
  const age = r.oldestQueuedAgeMs === null ? "-" : `${(r.oldestQueuedAgeMs / 1000).toFixed(1)} s`;
  return [
    `taskq monitor  ${r.timestamp}  ${db}`,
    `  queued ${r.queued}  running ${r.running}  succeeded ${r.succeeded}  failed ${r.failed}  dead letters ${r.deadLetters}`,
    `  throughput (last ${interval} s) ${r.throughputTps.toFixed(1)} tasks/s  oldest queued ${age}`,
  ].join("\n");
}

export const monitorCommand = {
  command: "monitor",
  describe: "Show the store: counts by status, throughput, oldest queued age, dead letters",
  builder: (y: Argv) =>
    y
      .option("db", {
        type: "string",
        default: envDefault("db") as string,
        describe: "SQLite task store (IDEMPOTENCY_DB_PATH)",
      })
      .option("once", { type: "boolean", default: false, describe: "print once and exit" })
      .option("interval", {
        type: "number",
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
  handler: async (argv: MonitorArgs) => {
    const store = openExistingStore(argv.db);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      for (;;) {
        const now = Date.now();
        const stats = store.stats();
        const reading: Reading = {
          ...stats,
          timestamp: new Date(now).toISOString(),
          throughputTps: store.succeededSince(now - argv.interval * 1000) / argv.interval,
        };
        if (argv.export === "json") console.log(JSON.stringify(toJson(reading)));
        else if (argv.export === "prometheus") process.stdout.write(storePrometheus(reading));
        else console.log(human(reading, argv.db, argv.interval));
        if (argv.once) break;
        await sleep(argv.interval * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) break;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      store.close();
    }
  },
};
