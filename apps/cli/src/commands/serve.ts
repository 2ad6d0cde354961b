import { setTimeout as sleep } from "node:timers/promises";
import { toReport } from "@taskq/metrics";
import type { Argv } from "yargs";
import { integerAtLeast } from "../config.js";
import { type RuntimeArgs, runtimeOptions, toRuntimeConfig } from "../options.js";
import { openRuntime } from "../runtime.js";
import { handleSignals } from "../signals.js";
import { formatSummary } from "../summary.js";

interface ServeArgs extends RuntimeArgs {
  "poll-ms": number;
  "exit-when-idle": boolean;
  "shutdown-timeout-ms": number;
}

export const serveCommand = {
  command: "serve",
  describe: "The long-running manager: run queued tasks from the durable store until stopped",
  builder: (y: Argv) =>
    runtimeOptions(y)
      .option("poll-ms", {
        type: "number",
        default: 200,
        coerce: integerAtLeast("poll-ms", 1),
        describe: "how often an idle manager looks for new tasks",
      })
      .option("exit-when-idle", {
        type: "boolean",
        default: false,
        describe: "stop once nothing is queued or running here",
      })
      .example("taskq serve --workers 8", "run until SIGINT/SIGTERM")
      .example("taskq serve --exit-when-idle", "drain the store, then exit"),
  handler: async (argv: ServeArgs) => {
    const runtime = await openRuntime(toRuntimeConfig(argv));
    const { pool, store, executor } = runtime;
    if (store.recoveredOnOpen > 0) {
      process.stderr.write(
        `taskq serve: recovered ${store.recoveredOnOpen} task(s) left running by a stopped manager\n`,
      );
    }
    const stop = new AbortController();
    const signals = handleSignals(
      () => stop.abort(),
      () => void pool.close({ drain: false }),
    );
    let taken = 0;
    const capacity = executor.concurrency + runtime.config.queueSize;
    while (!stop.signal.aborted) {
      const free = capacity - pool.pending;
      let records: ReturnType<typeof store.takeNext> = [];
      if (free > 0) {
        try {
          records = store.takeNext(free);
        } catch (error) {
          if ((error as { retryable?: boolean }).retryable !== true) throw error;
        }
      }
      for (const record of records) pool.adopt(record).catch(() => undefined);
      taken += records.length;
      if (records.length > 0) continue;
      if (argv["exit-when-idle"] && pool.pending === 0) break;
      await sleep(argv["poll-ms"], undefined, { signal: stop.signal }).catch(() => undefined);
    }
    await runtime.close({ drain: true, timeoutMs: argv["shutdown-timeout-ms"] });
    signals.dispose();
    const report = toReport(runtime.metrics.finish());
    console.log(formatSummary(report, `SERVE: ${taken} task(s) taken from ${argv.db}`));
    if (signals.signal) process.exitCode = signals.exitCode;
  },
};
