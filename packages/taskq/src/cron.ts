// Cron expressions for recurring tasks, parsed by croner: five fields (minute hour day month
// weekday), or six with seconds first (`*/2 * * * * *`: every two seconds), in UTC or an IANA time
// zone. Occurrences are computed here, from the store's clock; the store keeps the next one.
import { Cron } from "croner";
import { ConfigError } from "./errors.js";

/** A parsed cron expression in its time zone. */
export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string | null;
  /** The first occurrence strictly after `after` (epoch ms), or null when there is none. */
  next(after: number): number | null;
  /** The last occurrence at or before `at` (epoch ms), or null when there is none. */
  previous(at: number): number | null;
}

/** Checks a time zone the way the runtime will use it: one line naming it when unknown. */
function checkTimezone(timezone: string, option: string): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    throw new ConfigError(
      option,
      `${option} ${JSON.stringify(timezone)} is not a time zone (an IANA name such as "Europe/Berlin" or "UTC")`,
    );
  }
}

/**
 * Parses `expression` (five fields, or six with seconds first) in `timezone` (default UTC); a bad
 * expression or time zone is a ConfigError naming `option` and what was wrong.
 */
export function parseCron(expression: unknown, timezone: unknown = null, option = "cron"): CronSchedule {
  if (typeof expression !== "string" || expression.trim() === "")
    throw new ConfigError(
      option,
      `${option} must be a cron expression (five fields, or six with seconds first)`,
    );
  if (timezone !== null && (typeof timezone !== "string" || timezone === ""))
    throw new ConfigError(
      "timezone",
      `timezone must be an IANA time zone name, got ${JSON.stringify(timezone)}`,
    );
  if (timezone !== null) checkTimezone(timezone, "timezone");
  const fields = expression.trim().split(/\s+/).length;
  let cron: Cron;
  try {
    if (fields !== 5 && fields !== 6) throw new Error(`it has ${fields} fields`);
    cron = new Cron(expression.trim(), { paused: true, mode: "5-or-6-parts", timezone: timezone ?? "UTC" });
  } catch (error) {
    throw new ConfigError(
      option,
      `${option} ${JSON.stringify(expression)} is not a cron expression of five fields (or six with seconds first): ${(error as Error).message.replace(/^CronPattern: /, "")}`,
    );
  }
  return {
    expression: expression.trim(),
    timezone: timezone as string | null,
    next(after) {
      return cron.nextRun(new Date(after))?.getTime() ?? null;
    },
    previous(at) {
      // previousRuns looks strictly before its reference, truncated to the second: a second
      // later takes an occurrence at `at` itself in
      return cron.previousRuns(1, new Date(at + 1000))[0]?.getTime() ?? null;
    },
  };
}

/**
 * What a scheduler does with a schedule whose next occurrence `due` has come, at the store's time
 * `now`: fire the latest occurrence at or before `now` once (the ones missed before it, while no
 * worker ran, are skipped: `skipped` counts them), and move the schedule to the first occurrence
 * after `now`.
 */
export function occurrenceToFire(
  cron: CronSchedule,
  due: number,
  now: number,
): { readonly fire: number; readonly next: number | null; readonly skipped: number } {
  const latest = cron.previous(now);
  const fire = latest === null || latest < due ? due : latest;
  // `due` itself and those after it, before `fire`; counted up to 1000 (a second-by-second
  // schedule down for a day missed 86,400)
  let skipped = fire > due ? 1 : 0;
  for (let at = cron.next(due); at !== null && at < fire && skipped < 1000; at = cron.next(at)) skipped++;
  return { fire, next: cron.next(Math.max(now, fire)), skipped };
}
