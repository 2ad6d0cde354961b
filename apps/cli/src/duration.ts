// A duration as the CLI's options take it: an integer with a unit (500ms, 30s, 5m, 1h) or a bare
// integer of milliseconds. One home for every option that takes a time span.
import { CliError } from "taskq/app";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+)(ms|s|m|h)?$/;

/** A yargs `coerce` for `--flag`: the duration in ms (at least 1), or a one-line CliError naming it. */
export const durationOption =
  (flag: string) =>
  (value: unknown): number => {
    const match = DURATION.exec(String(value).trim());
    const ms = match ? Number(match[1]) * (UNITS[match[2] ?? "ms"] as number) : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms < 1)
      throw new CliError(
        `--${flag} must be a duration such as 500ms, 30s, 5m or 1h (a bare number is ms), got ${JSON.stringify(value)}`,
        2,
      );
    return ms;
  };

/** A duration in ms as the CLI prints it: the largest unit that divides it. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
