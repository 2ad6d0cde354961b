import type { RuntimeConfig } from "taskq/app";
import { envDefault, integerAtLeast, numberBetween } from "taskq/app";
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

/** The options of commands that run tasks (run, serve). */
export function runtimeOptions<T>(y: Argv<T>) {
  return storeOptions(y)
    .option("workers", {
      type: "number",
      default: envDefault("workers"),
      coerce: integerAtLeast("workers", 1),
      describe: "worker threads (MAX_WORKERS)",
    })
    .option("per-worker", {
      type: "number",
      default: envDefault("perWorker"),
      coerce: integerAtLeast("per-worker", 1),
      describe: "attempts per thread at once (TASKS_PER_WORKER)",
    })
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
    })
    .option("max-retries", {
      type: "number",
      default: envDefault("maxRetries"),
      coerce: integerAtLeast("max-retries", 1),
      describe: "attempts in all before dead-lettering (MAX_RETRIES)",
    })
    .option("retry-base-ms", {
      type: "number",
      default: envDefault("retryBaseMs"),
      coerce: numberBetween("retry-base-ms", 0, 3_600_000),
      describe: "backoff base, ms (RETRY_BASE_MS)",
    })
    .option("retry-max-ms", {
      type: "number",
      default: envDefault("retryMaxMs"),
      coerce: numberBetween("retry-max-ms", 0, 3_600_000),
      describe: "largest backoff, ms (RETRY_MAX_MS)",
    })
    .option("task-timeout-ms", {
      type: "number",
      default: envDefault("taskTimeoutMs"),
      coerce: numberBetween("task-timeout-ms", 0, 86_400_000),
      describe: "cancel an attempt after this long, 0 = never (TASK_TIMEOUT_MS)",
    })
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
