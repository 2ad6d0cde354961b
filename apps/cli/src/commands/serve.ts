import { toReport } from "@taskq/metrics";
import {
  CliError,
  ConfigError,
  checkIsolation,
  checkKindConcurrency,
  type Isolation,
  type IsolationLevel,
  integerAtLeast,
  integerAtLeastOr,
  type KindIsolation,
  MEMORY_LIMIT_MB,
  openRuntime,
  redactUrl,
  serve,
  workerName,
} from "taskq/app";
import type { Argv } from "yargs";
import { resolveTransport, type TransportArgs, transportOptions } from "../dashboard-transport.js";
import { type MetricsServer, startMetricsServer } from "../metrics-server.js";
import { type RuntimeArgs, runtimeOptions, toRuntimeConfig } from "../options.js";
import { handleSignals } from "../signals.js";
import { formatSummary } from "../summary.js";
import { checkDashboardListen, runDashboard } from "./dashboard.js";

interface ServeArgs extends RuntimeArgs, TransportArgs {
  "poll-ms"?: number;
  prefetch?: number | "auto";
  "exit-when-idle": boolean;
  "shutdown-timeout-ms": number;
  "metrics-port"?: number;
  "metrics-host": string;
  "ui-port"?: number;
  "ui-host": string;
  "kind-concurrency"?: Record<string, number>;
  isolate?: Record<string, IsolationLevel>;
  "memory-limit"?: Record<string, number>;
  name?: string;
}

/** `--isolate KIND=thread|process` (repeatable) as `{ KIND: level }`; one line naming the flag otherwise. */
function isolateFlag(value: unknown): Record<string, IsolationLevel> {
  const levels: Record<string, IsolationLevel> = {};
  for (const item of (Array.isArray(value) ? value : [value]).map(String)) {
    const match = /^([^=]+)=(thread|process)$/.exec(item);
    if (!match)
      throw new CliError(`--isolate takes KIND=thread or KIND=process, got ${JSON.stringify(item)}`, 2);
    levels[match[1] as string] = match[2] as IsolationLevel;
  }
  return levels;
}

/** `--memory-limit KIND=MB` (repeatable) as `{ KIND: MB }`; one line naming the flag otherwise. */
function memoryLimitFlag(value: unknown): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const item of (Array.isArray(value) ? value : [value]).map(String)) {
    const match = /^([^=]+)=(\d+)$/.exec(item);
    const mb = Number(match?.[2]);
    if (!match || mb < MEMORY_LIMIT_MB.min || mb > MEMORY_LIMIT_MB.max)
      throw new CliError(
        `--memory-limit takes KIND=MB (MB an integer from ${MEMORY_LIMIT_MB.min} to ${MEMORY_LIMIT_MB.max}), got ${JSON.stringify(item)}`,
        2,
      );
    limits[match[1] as string] = mb;
  }
  return limits;
}

/**
 * `--isolate` and `--memory-limit` as the runtime's `isolation`, checked against the kinds served
 * by the library's checkIsolation (its ConfigError as the one-line error naming `--isolate`); a
 * limit needs its kind isolated: it is the heap of that kind's own threads or processes.
 */
export function isolationOf(
  isolate: Readonly<Record<string, IsolationLevel>> | undefined,
  memoryLimit: Readonly<Record<string, number>> | undefined,
  kinds: readonly string[] | undefined,
): Isolation | undefined {
  if (isolate === undefined && memoryLimit === undefined) return undefined;
  if (kinds === undefined)
    throw new CliError("--isolate and --memory-limit are for handler kinds: give --handler KIND=FILE", 2);
  const isolation: Record<string, KindIsolation> = {};
  for (const [kind, level] of Object.entries(isolate ?? {})) {
    const mb = memoryLimit?.[kind];
    isolation[kind] = { in: level, ...(mb === undefined ? {} : { memoryLimitMb: mb }) };
  }
  for (const kind of Object.keys(memoryLimit ?? {}))
    if (!(kind in isolation))
      throw new CliError(
        `--memory-limit ${kind}: the limit is of the kind's own threads or processes; give --isolate ${kind}=thread or --isolate ${kind}=process too`,
        2,
      );
  try {
    checkIsolation(isolation, kinds, 1, "--isolate");
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2, { cause: error });
    throw error;
  }
  return isolation;
}

