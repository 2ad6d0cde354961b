/** Display helpers shared by the pages: every value they return is text, escaped by `html`. */

export function count(n: number, capped = false): string {
  return `${n.toLocaleString("en-US")}${capped ? "+" : ""}`;
}

export function time(ms: number | null | undefined): string {
  return ms === null || ms === undefined
    ? ""
    : new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
}

/** The task view's one formatter of a span of time (taskq/app). */
export { duration } from "taskq/app";

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
