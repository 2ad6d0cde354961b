import {
  checkCorrelationId,
  checkGroup,
  KIND_PATTERN,
  MAX_PAGE,
  TASK_STATUSES,
  type TaskStatus,
} from "@taskq/idempotency";
import { DashboardHttpError } from "./http-error.js";

/** Request parameters, checked: a bad one is a 400 naming it. */

export function positiveInteger(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1)
    throw new DashboardHttpError(
      400,
      `${name} must be a positive integer, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return Number(raw);
}

export function pageSize(raw: string | undefined, fallback: number): number {
  const n = positiveInteger("limit", raw) ?? fallback;
  if (n > MAX_PAGE) throw new DashboardHttpError(400, `limit must be at most ${MAX_PAGE}, got ${n}`);
  return n;
}

export function status(raw: string | undefined): TaskStatus | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!(TASK_STATUSES as readonly string[]).includes(raw))
    throw new DashboardHttpError(
      400,
      `status must be one of ${TASK_STATUSES.join(", ")}, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return raw as TaskStatus;
}

export function kind(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!KIND_PATTERN.test(raw))
    throw new DashboardHttpError(
      400,
      `kind must be a task kind (letters, digits, _ . -), got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  return raw;
}

/** Whether a text holds a control character (NUL among them: PostgreSQL refuses it) or a lone surrogate. */
function unprintable(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  return /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(
    text,
  );
}

/** A tag to filter by (as the store checks one: 1 to 100 printable characters), or undefined. */
export function tag(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  if (raw.length > 100 || unprintable(raw))
    throw new DashboardHttpError(400, "tag must be 1 to 100 printable characters");
  return raw;
}

/** A correlation id to filter by (the store's rule: 1 to 200 printable ASCII characters, no space), or undefined. */
export function correlationId(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    return checkCorrelationId(raw, "correlation id");
  } catch {
    throw new DashboardHttpError(
      400,
      "correlation id must be 1 to 200 printable ASCII characters without spaces",
    );
  }
}

/** A group to filter by (the store's rule: 1 to 100 characters without control characters), or undefined. */
export function group(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  try {
    return checkGroup(raw, "group");
  } catch {
    throw new DashboardHttpError(400, "group must be 1 to 100 characters without control characters");
  }
}

/** The most characters a search may have. */
export const MAX_SEARCH = 512;

/** What the search box sent (a seq, a task id or an idempotency key), trimmed, or undefined. */
export function search(raw: string | undefined): string | undefined {
  const q = raw?.trim();
  if (q === undefined || q === "") return undefined;
  if (q.length > MAX_SEARCH)
    throw new DashboardHttpError(400, `the search text is longer than ${MAX_SEARCH} characters`);
  if (unprintable(q))
    throw new DashboardHttpError(400, "the search text must be printable characters (no control characters)");
  return q;
}

/** The `seq` fields of a form: task seqs, 1 to `max` of them. */
export function seqs(raw: unknown, max: number): number[] {
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
  if (values.length === 0) throw new DashboardHttpError(400, "no task selected (the form sends seq=N)");
  if (values.length > max)
    throw new DashboardHttpError(413, `at most ${max} tasks at once, got ${values.length}`);
  return values.map((v) => positiveInteger("seq", v) as number);
}

/** The most hours a form may say: a hundred years. */
const MAX_HOURS = 24 * 365 * 100;

export function hours(name: string, raw: unknown): number {
  const text = typeof raw === "string" ? raw.trim() : "";
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n > MAX_HOURS)
    throw new DashboardHttpError(
      400,
      `${name} must be a number of hours from 0 to ${MAX_HOURS}, got ${JSON.stringify(String(raw ?? "").slice(0, 40))}`,
    );
  return n;
}
