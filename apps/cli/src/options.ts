import {
  deprecationNotice,
  envDefault,
  flagOf,
  integerAtLeast,
  numberBetween,
  RENAMED,
  type RuntimeConfig,
  resolveRunOptions,
  SETTINGS,
  type SettingName,
} from "taskq/app";
import type { Argv } from "yargs";

/** The `--db` option: where the task store is. */
export function dbOption<T>(y: Argv<T>) {
  return y.option("db", {
    type: "string",
    default: envDefault("db") as string,
    defaultDescription: "IDEMPOTENCY_DB_PATH, DATABASE_URL or .taskq/tasks.db",
    describe: "task store: a SQLite file or a postgres://user:pass@host:port/db URL",
  });
}

/** The store options every command that opens the store takes. */
export function storeOptions<T>(y: Argv<T>) {
  return dbOption(y).option("storage", {
    type: "string",
    default: envDefault("storage") as string,
    describe: "object store directory (STORAGE_DIR)",
  });
}

/** How each run setting's flag value is checked, for its flag name (the old names get the same check). */
const CHECKS = {
  threads: (flag: string) => integerAtLeast(flag, 1),
  concurrency: (flag: string) => integerAtLeast(flag, 1),
  attempts: (flag: string) => integerAtLeast(flag, 1),
  backoffBaseMs: (flag: string) => numberBetween(flag, 0, 3_600_000),
  backoffMaxMs: (flag: string) => numberBetween(flag, 0, 3_600_000),
  timeoutMs: (flag: string) => numberBetween(flag, 0, 86_400_000),
} as const satisfies Partial<Record<SettingName, (flag: string) => (value: unknown) => number>>;

/** A run setting's flag: its name in kebab case, its default from the environment (or .env). */
function settingOption<T>(y: Argv<T>, name: keyof typeof CHECKS, defaultDescription?: string) {
  const setting = SETTINGS[name];
  return y.option(flagOf(name), {
    type: "number",
    default: envDefault(name),
    ...(defaultDescription ? { defaultDescription } : {}),
    coerce: CHECKS[name](flagOf(name)),
    describe: `${setting.help} (${setting.env})`,
  });
}

/** The run settings' flags as parsed. */
export interface RunSettingArgs {
  threads: number;
  concurrency: number;
  "queue-size": number;
  "on-full": "block" | "reject";
  attempts: number;
  "backoff-base-ms": number;
  "backoff-max-ms": number;
  "timeout-ms": number;
}

/** The run settings' flags. */
function runSettingOptions<T>(y: Argv<T>): Argv<T & RunSettingArgs> {
  const withQueue = settingOption(
    settingOption(y, "threads", "THREADS, or the number of cores"),
    "concurrency",
  )
    .option("queue-size", {
      type: "number",
      default: envDefault("queueSize"),
      coerce: integerAtLeast("queue-size", 1),
      describe: "bounded queue capacity (QUEUE_SIZE)",
    })
    .option("on-full", {
      choices: ["block", "reject"] as const,
      default: envDefault("onFull") as "block" | "reject",
      describe: "when the queue is full (ON_FULL)",
    });
  return settingOption(
    settingOption(settingOption(settingOption(withQueue, "attempts"), "backoffBaseMs"), "backoffMaxMs"),
    "timeoutMs",
  ) as unknown as Argv<T & RunSettingArgs>;
}

/**
 * The flags the run settings had before (`--workers`, `--max-retries`...): hidden, still taken
 * and checked as before, each with a one-line deprecation notice naming the new flag, whose
 * value it sets.
 */
export function renamedFlags<T>(y: Argv<T>, only?: readonly (keyof typeof CHECKS)[]) {
  let out = y;
  for (const [name, old] of RENAMED) {
    if (!(name in CHECKS) || (only && !only.includes(name as keyof typeof CHECKS))) continue;
    const now = flagOf(name);
    out = out.option(old, { type: "number", hidden: true, coerce: CHECKS[name as keyof typeof CHECKS](old) });
    out = out.middleware((argv: Record<string, unknown>) => {
      if (argv[old] === undefined) return;
      deprecationNotice(`--${old}`, `--${now}`);
      argv[now] = argv[old];
    }, true);
  }
  return out;
}

