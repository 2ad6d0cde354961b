import { createHash } from "node:crypto";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      sorted[key] = canonical((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}

/** The default idempotency key: `sha256:` and the hex SHA-256 of the payload's JSON with sorted keys. */
export function stableKey(payload: unknown): string {
  return `sha256:${createHash("sha256")
    .update(JSON.stringify(canonical(payload)) ?? "null")
    .digest("hex")}`;
}
