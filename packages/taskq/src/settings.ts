// Every setting of taskq in one table: its name (the library option; the CLI flag is its
// kebab-case form), its environment variable, its built-in default and a line of help. The
// library's options (options.ts), the CLI's flags, the environment, .env and .env.example all
// read it; the defaults live nowhere else. Names used before this table existed still work for
// now, with a one-line deprecation notice naming the new one.
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseEnv } from "node:util";
import { checkCorrelationId, checkGroup, DEFAULT_ATTEMPTS, DEFAULT_LEASE_MS } from "@taskq/idempotency";
import { parseLogLevel } from "@taskq/metrics";
import { DEFAULT_CHUNK_SIZE } from "@taskq/storage-sim";
import { CliError } from "./app-errors.js";

/** A week: how long a succeeded task's record (and the deduplication of its key) is kept by default. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

interface Setting {
  /** The environment variable (and .env key). */
  readonly env: string;
  readonly default: string | number;
  readonly help: string;
  /** What .env.example shows when the default depends on the machine. @default String(default) */
  readonly example?: string;
  /** The names it had before: they still work, with a deprecation notice. */
  readonly was?: { readonly flag: string; readonly env: string };
  /**
   * A variable of a convention outside taskq, read (without a notice) when neither the setting's
   * own variable nor its old one is set: `DATABASE_URL`, which hosts such as Heroku set themselves.
   */
  readonly convention?: string;
}

/**
 * Every setting by name (`SETTINGS.threads.default`...), with its environment key and built-in
 * default (also listed in .env.example).
 */
export const SETTINGS = {
  threads: {
    env: "THREADS",
    default: availableParallelism(),
    example: "",
    help: "threads that run tasks; 0 runs them on the main thread (default: the number of cores)",
    was: { flag: "workers", env: "MAX_WORKERS" },
  },
  concurrency: {
    env: "CONCURRENCY",
    default: 16,
    help: "attempts one thread runs at once (I/O waits overlap)",
    was: { flag: "per-worker", env: "TASKS_PER_WORKER" },
  },
  queueSize: { env: "QUEUE_SIZE", default: 200, help: "bounded queue capacity" },
  onFull: { env: "ON_FULL", default: "block", help: "when the queue is full: block or reject" },
  attempts: {
    env: "ATTEMPTS",
    default: DEFAULT_ATTEMPTS,
    help: "attempts in all, the first included, before a task is dead-lettered",
    was: { flag: "max-retries", env: "MAX_RETRIES" },
  },
  backoffBaseMs: {
    env: "BACKOFF_BASE_MS",
    default: 100,
    help: "retry backoff base, ms: attempt n waits a random time up to base x 2^(n-1)",
    was: { flag: "retry-base-ms", env: "RETRY_BASE_MS" },
  },
  backoffMaxMs: {
    env: "BACKOFF_MAX_MS",
    default: 10_000,
    help: "largest retry backoff, ms",
    was: { flag: "retry-max-ms", env: "RETRY_MAX_MS" },
  },
  timeoutMs: {
    env: "TIMEOUT_MS",
    default: 0,
    help: "abort an attempt (ctx.signal) after this many ms, a retryable timeout (0: never)",
    was: { flag: "task-timeout-ms", env: "TASK_TIMEOUT_MS" },
  },
  leaseMs: {
    env: "LEASE_MS",
    default: DEFAULT_LEASE_MS,
    help: "lease of a running task without a heartbeat, ms: after a crash, another process takes it over",
  },
  retentionMs: {
    env: "RETENTION_MS",
    default: DEFAULT_RETENTION_MS,
    help: "keep a succeeded task's record (and dedupe its key) this long, ms; 0 = forever",
  },
  clients: { env: "CLIENTS", default: 100, help: "concurrent closed-loop clients" },
  baseLatencyMs: { env: "BASE_LATENCY_MS", default: 30, help: "simulated latency per storage request, ms" },
  jitterMs: { env: "LATENCY_JITTER_MS", default: 0, help: "extra random latency per request, ms" },
  errorRate: { env: "ERROR_PROBABILITY", default: 0, help: "probability an attempt fails (transient)" },
  seed: { env: "SEED", default: 1, help: "seed of every random draw" },
  store: {
    env: "TASKQ_STORE",
    default: ".taskq/tasks.db",
    help: "task store: a SQLite file, :memory: or a postgres:// URL (when TASKQ_STORE is unset, DATABASE_URL)",
    was: { flag: "db", env: "IDEMPOTENCY_DB_PATH" },
    convention: "DATABASE_URL",
  },
  storage: { env: "STORAGE_DIR", default: ".taskq/objects", help: "object store directory" },
  chunkSize: { env: "CHUNK_SIZE", default: DEFAULT_CHUNK_SIZE, help: "bytes per streamed chunk" },
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
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** A setting's CLI flag: its name in kebab case (`backoffBaseMs` → `backoff-base-ms`). */
export function flagOf(name: SettingName): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The settings that had other names, as [name, old flag, old variable]. */
export const RENAMED: readonly (readonly [SettingName, string, string])[] = Object.entries(SETTINGS).flatMap(
  ([name, setting]) =>
    "was" in setting ? [[name as SettingName, setting.was.flag, setting.was.env] as const] : [],
);

const noticed = new Set<string>();

/** Prints a one-line deprecation notice once per old name (to stderr: stdout stays the output). */
export function deprecationNotice(old: string, now: string): void {
  if (noticed.has(old)) return;
  noticed.add(old);
  process.stderr.write(`taskq: ${old} is deprecated, use ${now}\n`);
}

/** The variables `loadDotEnv` took from `.env` (not set in the real environment): errors say so. */
const fromDotEnv = new Set<string>();

/**
 * Loads `.env` from the working directory when present (as `process.loadEnvFile` does: the real
 * environment wins). One that cannot be read is a usage error naming it and why, never its text
 * (it may hold a password).
 */
export function loadDotEnv(path = ".env"): void {
  if (!existsSync(path)) return;
  let values: Record<string, string | undefined>;
  try {
    values = parseEnv(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "EISDIR"
        ? "it is a directory"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "ENOTDIR"
            ? "not a file"
            : "it is not a file of KEY=value lines";
    throw new CliError(`cannot read ${path}: ${why}`, 2);
  }
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] !== undefined || value === undefined) continue;
    process.env[key] = value;
    fromDotEnv.add(key);
  }
}

