import {
  type BreakerInfo,
  type BreakerSettings,
  CliError,
  checkBreaker,
  checkKind,
  clientOf,
  openStore,
  redactUrl,
  SETTINGS,
  withExistingStore,
} from "taskq/app";
import type { Argv } from "yargs";
import { durationOption, formatDuration } from "../duration.js";
import { storeOption } from "../options.js";

interface BreakerArgs {
  action: "set" | "list" | "reset" | "remove";
  kind?: string;
  store: string;
  /** As given: a number, or the text that is not one (breakerOf's check refuses it). */
  failures?: number | string;
  window?: number;
  cooldown?: number;
  count?: string;
  ratio?: number | string;
  "min-attempts"?: number | string;
  json: boolean;
}

/** A breaker's state in a few words (monitor and `breaker list` print the same). */
export function breakerState(b: BreakerInfo, now: number): string {
  if (b.state === "closed") return `closed (${b.failuresInWindow}/${b.failures} failures in the window)`;
  if (b.state === "open")
    return `OPEN since ${new Date(b.openedAt ?? 0).toISOString()}, half-open in ${Math.ceil(Math.max(0, (b.halfOpenAt ?? now) - now) / 1000)} s`;
  return b.probeSeq === null
    ? "HALF-OPEN: the next take runs a probe"
    : `HALF-OPEN: probe ${b.probeSeq} running`;
}

/** One kind's breaker, its settings and its state, in one line. */
export function breakerLine(b: BreakerInfo, now: number): string {
  const counted =
    b.countErrors === "retryable"
      ? "retryable failures"
      : b.countErrors === "all"
        ? "failures of any class"
        : `failures of class ${b.countErrors.join(",")}`;
  const ratio =
    b.ratio === null ? "" : ` or ${Math.round(b.ratio * 100)}% of ${b.minAttempts} or more attempts`;
  return `${b.kind}  ${breakerState(b, now)}  opens after ${b.failures} ${counted}${ratio} in ${formatDuration(b.windowMs)}, cool-down ${formatDuration(b.cooldownMs)}`;
}

/** `--count`: retryable, all, or a comma-separated list of error classes. */
function countOf(value: string | undefined): "retryable" | "all" | string[] | undefined {
  if (value === undefined || value === "retryable" || value === "all") return value;
  return value.split(",").map((c) => c.trim());
}

/** A number flag as given: a number when it reads as one, else the text (the check says what is wrong). */
const numberOrText = (value: unknown): number | string => {
  const text = String(value).trim();
  return text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
};

/** The library's option names as the flags that set them. */
const FLAGS: Record<string, string> = {
  failures: "--failures",
  windowMs: "--window",
  cooldownMs: "--cooldown",
  countErrors: "--count",
  ratio: "--ratio",
  minAttempts: "--min-attempts",
};
const OPTION_NAMES = new RegExp(`\\b(${Object.keys(FLAGS).join("|")})\\b`, "g");

/**
 * The breaker the flags give, checked by the library's own check (setBreaker's: one home for the
 * rules) before the store is opened; a bad value is one line naming the flag (exit 2).
 */
function breakerOf(argv: BreakerArgs): BreakerSettings {
  const count = countOf(argv.count);
  const settings = {
    failures: argv.failures,
    ...(argv.window === undefined ? {} : { windowMs: argv.window }),
    ...(argv.cooldown === undefined ? {} : { cooldownMs: argv.cooldown }),
    ...(count === undefined ? {} : { countErrors: count }),
    ...(argv.ratio === undefined ? {} : { ratio: argv.ratio }),
    ...(argv["min-attempts"] === undefined ? {} : { minAttempts: argv["min-attempts"] }),
  } as BreakerSettings;
  try {
    return checkBreaker(settings);
  } catch (error) {
    const e = error as { code?: string; option?: string; message?: string };
    if (e.code !== "ERR_INVALID_INPUT" && e.option === undefined) throw error;
    throw new CliError(
      String(e.message).replace(OPTION_NAMES, (name) => FLAGS[name] as string),
      2,
      {
        cause: error,
      },
    );
  }
}