/** The options of commands that run tasks (run, serve). */
export function runtimeOptions<T>(y: Argv<T>) {
  return renamedFlags(runSettingOptions(storeOptions(y)))
    .option("base-latency-ms", {
      type: "number",
      default: envDefault("baseLatencyMs"),
      coerce: numberBetween("base-latency-ms", 0, 60_000),
      describe: "simulated storage latency per request (BASE_LATENCY_MS)",
    })
    .option("jitter-ms", {
      type: "number",
      default: envDefault("jitterMs"),
      coerce: numberBetween("jitter-ms", 0, 60_000),
      describe: "extra random storage latency (LATENCY_JITTER_MS)",
    })
    .option("error-rate", {
      type: "number",
      default: envDefault("errorRate"),
      coerce: numberBetween("error-rate", 0, 1),
      describe: "probability an attempt fails, transient (ERROR_PROBABILITY)",
    })
    .option("seed", {
      type: "number",
      default: envDefault("seed"),
      coerce: integerAtLeast("seed", 0),
      describe: "seed of the random draws (SEED)",
    })
    .option("chunk-size", {
      type: "number",
      default: envDefault("chunkSize"),
      coerce: integerAtLeast("chunk-size", 1),
      describe: "bytes per streamed chunk (CHUNK_SIZE)",
    })
    .option("lease-ms", {
      type: "number",
      default: envDefault("leaseMs"),
      coerce: integerAtLeast("lease-ms", 1),
      describe: "lease of a running task (LEASE_MS)",
    })
    .option("retention-ms", {
      type: "number",
      default: envDefault("retentionMs"),
      coerce: integerAtLeast("retention-ms", 0),
      describe: "keep succeeded tasks (and dedupe their keys) this long, 0 = forever (RETENTION_MS)",
    })
    .option("shutdown-timeout-ms", {
      type: "number",
      default: envDefault("shutdownTimeoutMs"),
      coerce: integerAtLeast("shutdown-timeout-ms", 0),
      describe: "drain limit on SIGINT/SIGTERM (SHUTDOWN_TIMEOUT_MS)",
    })
    .option("inline", {
      type: "boolean",
      default: false,
      describe: "run tasks on the main thread instead of worker threads (threads x concurrency at once)",
    })
    .option("handler", {
      type: "string",
      describe:
        "your handler module (default export: async (payload, ctx) => result) instead of the built-in task types; tasks are then its payloads",
    });
}

/** Parsed runtime flags. */
export interface RuntimeArgs extends RunSettingArgs {
  db: string;
  storage: string;
  "base-latency-ms": number;
  "jitter-ms": number;
  "error-rate": number;
  seed: number;
  "chunk-size": number;
  "lease-ms": number;
  inline: boolean;
  handler?: string;
  "retention-ms": number;
}

export function toRuntimeConfig(argv: RuntimeArgs): RuntimeConfig {
  const settings = resolveRunOptions({
    // --inline: every slot on the main thread
    threads: argv.inline ? 0 : argv.threads,
    concurrency: argv.inline ? argv.threads * argv.concurrency : argv.concurrency,
    queueSize: argv["queue-size"],
    onFull: argv["on-full"],
    attempts: argv.attempts,
    backoffBaseMs: argv["backoff-base-ms"],
    backoffMaxMs: Math.max(argv["backoff-base-ms"], argv["backoff-max-ms"]),
    timeoutMs: argv["timeout-ms"],
    leaseMs: argv["lease-ms"],
    retentionMs: argv["retention-ms"],
    logLevel: String(envDefault("logLevel")),
  });
  return {
    ...settings,
    db: argv.db,
    storage: argv.storage,
    chunkSize: argv["chunk-size"],
    baseLatencyMs: argv["base-latency-ms"],
    jitterMs: argv["jitter-ms"],
    errorRate: argv["error-rate"],
    seed: argv.seed,
    ...(argv.handler === undefined ? {} : { handler: argv.handler }),
  };
}
