import {
  CliError,
  checkKind,
  checkStoreLocation,
  deprecationNotice,
  envDefault,
  flagOf,
  integerRule,
  kindOfModule,
  numberRule,
  RENAMED,
  type RuntimeConfig,
  redactUrl,
  resolveRunOptions,
  SETTINGS,
  type SettingName,
  type SettingRule,
} from "taskq/app";
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

/** What `--store-env` takes: the name of an environment variable. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Where the task store is, once the flags are parsed: `--store URL`, or `--store-env NAME` (the
 * URL read from the variable NAME, set in the environment or in .env: no password on the command
 * line, where `ps` shows it to every user), or else the settings' variables (TASKQ_STORE, then
 * DATABASE_URL, each from the environment or .env), or else .taskq/tasks.db. Sets `argv.store`;
 * a mistake is one line naming the flag or the variable, its password masked.
 */
function resolveStore(argv: Record<string, unknown>): void {
  const name = argv["store-env"];
  if (name === undefined) {
    // read (and checked, an old name noticed) even beside --store, as every setting's variable is
    const fromVariables = envDefault("store", checkStoreLocation);
    if (argv.store === undefined) argv.store = fromVariables;
    return;
  }
  if (argv.store !== undefined) throw new CliError("--store and --store-env: give one", 2);
  // a URL given here by mistake is not echoed with its password
  if (typeof name !== "string" || !VARIABLE_NAME.test(name))
    throw new CliError(
      `--store-env takes the name of an environment variable (letters, digits and _), got ${redactUrl(String(name))}`,
      2,
    );
  const value = process.env[name];
  if (value === undefined || value === "")
    throw new CliError(`--store-env: ${name} is not set (neither in the environment nor in .env)`, 2);
  argv.store = checkStoreLocation(value, `--store-env ${name}`);
}

/**
 * The `--store` option: where the task store is (`TASKQ_STORE`, or the host's `DATABASE_URL`),
 * and `--store-env NAME`, the variable to read it from instead (see resolveStore). Its old name
 * `--db` still works, with the notice, and sets `argv.store`.
 */
export function storeOption<T>(y: Argv<T>) {
  return renamedFlag(
    y
      .option("store", {
        type: "string",
        requiresArg: true,
        // no default here: resolveStore reads the variables when neither flag is given; a wrong
        // scheme (postgress://, mysql://) is refused, naming the flag or the variable
        coerce: (value: unknown) => checkStoreLocation(value, "--store"),
        defaultDescription: "TASKQ_STORE, DATABASE_URL or .taskq/tasks.db",
        describe:
          "task store: a SQLite file, :memory: or a postgres://user:pass@host:port/db URL (a password given here is shown by ps to every user of the machine: use --store-env, or TASKQ_STORE in .env)",
      })
      .option("store-env", {
        type: "string",
        requiresArg: true,
        describe:
          "read the task store's URL from this environment variable (set in the environment or in .env), keeping its password off the command line",
      }),
    "store",
    checkStoreLocation,
    { type: "string" },
  ).middleware(resolveStore, true) as Argv<T & { store: string }>;
}

/** The store options every command that opens the store takes. */
export function storeOptions<T>(y: Argv<T>) {
  return storeOption(y).option("storage", {
    type: "string",
    default: envDefault("storage") as string,
    describe: "object store directory (STORAGE_DIR)",
  });
}

/** How each run setting's value is checked (its flag's, its old flag's, its variables'). */
const CHECKS = {
  threads: integerRule(1),
  concurrency: integerRule(1),
  attempts: integerRule(1),
  backoffBaseMs: numberRule(0, 3_600_000),
  backoffMaxMs: numberRule(0, 3_600_000),
  timeoutMs: numberRule(0, 86_400_000),
} as const satisfies Partial<Record<SettingName, SettingRule<number>>>;

