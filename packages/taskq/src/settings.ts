import { existsSync } from "node:fs";
import { parseLogLevel } from "@taskq/metrics";
import { DEFAULT_CHUNK_SIZE } from "@taskq/storage-sim";
import { CliError } from "./app-errors.js";

/** Every setting, with its environment key and built-in default (also listed in .env.example). */
export const SETTINGS = {
  workers: { env: "MAX_WORKERS", default: 4, help: "worker threads" },
  perWorker: { env: "TASKS_PER_WORKER", default: 16, help: "attempts one thread runs at once (I/O overlap)" },
  queueSize: { env: "QUEUE_SIZE", default: 200, help: "bounded queue capacity" },
  onFull: { env: "ON_FULL", default: "block", help: "when the queue is full: block or reject" },
  maxRetries: { env: "MAX_RETRIES", default: 3, help: "attempts in all before a task is dead-lettered" },
  retryBaseMs: { env: "RETRY_BASE_MS", default: 100, help: "backoff base in ms (full jitter, doubling)" },
  retryMaxMs: { env: "RETRY_MAX_MS", default: 10_000, help: "largest backoff in ms" },
  taskTimeoutMs: {
    env: "TASK_TIMEOUT_MS",
    default: 0,
    help: "cancel an attempt after this many ms (0: never)",
  },
  clients: { env: "CLIENTS", default: 100, help: "concurrent closed-loop clients" },
  baseLatencyMs: { env: "BASE_LATENCY_MS", default: 30, help: "simulated latency per storage request, ms" },
  jitterMs: { env: "LATENCY_JITTER_MS", default: 0, help: "extra random latency per request, ms" },
  errorRate: { env: "ERROR_PROBABILITY", default: 0, help: "probability an attempt fails (transient)" },
  seed: { env: "SEED", default: 1, help: "seed of every random draw" },
  db: {
    env: "IDEMPOTENCY_DB_PATH",
    default: ".taskq/tasks.db",
    help: "task store: a SQLite file or a postgres:// URL (DATABASE_URL also works)",
  },
  storage: { env: "STORAGE_DIR", default: ".taskq/objects", help: "object store directory" },
  chunkSize: { env: "CHUNK_SIZE", default: DEFAULT_CHUNK_SIZE, help: "bytes per streamed chunk" },
  leaseMs: { env: "LEASE_MS", default: 30_000, help: "lease of a running task without heartbeat, ms" },
  retentionMs: {
    env: "RETENTION_MS",
    default: 604_800_000,
    help: "keep a succeeded task's record (and dedupe its key) this long, ms; 0 = forever",
  },
  shutdownTimeoutMs: {
    env: "SHUTDOWN_TIMEOUT_MS",
    default: 10_000,
    help: "graceful shutdown drain limit, ms",
  },
  benchmarkTaskCount: {
    env: "BENCHMARK_TASK_COUNT",
    default: 1000,
    help: "tasks in the --benchmark workload",
  },
  logLevel: { env: "LOG_LEVEL", default: "warn", help: "trace, debug, info, warn, error, fatal, silent" },
} as const;

export type SettingName = keyof typeof SETTINGS;

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = ".env"): void {
  if (!existsSync(path)) return;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 2);
  }
}

/** A setting's default: the environment (or .env) when set, else the built-in one. */
export function envDefault(name: SettingName): string | number {
  const setting = SETTINGS[name];
  // the task store also answers to DATABASE_URL, the name hosted PostgreSQL services set
  const raw = process.env[setting.env] || (name === "db" ? process.env["DATABASE_URL"] : undefined);
  if (raw === undefined || raw === "") return setting.default;
  if (typeof setting.default === "number") {
    const n = Number(raw);
    if (!Number.isFinite(n))
      throw new CliError(`${setting.env} must be a number, got ${JSON.stringify(raw)}`, 2);
    return n;
  }
  return name === "logLevel" ? parseLogLevel(raw) : raw;
}

/** yargs coercers that name the flag in their error. */
export function integerAtLeast(flag: string, min: number) {
  return (value: unknown): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new CliError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`, 2);
    return n;
  };
}

export function numberBetween(flag: string, min: number, max: number) {
  return (value: unknown): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new CliError(`--${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, 2);
    }
    return n;
  };
}