/** `--kind-concurrency KIND=N` (repeatable) as `{ KIND: N }`; one line naming the flag otherwise. */
function kindConcurrencyFlag(value: unknown): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const item of (Array.isArray(value) ? value : [value]).map(String)) {
    const match = /^([^=]+)=(\d+)$/.exec(item);
    if (!match || Number(match[2]) < 1)
      throw new CliError(
        `--kind-concurrency takes KIND=N (N a positive integer), got ${JSON.stringify(item)}`,
        2,
      );
    limits[match[1] as string] = Number(match[2]);
  }
  return limits;
}

export const serveCommand = {
  command: "serve",
  describe:
    "The long-running worker: run queued tasks from the durable store until stopped (many can share one PostgreSQL store)",
  builder: (y: Argv) => {
    const serveFlags = runtimeOptions(y)
      .option("poll-ms", {
        requiresArg: true,
        coerce: integerAtLeast("poll-ms", 1),
        defaultDescription: "200 on SQLite; 2000 on PostgreSQL, which wakes idle workers with LISTEN/NOTIFY",
        describe: "how often an idle worker looks for new tasks",
      })
      .option("prefetch", {
        requiresArg: true,
        coerce: integerAtLeastOr("prefetch", 0, "auto"),
        defaultDescription:
          "auto: what its slots finished in the last 100 ms, at most 1000 (none while they are busy with slow tasks)",
        describe:
          "tasks a worker takes beyond its free slots: auto, or a number (0: only what a free slot can start now; more: fewer takes, but they run in the order taken, ahead of a higher priority enqueued meanwhile)",
      })
      .option("name", {
        type: "string",
        requiresArg: true,
        coerce: (value: unknown) => workerName(value, "--name"),
        defaultDescription: "the host name",
        describe: "this worker's name, shown beside its id by monitor and the dashboard",
      })
      .option("exit-when-idle", {
        type: "boolean",
        default: false,
        describe: "stop once nothing is queued or running in the store",
      })
      .option("metrics-port", {
        requiresArg: true,
        coerce: integerAtLeast("metrics-port", 0),
        describe: "serve Prometheus /metrics and /healthz over HTTP on this port (0: any free port)",
      })
      .option("kind-concurrency", {
        type: "string",
        array: true,
        requiresArg: true,
        coerce: kindConcurrencyFlag,
        describe:
          "most tasks of a kind this worker holds at once, KIND=N (repeatable); see `taskq limits` for the fleet",
      })
      .option("isolate", {
        type: "string",
        array: true,
        requiresArg: true,
        coerce: isolateFlag,
        describe:
          "run a handler kind apart, KIND=thread or KIND=process (repeatable): its own threads or child processes, where a crash, an exit or running out of memory ends that attempt only",
      })
      .option("memory-limit", {
        type: "string",
        array: true,
        requiresArg: true,
        coerce: memoryLimitFlag,
        describe:
          "heap limit of an isolated kind's each thread or process, KIND=MB (repeatable): an attempt past it fails (retried) and its thread or process is replaced",
      })
      .option("metrics-host", {
        type: "string",
        default: "127.0.0.1",
        describe: "address the metrics port binds to",
      })
      .option("ui-port", {
        requiresArg: true,
        coerce: integerAtLeast("ui-port", 0),
        describe: "serve the dashboard (as `taskq dashboard`) on this port too (0: any free port)",
      })
      .option("ui-host", {
        type: "string",
        default: "127.0.0.1",
        describe:
          "address the dashboard binds to; any but loopback needs TASKQ_DASHBOARD_TOKEN and --tls-cert/--tls-key",
      });
    return transportOptions(serveFlags, " (the dashboard's, with --ui-port)")
      .example("taskq serve --threads 8", "run until SIGINT/SIGTERM")
      .example("taskq serve --exit-when-idle", "drain the store, then exit")
      .example(
        "taskq serve --handler email=./email.mjs --kind-concurrency email=4",
        "at most 4 emails at once here",
      )
      .example(
        "taskq serve --handler resize=./resize.mjs --isolate resize=process --memory-limit resize=256",
        "resize tasks in child processes of 256 MB heap each",
      )
      .example(
        "taskq serve --store postgres://taskq:secret@db:5432/taskq --metrics-port 9464",
        "one of many workers on one PostgreSQL store",
      );
  },
  handler: async (argv: ServeArgs) => {
    // the dashboard's flags without --ui-port would be silently unused: refused
    for (const flag of ["tls-cert", "tls-key", "trust-proxy", "allow-plain-http"] as const)
      if (argv["ui-port"] === undefined && argv[flag] !== undefined && argv[flag] !== false)
        throw new CliError(`--${flag} is for the dashboard: give --ui-port too`, 2);
    const transport = argv["ui-port"] === undefined ? undefined : resolveTransport(argv);
    if (argv["ui-port"] !== undefined && transport !== undefined)
      checkDashboardListen(argv["ui-port"], argv["ui-host"], transport);
    const config = toRuntimeConfig(argv, "serve");
    const isolation = isolationOf(
      argv.isolate,
      argv["memory-limit"],
      config.handlers && Object.keys(config.handlers),
    );
    const runtime = await openRuntime({
      ...config,
      ...(isolation === undefined ? {} : { isolation }),
      ...(argv.name === undefined ? {} : { name: argv.name }),
    });
    const { orchestrator, store } = runtime;
    if (argv["kind-concurrency"] !== undefined) {
      try {
        checkKindConcurrency(argv["kind-concurrency"], runtime.kinds, "--kind-concurrency");
      } catch (error) {
        await runtime.close({ drain: false });
        throw error;
      }
    }
    let metricsServer: MetricsServer | undefined;
    let dashboard: { close: () => Promise<void> } | undefined;
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
    try {
      if (argv["ui-port"] !== undefined && transport !== undefined)
        dashboard = await runDashboard(store, {
          port: argv["ui-port"],
          host: argv["ui-host"],
          command: "taskq serve",
          transport,
        });
    } catch (error) {
      await metricsServer?.close();
      await runtime.close({ drain: false });
      throw error;
    }
    if (store.recoveredOnOpen > 0) {
      process.stderr.write(
        `taskq serve: recovered ${store.recoveredOnOpen} task(s) left running by a stopped worker\n`,
      );
    }
    const stop = new AbortController();
    const signals = handleSignals(
      () => stop.abort(),
      () => void orchestrator.close({ drain: false }),
    );
    process.stderr.write(
      `taskq serve: ${store.owner} taking tasks of kind ${runtime.kinds.join(", ")} from ${redactUrl(store.location)}\n`,
    );
    const taken = await serve(runtime, {
      ...(argv["poll-ms"] === undefined ? {} : { pollMs: argv["poll-ms"] }),
      ...(argv.prefetch === undefined ? {} : { prefetch: argv.prefetch }),
      ...(argv["kind-concurrency"] === undefined ? {} : { kindConcurrency: argv["kind-concurrency"] }),
      exitWhenIdle: argv["exit-when-idle"],
      signal: stop.signal,
      onRetryableError: (error) => process.stderr.write(`taskq serve: ${error.message}; trying again\n`),
    });
    await runtime.close({ drain: true, timeoutMs: argv["shutdown-timeout-ms"] });
    await metricsServer?.close();
    await dashboard?.close();
    signals.dispose();
    const report = toReport(runtime.metrics.finish());
    console.log(formatSummary(report, `SERVE: ${taken} task(s) taken from ${redactUrl(store.location)}`));
    if (signals.signal) process.exitCode = signals.exitCode;
  },
};
