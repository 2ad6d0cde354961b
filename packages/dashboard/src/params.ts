import { KIND_PATTERN, MAX_PAGE, TASK_STATUSES, type TaskStatus } from "@taskq/idempotency";
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

/** A tag to filter by (as the store checks one: 1 to 100 printable characters), or undefined. */
export function tag(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (raw.length > 100 || /[\u0000-\u001f\u007f]/.test(raw))
    throw new DashboardHttpError(400, "tag must be 1 to 100 printable characters");
  return raw;
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