/** A run setting's flag: its name in kebab case, its default from the environment (or .env). */
function settingOption<T>(y: Argv<T>, name: keyof typeof CHECKS, defaultDescription?: string) {
  const setting = SETTINGS[name];
  return y.option(flagOf(name), {
    ...numericSetting(name, flagOf(name), CHECKS[name]),
    ...(defaultDescription ? { defaultDescription } : {}),
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
    });
  return settingOption(
    settingOption(settingOption(settingOption(withQueue, "attempts"), "backoffBaseMs"), "backoffMaxMs"),
    "timeoutMs",
  ) as unknown as Argv<T & RunSettingArgs>;
}

/**
 * A setting's flag under the name it had before (`--workers`, `--db`...): hidden, still taken and
 * checked by the setting's rule (an error names the old flag), with a one-line deprecation notice
 * naming the new flag, whose value it sets: commands read the new flag's key only.
 */
function renamedFlag<T>(y: Argv<T>, name: SettingName, rule: SettingRule, extra: { type?: "string" } = {}) {
  const was = (SETTINGS[name] as { was?: { flag: string } }).was;
  if (!was) throw new TypeError(`setting ${name} had no other name`);
  const old = was.flag;
  const now = flagOf(name);
  return y
    .option(old, {
      ...extra,
      hidden: true,
      requiresArg: true,
      coerce: (value: unknown) => rule(value, `--${old}`),
    })
    .middleware((argv: Record<string, unknown>) => {
      if (argv[old] === undefined) return;
      deprecationNotice(`--${old}`, `--${now}`);
      argv[now] = argv[old];
    }, true);
}

/** The flags the run settings had before (`--workers`, `--max-retries`...), each as `renamedFlag`. */
export function renamedFlags<T>(y: Argv<T>, only?: readonly (keyof typeof CHECKS)[]) {
  let out = y;
  for (const [name] of RENAMED) {
    if (!(name in CHECKS) || (only && !only.includes(name as keyof typeof CHECKS))) continue;
    out = renamedFlag(out, name, CHECKS[name as keyof typeof CHECKS]);
  }
  return out;
}

/** The options of commands that run tasks (run, serve). */
export function runtimeOptions<T>(y: Argv<T>) {
  return renamedFlags(runSettingOptions(storeOptions(y)))
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
      describe: "run tasks on the main thread instead of threads (threads x concurrency at once)",
    })
    .option("handler", {
      type: "string",
      array: true,
      requiresArg: true,
      describe:
        "KIND=FILE: your handler module for tasks of KIND (default export: async (payload, ctx) => result), instead of the built-in task types; repeat it for more kinds; FILE alone names the kind after the file",
    });
}

/**
 * The `--handler` values as handler modules by kind: `KIND=FILE`, or `FILE` alone, whose kind is
 * its file name (said on stderr, so nobody is surprised which tasks it takes).
 */
export function handlersOf(
  values: readonly string[] | undefined,
  command: string,
): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const modules: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    const named = at > 0 && !value.slice(0, at).includes("/");
    const kind = named ? checkKind(value.slice(0, at), "--handler KIND") : kindOfModule(value, "--handler");
    const file = named ? value.slice(at + 1) : value;
    if (!named && command === "serve")
      process.stderr.write(
        `taskq ${command}: serving kind "${kind}" from ${file} (name it: --handler ${kind}=${file})\n`,
      );
    if (kind in modules) throw new CliError(`--handler: kind "${kind}" is given twice`, 2);
    modules[kind] = file;
  }
  return modules;
}

/** Parsed runtime flags. */
export interface RuntimeArgs extends RunSettingArgs {
  store: string;
  storage: string;
  "base-latency-ms": number;
  "jitter-ms": number;
  "error-rate": number;
  seed: number;
  "chunk-size": number;
  "lease-ms": number;
  inline: boolean;
  handler?: string[];
  "retention-ms": number;
}

export function toRuntimeConfig(argv: RuntimeArgs, command: string): RuntimeConfig {
  const handlers = handlersOf(argv.handler, command);
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
    store: argv.store,
    storage: argv.storage,
    chunkSize: argv["chunk-size"],
    baseLatencyMs: argv["base-latency-ms"],
    jitterMs: argv["jitter-ms"],
    errorRate: argv["error-rate"],
    seed: argv.seed,
    ...(handlers === undefined ? {} : { handlers }),
  };
}
