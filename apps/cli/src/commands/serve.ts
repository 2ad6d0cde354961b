import { toReport } from "@taskq/metrics";
import { CliError, integerAtLeast, openRuntime } from "taskq/app";
import type { Argv } from "yargs";
import { type MetricsServer, startMetricsServer } from "../metrics-server.js";
import { type RuntimeArgs, runtimeOptions, toRuntimeConfig } from "../options.js";
import { handleSignals } from "../signals.js";
import { formatSummary } from "../summary.js";

interface ServeArgs extends RuntimeArgs {
  "poll-ms"?: number;
  "exit-when-idle": boolean;
  "shutdown-timeout-ms": number;
  "metrics-port"?: number;
  "metrics-host": string;
}

export const serveCommand = {
  command: "serve",
  describe:
    "The long-running manager: run queued tasks from the durable store until stopped (many can share one PostgreSQL store)",
  builder: (y: Argv) =>
    runtimeOptions(y)
      .option("poll-ms", {
        type: "number",
        coerce: integerAtLeast("poll-ms", 1),
        defaultDescription: "200 on SQLite; 2000 on PostgreSQL, which wakes idle managers with LISTEN/NOTIFY",
        describe: "how often an idle manager looks for new tasks",
      })
      .option("exit-when-idle", {
        type: "boolean",
        default: false,
        describe: "stop once nothing is queued or running in the store",
      })
      .option("metrics-port", {
        type: "number",
        coerce: integerAtLeast("metrics-port", 0),
        describe: "serve Prometheus /metrics and /healthz over HTTP on this port (0: any free port)",
      })
      .option("metrics-host", {
        type: "string",
        default: "127.0.0.1",
        describe: "address the metrics port binds to",
      })
      .example("taskq serve --workers 8", "run until SIGINT/SIGTERM")
      .example("taskq serve --exit-when-idle", "drain the store, then exit")
      .example(
        "taskq serve --db postgres://taskq:secret@db:5432/taskq --metrics-port 9464",
        "one of many managers on one PostgreSQL store",
      ),
  handler: async (argv: ServeArgs) => {
    const runtime = await openRuntime(toRuntimeConfig(argv));
    const { pool, store, executor } = runtime;
    let metricsServer: MetricsServer | undefined;
    try {
      if (argv["metrics-port"] !== undefined) {
        metricsServer = await startMetricsServer(runtime, {
          port: argv["metrics-port"],
          host: argv["metrics-host"],
        });
        process.stderr.write(
          `taskq serve: metrics on http://${argv["metrics-host"]}:${metricsServer.port}/metrics and /healthz\n`,
        );
      }
    } catch (error) {
      await runtime.close({ drain: false });
      throw new CliError(
        `cannot serve metrics on port ${argv["metrics-port"]}: ${(error as Error).message}`,
        1,
      );
    }
    if (store.recoveredOnOpen > 0) {
      process.stderr.write(
        `taskq serve: recovered ${store.recoveredOnOpen} task(s) left running by a stopped manager\n`,
      );
    }
    const pollMs = argv["poll-ms"] ?? (store.dialect === "postgres" ? 2000 : 200);
    const stop = new AbortController();
    const signals = handleSignals(
      () => stop.abort(),
      () => void pool.close({ drain: false }),
    );
    let taken = 0;
    const capacity = executor.concurrency + runtime.config.queueSize;
    // a full manager waits for one of its tasks to settle, not for the clock
    let freed: (() => void) | undefined;
    const settled = () => {
      freed?.();
      freed = undefined;
    };
    process.stderr.write(`taskq serve: ${store.owner} taking tasks from ${store.location}\n`);
    while (!stop.signal.aborted) {
      const free = capacity - pool.pending;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          freed = resolve;
          stop.signal.addEventListener("abort", () => resolve(), { once: true });
        });
        continue;
      }
      let records: Awaited<ReturnType<typeof store.takeNext>> = [];
      try {
        records = await store.takeNext(free);
      } catch (error) {
        if ((error as { retryable?: boolean }).retryable !== true) throw error;
        process.stderr.write(`taskq serve: ${(error as Error).message}; trying again\n`);
      }
      for (const record of records)
        pool
          .adopt(record)
          .catch(() => undefined)
          .finally(settled);
      taken += records.length;
      if (records.length > 0) continue;
      if (argv["exit-when-idle"] && pool.pending === 0) {
        // idle here, and nothing left anywhere: no queued task, none running on another manager
        // (a dead manager's lease expires and its tasks come back as queued)
        const stats = await store.stats();
        if (stats.queued + stats.running === 0) break;
      }
      await store.waitForWork(pollMs, stop.signal);
    }
    await runtime.close({ drain: true, timeoutMs: argv["shutdown-timeout-ms"] });
    await metricsServer?.close();
    signals.dispose();
    const report = toReport(runtime.metrics.finish());
    console.log(formatSummary(report, `SERVE: ${taken} task(s) taken from ${store.location}`));
    if (signals.signal) process.exitCode = signals.exitCode;
  },
};
