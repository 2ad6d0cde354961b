import { setTimeout as sleep } from "node:timers/promises";
import {
  breakersOf,
  DEFAULT_WINDOW_MS,
  numberBetween,
  readingJson,
  readStore,
  redactUrl,
  type StoreReading,
  storePrometheus,
  type WorkerReading,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { storeOption } from "../options.js";
import { breakerLine } from "./breaker.js";
import { limitsLine } from "./limits.js";

interface MonitorArgs {
  store: string;
  once: boolean;
  interval: number;
  export?: "json" | "prometheus";
}

function human(r: StoreReading, location: string): string {
  const age = r.oldestDueAgeMs === null ? "-" : `${(r.oldestDueAgeMs / 1000).toFixed(1)} s`;
  const now = r.now;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  // a status that reached the cap is a lower bound: 10000+
  const n = (status: StoreReading["capped"][number], value: number) =>
    `${value}${r.capped.includes(status) ? "+" : ""}`;
  const lease = (at: number | null) =>
    at === null ? "no leases" : at >= now ? `lease expires in ${seconds(at - now)}` : "lease expired";
  // its threads (the main thread without), and its child processes when it has any
  const where = (w: WorkerReading) => {
    const processes = w.processes ? `${w.processes} process(es)` : undefined;
    if (w.threads === 0) return processes ?? "the main thread";
    return `${w.threads} thread(s)${processes ? ` and ${processes}` : ""}`;
  };
  const runs = (w: WorkerReading) =>
    w.executing === null
      ? `leased ${w.leased} (${w.heartbeatAt === null ? "never reported" : "no recent report"})`
      : `executing ${w.executing} of ${w.slots} slots on ${where(w)}, leased ${w.leased}`;
  const t = r.totals;
  const breakers = breakersOf(r.limits);
  return [
    `taskq monitor  ${new Date(now).toISOString()}  ${location}`,
    `  queued ${n("queued", t.queued)} (scheduled for later ${n("scheduled", t.scheduled)})  running ${n("running", t.running)} (executing ${r.executing}, leased and waiting for a slot ${r.waiting})  succeeded ${n("succeeded", t.succeeded)}  failed ${n("failed", t.failed)}  cancelled ${n("cancelled", t.cancelled)}  dead letters ${r.deadLetters}${r.deadLettersCapped ? "+" : ""}`,
    ...r.byKind.map(
      (k) =>
        `    ${k.kind}: queued ${k.queued}  scheduled ${k.scheduled}  running ${k.running}  succeeded ${k.succeeded}  failed ${k.failed}  cancelled ${k.cancelled}`,
    ),
    ...(r.capped.length === 0 ? [] : [`  (+: counted up to ${r.cap}, there are more)`]),
    `  throughput (last ${r.throughput.windowMs / 1000} s) ${r.throughput.succeededPerSec.toFixed(1)} tasks/s  longest wait of a due task ${age}`,
    ...(r.limits.length === 0 ? [] : [`  limits: ${r.limits.length}`]),
    ...r.limits.map(
      (l) =>
        `    ${limitsLine({ ...l, openAgainAt: l.openAgainAt === null ? null : new Date(l.openAgainAt) })}`,
    ),
    ...(breakers.length === 0 ? [] : [`  breakers: ${breakers.length}`]),
    ...breakers.map((b) => `    ${breakerLine(b, now)}`),
    ...(r.schedules.length === 0 ? [] : [`  schedules: ${r.schedules.length}`]),
    ...r.schedules.map(
      (x) =>
        `    ${x.name}  ${x.cron}${x.timezone ? ` (${x.timezone})` : ""}  kind ${x.kind}  ${x.paused ? "paused" : `next ${new Date(x.nextRunAt).toISOString()}`}  last ${x.lastRunAt === null ? "-" : new Date(x.lastRunAt).toISOString()}`,
    ),
    `  workers: ${r.workers.length === 0 ? "none" : r.workers.length}`,
    ...r.workers.map(
      (w) =>
        `    ${w.name === null ? "" : `${w.name} `}${w.owner}${w.stale ? " (stale)" : ""}  ${runs(w)}  ${lease(w.leaseExpiresAt)}${w.heartbeatAt === null ? "" : `  reported ${seconds(Math.max(0, now - w.heartbeatAt))} ago`}`,
    ),
  ].join("\n");
}

export const monitorCommand = {
  command: "monitor",
  describe:
    "Show the store: counts by status and kind, scheduled tasks, throughput, the longest wait, dead letters, schedules, the workers holding leases",
  builder: (y: Argv) =>
    storeOption(y)
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
    withExistingStore(argv.store, async (store) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        for (;;) {
          const reading = await readStore(store, {
            windowMs: Math.max(DEFAULT_WINDOW_MS, argv.interval * 1000),
          });
          if (argv.export === "json") console.log(JSON.stringify(readingJson(reading)));
          else if (argv.export === "prometheus") process.stdout.write(storePrometheus(reading));
          else console.log(human(reading, redactUrl(store.location)));
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
