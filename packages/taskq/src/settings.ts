import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
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

/** The variables `loadDotEnv` took from `.env` (not set in the real environment): errors say so. */
const fromDotEnv = new Set<string>();

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = ".env"): void {
  if (!existsSync(path)) return;
  try {
    const before = new Set(Object.keys(process.env));
    process.loadEnvFile(path);
    for (const key of Object.keys(parseEnv(readFileSync(path, "utf8"))))
      if (!before.has(key)) fromDotEnv.add(key);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, 2);
  }
}

/**
 * A check of a setting's value, from a flag or the environment: the value to use, or a CliError
 * (or ConfigError) whose message starts with `label` (`--workers`, `MAX_WORKERS`).
 */
export type SettingRule<T = unknown> = (value: unknown, label: string) => T;

/**
 * A setting's default: the environment (or .env) when set, else the built-in one. With a rule, the
 * variable's value is checked by it; a bad value is a usage error naming the variable and where
 * it came from: `MAX_WORKERS must be an integer >= 1, got "-3" (from .env)`.
 */
export function envDefault(name: SettingName, rule?: SettingRule): string | number {
  const setting = SETTINGS[name];
  // the task store also answers to DATABASE_URL, the name hosted PostgreSQL services set
  const key = !process.env[setting.env] && name === "db" ? "DATABASE_URL" : setting.env;
  const raw = process.env[key];
  if (raw === undefined || raw === "") return setting.default;
  try {
    if (rule) return rule(raw, key) as string | number;
    if (typeof setting.default === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new CliError(`${key} must be a number, got ${JSON.stringify(raw)}`, 2);
      return n;
    }
    return name === "logLevel" ? parseLogLevel(raw) : raw;
  } catch (error) {
    const from = fromDotEnv.has(key) ? ".env" : "the environment";
    throw new CliError(`${(error as Error).message} (from ${from})`, 2, { cause: error });
  }
}

/** A value as the user typed it, for an error message. */
function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/** A flag's or variable's text as a number: NaN for anything but a number or numeric text. */
function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  return typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
}

/** The rule of an integer setting: at least `min`. */
export function integerRule(min: number): SettingRule<number> {
  return (value, label) => {
    const n = toNumber(value);
    if (!Number.isInteger(n) || n < min)
      throw new CliError(`${label} must be an integer >= ${min}, got ${shown(value)}`, 2);
    return n;
  };
}

/** The rule of a number setting: from `min` to `max`. */
export function numberRule(min: number, max: number): SettingRule<number> {
  return (value, label) => {
    const n = toNumber(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new CliError(`${label} must be a number from ${min} to ${max}, got ${shown(value)}`, 2);
    return n;
  };
}

/** yargs coercers that name the flag in their error, with the value as typed. */
export function integerAtLeast(flag: string, min: number) {
  const rule = integerRule(min);
  return (value: unknown): number => rule(value, `--${flag}`);
}

export function numberBetween(flag: string, min: number, max: number) {
  const rule = numberRule(min, max);
  return (value: unknown): number => rule(value, `--${flag}`);
}
