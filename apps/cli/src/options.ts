import type { RuntimeConfig, SettingName, SettingRule } from "taskq/app";
import { CliError, checkStoreLocation, envDefault, integerRule, numberRule } from "taskq/app";
import type { Argv } from "yargs";

/**
 * A numeric flag whose default is a setting: the value checked by `rule`, naming the flag for a
 * bad flag (with what was typed: no `type: "number"`, which would turn "abc" into NaN) and the
 * variable for a bad value from the environment or .env.
 */
export function numericSetting(name: SettingName, flag: string, rule: SettingRule<number>) {
  return {
    requiresArg: true,
    default: envDefault(name, rule) as number,
    coerce: (value: unknown) => rule(value, `--${flag}`),
  } as const;
}

/** The `--db` option: where the task store is. */
export function dbOption<T>(y: Argv<T>) {
  return y.option("db", {
    type: "string",
    requiresArg: true,
    // a wrong scheme (postgress://, mysql://) is refused, naming the flag or the variable
    default: envDefault("db", checkStoreLocation) as string,
    coerce: (value: unknown) => checkStoreLocation(value, "--db"),
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

/** The options of commands that run tasks (run, serve). */
export function runtimeOptions<T>(y: Argv<T>) {
  return storeOptions(y)
    .option("workers", {
      ...numericSetting("workers", "workers", integerRule(1)),
      describe: "worker threads (MAX_WORKERS)",
    })
    .option("per-worker", {
      ...numericSetting("perWorker", "per-worker", integerRule(1)),
      describe: "attempts per thread at once (TASKS_PER_WORKER)",
    })
    .option("queue-size", {
      ...numericSetting("queueSize", "queue-size", integerRule(1)),
      describe: "bounded queue capacity (QUEUE_SIZE)",
    })
    .option("on-full", {
      choices: ["block", "reject"] as const,
      default: envDefault("onFull", (value, label) => {
        if (value === "block" || value === "reject") return value;
        throw new CliError(`${label} must be block or reject, got ${JSON.stringify(value)}`, 2);
      }) as "block" | "reject",
      describe: "when the queue is full (ON_FULL)",
    })
    .option("max-retries", {
      ...numericSetting("maxRetries", "max-retries", integerRule(1)),
      describe: "attempts in all before dead-lettering (MAX_RETRIES)",
    })
    .option("retry-base-ms", {
      ...numericSetting("retryBaseMs", "retry-base-ms", numberRule(0, 3_600_000)),
      describe: "backoff base, ms (RETRY_BASE_MS)",
    })
    .option("retry-max-ms", {
      ...numericSetting("retryMaxMs", "retry-max-ms", numberRule(0, 3_600_000)),
      describe: "largest backoff, ms (RETRY_MAX_MS)",
    })
    .option("task-timeout-ms", {
      ...numericSetting("taskTimeoutMs", "task-timeout-ms", numberRule(0, 86_400_000)),
      describe: "cancel an attempt after this long, 0 = never (TASK_TIMEOUT_MS)",
    })
    .option("base-latency-ms", {
      ...numericSetting("baseLatencyMs", "base-latency-ms", numberRule(0, 60_000)),
      describe: "simulated storage latency per request (BASE_LATENCY_MS)",
    })
    .option("jitter-ms", {
      ...numericSetting("jitterMs", "jitter-ms", numberRule(0, 60_000)),
      describe: "extra random storage latency (LATENCY_JITTER_MS)",
    })
    .option("error-rate", {
      ...numericSetting("errorRate", "error-rate", numberRule(0, 1)),
      describe: "probability an attempt fails, transient (ERROR_PROBABILITY)",
    })
    .option("seed", {
      ...numericSetting("seed", "seed", integerRule(0)),
      describe: "seed of the random draws (SEED)",
    })
    .option("chunk-size", {
      ...numericSetting("chunkSize", "chunk-size", integerRule(1)),
      describe: "bytes per streamed chunk (CHUNK_SIZE)",
    })
    .option("lease-ms", {
      ...numericSetting("leaseMs", "lease-ms", integerRule(1)),
      describe: "lease of a running task (LEASE_MS)",
    })
    .option("retention-ms", {
      ...numericSetting("retentionMs", "retention-ms", integerRule(0)),
      describe: "keep succeeded tasks (and dedupe their keys) this long, 0 = forever (RETENTION_MS)",
    })
    .option("shutdown-timeout-ms", {
      ...numericSetting("shutdownTimeoutMs", "shutdown-timeout-ms", integerRule(0)),
      describe: "drain limit on SIGINT/SIGTERM (SHUTDOWN_TIMEOUT_MS)",
    })
    .option("inline", {
      type: "boolean",
      default: false,
      describe: "run tasks on the main thread instead of worker threads",
    })
    .option("handler", {
      type: "string",
      describe:
        "your handler module (default export: async (payload, ctx) => result) instead of the built-in task types; tasks are then its payloads",
    });
}

/** Parsed runtime flags. */
export interface RuntimeArgs {
  db: string;
  storage: string;
  workers: number;
  "per-worker": number;
  "queue-size": number;
  "on-full": "block" | "reject";
  "max-retries": number;
  "retry-base-ms": number;
  "retry-max-ms": number;
  "task-timeout-ms": number;
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
  return {
    db: argv.db,
    storage: argv.storage,
    workers: argv.workers,
    perWorker: argv["per-worker"],
    queueSize: argv["queue-size"],
    onFull: argv["on-full"],
    maxRetries: argv["max-retries"],
    retryBaseMs: argv["retry-base-ms"],
    retryMaxMs: argv["retry-max-ms"],
    taskTimeoutMs: argv["task-timeout-ms"],
    baseLatencyMs: argv["base-latency-ms"],
    jitterMs: argv["jitter-ms"],
    errorRate: argv["error-rate"],
    seed: argv.seed,
    chunkSize: argv["chunk-size"],
    leaseMs: argv["lease-ms"],
    logLevel: String(envDefault("logLevel")),
    executor: argv.inline ? "inline" : "threads",
    ...(argv.handler === undefined ? {} : { handler: argv.handler }),
    retentionMs: argv["retention-ms"],
  };
}