export const breakerCommand = {
  command: "breaker <action> [kind]",
  describe: "Circuit breakers per kind across every worker on the store: set, list, reset, remove",
  builder: (y: Argv) =>
    storeOption(y)
      .positional("action", { choices: ["set", "list", "reset", "remove"] as const, demandOption: true })
      .positional("kind", { type: "string", describe: "the kind (not for list)" })
      .option("failures", {
        requiresArg: true,
        coerce: numberOrText,
        describe: "open after N counted failures within --window",
      })
      .option("window", {
        requiresArg: true,
        coerce: durationOption("window"),
        describe: "the window failures are counted in (500ms, 30s, 5m, 1h) [default: 60s]",
      })
      .option("cooldown", {
        requiresArg: true,
        coerce: durationOption("cooldown"),
        describe: "how long it stays open before one probe runs [default: 30s]",
      })
      .option("count", {
        type: "string",
        requiresArg: true,
        describe: "which failures count: retryable, all, or error classes a,b [default: retryable]",
      })
      .option("ratio", {
        requiresArg: true,
        coerce: numberOrText,
        describe: "also open when this share of the window's ended attempts failed (0.5: half)",
      })
      .option("min-attempts", {
        requiresArg: true,
        coerce: numberOrText,
        describe: "the fewest ended attempts in the window before --ratio may open it [default: 20]",
      })
      .option("json", { type: "boolean", default: false, describe: "print JSON (list)" })
      .check((argv) => {
        if (argv.action !== "list" && argv.kind === undefined)
          throw new CliError(`breaker ${argv.action} needs a KIND`, 2);
        if (argv.action === "set" && argv.failures === undefined)
          throw new CliError("breaker set needs --failures N", 2);
        if (
          argv.action !== "set" &&
          (argv.failures ??
            argv.window ??
            argv.cooldown ??
            argv.count ??
            argv.ratio ??
            argv["min-attempts"]) !== undefined
        )
          throw new CliError(
            "--failures, --window, --cooldown, --count, --ratio and --min-attempts go with breaker set",
            2,
          );
        return true;
      })
      .example(
        "taskq breaker set email --failures 5 --window 60s --cooldown 30s",
        "5 retryable failures of email tasks within a minute hold them queued for 30 s, then one probe runs",
      )
      .example("taskq breaker list", "every breaker: closed, open or half-open")
      .example("taskq breaker reset email", "close it now: the workers take the queued emails again"),
  handler: async (argv: BreakerArgs) => {
    if (argv.kind !== undefined) checkKind(argv.kind, "kind");
    const kind = argv.kind as string;
    if (argv.action === "set") {
      const breaker = breakerOf(argv);
      // the store is made if it does not exist yet, as `limits set` and submit do
      const store = await openStore({
        store: argv.store,
        attempts: SETTINGS.attempts.default,
        leaseMs: SETTINGS.leaseMs.default,
      });
      try {
        const client = clientOf(store, { owned: false });
        await client.setBreaker(kind, breaker);
        const [set] = (await client.breakers()).filter((b) => b.kind === kind);
        console.log(
          `breaker set in ${redactUrl(store.location)}: ${set ? breakerLine(set, await store.now()) : kind}`,
        );
      } finally {
        await store.close();
      }
      return;
    }
    await withExistingStore(argv.store, async (store) => {
      const client = clientOf(store, { owned: false });
      if (argv.action === "reset") {
        const changed = await client.resetBreaker(kind);
        console.log(
          changed
            ? `${kind}: breaker closed; the workers take its tasks again`
            : `${kind}: the breaker was not open`,
        );
        return;
      }
      if (argv.action === "remove") {
        const had = (await client.breakers()).some((b) => b.kind === kind);
        await client.setBreaker(kind, null);
        console.log(had ? `${kind}: breaker removed` : `${kind} had no breaker`);
        return;
      }
      const breakers = await client.breakers();
      const now = await store.now();
      if (argv.json) console.log(JSON.stringify(breakers, null, 2));
      else if (breakers.length === 0) console.log(`no breakers in ${redactUrl(store.location)}`);
      else for (const b of breakers) console.log(breakerLine(b, now));
    });
  },
};
