/** Display helpers shared by the pages: every value they return is text, escaped by `html`. */
import { duration } from "taskq/app";

export function count(n: number, capped = false): string {
  return `${n.toLocaleString("en-US")}${capped ? "+" : ""}`;
}

/** A time to the millisecond, in UTC: `2026-12-07 05:08:11.042Z` ("" for none). */
export function time(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "" : new Date(ms).toISOString().replace("T", " ");
}

/** A span to the millisecond, and in words beside it when that is shorter: `12,345 ms (12.3 s)`. */
export function exactDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  const exact = `${Math.round(ms).toLocaleString("en-US")} ms`;
  return Math.abs(ms) < 1000 ? exact : `${exact} (${duration(ms)})`;
}

/** The task view's one formatter of a span of time (taskq/app). */
export { duration };

export function json(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}
