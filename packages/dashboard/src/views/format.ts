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

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

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