/**
 * A check of a setting's value, from a flag or the environment: the value to use, or a CliError
 * (or ConfigError) whose message starts with `label` (`--threads`, `THREADS`).
 */
export type SettingRule<T = unknown> = (value: unknown, label: string) => T;

/** Which variable holds a setting, and its text: its own, the one it had before, or its convention's. */
function rawEnv(name: SettingName): { readonly key: string; readonly raw: string } | undefined {
  const setting: Setting = SETTINGS[name];
  const keys = [
    setting.env,
    ...(setting.was ? [setting.was.env] : []),
    ...(setting.convention ? [setting.convention] : []),
  ];
  for (const key of keys) {
    const raw = process.env[key];
    if (raw !== undefined && raw !== "") return { key, raw };
  }
  return undefined;
}

/**
 * A setting's default: the environment (or .env) when set, else the built-in one. With a rule, the
 * variable's value is checked by it; a bad value is a usage error naming the variable and where
 * it came from: `THREADS must be an integer >= 1, got "-3" (from .env)`.
 */
export function envDefault(name: SettingName, rule?: SettingRule): string | number {
  const setting: Setting = SETTINGS[name];
  const found = rawEnv(name);
  if (found === undefined) return setting.default;
  const { key, raw } = found;
  let value: string | number;
  try {
    if (rule) value = rule(raw, key) as string | number;
    else if (typeof setting.default === "number") {
      value = Number(raw);
      if (!Number.isFinite(value))
        throw new CliError(`${key} must be a number, got ${JSON.stringify(raw)}`, 2);
    } else value = name === "logLevel" ? parseLogLevel(raw) : raw;
  } catch (error) {
    const from = fromDotEnv.has(key) ? ".env" : "the environment";
    throw new CliError(`${(error as Error).message} (from ${from})`, 2, { cause: error });
  }
  // a bad value's error is the one line; a good value under an old name gets the notice (not
  // one under a convention's name: taskq did not choose it, and a host may set it for the user)
  if (setting.was && key === setting.was.env) deprecationNotice(key, setting.env);
  return value;
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

/** As integerAtLeast, or one word besides (`--prefetch auto`); its error names both forms. */
export function integerAtLeastOr<W extends string>(flag: string, min: number, word: W) {
  return (value: unknown): number | W => {
    if (value === word) return word;
    const n = toNumber(value);
    if (!Number.isInteger(n) || n < min)
      throw new CliError(`--${flag} must be ${word} or an integer >= ${min}, got ${shown(value)}`, 2);
    return n;
  };
}

/** A yargs coercer of a correlation id (`--correlation-id`): the store's rule, the flag named. */
export function correlationIdFlag(flag: string) {
  return (value: unknown): string => {
    try {
      return checkCorrelationId(typeof value === "number" ? String(value) : value, `--${flag}`);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  };
}

/** A yargs coercer of a task's group (`--group`): the store's rule, the flag named. */
export function groupFlag(flag: string) {
  return (value: unknown): string => {
    try {
      return checkGroup(typeof value === "number" ? String(value) : value, `--${flag}`);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  };
}

export function numberBetween(flag: string, min: number, max: number) {
  const rule = numberRule(min, max);
  return (value: unknown): number => rule(value, `--${flag}`);
}
