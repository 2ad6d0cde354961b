import { StoreError } from "./errors.js";
import {
  type ClaimInput,
  type DeadLetterListQuery,
  type FinishedHistoryQuery,
  type ScheduleInput,
  TASK_STATUSES,
  type TaskListQuery,
  type TaskStatus,
} from "./types.js";

/** Longest idempotency key accepted, in characters. */
export const MAX_KEY_LENGTH = 1024;
/** Longest task id accepted, in characters. */
export const MAX_ID_LENGTH = 256;
/** Largest payload accepted, in bytes of JSON. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** An attempt's error stack kept at most, characters (the rest cut, and said so). */
export const MAX_STACK = 4096;

/** A stack as an attempt keeps it: at most MAX_STACK characters; null when there is none. */
export function boundedStack(stack: unknown): string | null {
  if (typeof stack !== "string" || stack.length === 0) return null;
  return stack.length <= MAX_STACK ? stack : `${stack.slice(0, MAX_STACK - 16)}\n… (cut)`;
}

export function invalid(message: string): never {
  throw new StoreError("ERR_INVALID_INPUT", message);
}

function checkText(name: string, value: unknown, max: number): asserts value is string {
  if (typeof value !== "string")
    invalid(`${name} must be a string, got ${value === null ? "null" : typeof value}`);
  if (value.length === 0) invalid(`${name} must not be empty`);
  if (value.length > max) invalid(`${name} is longer than ${max} characters (${value.length})`);
}

export function checkAttempts(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 100)
    invalid(`${name} must be an integer from 1 to 100, got ${value}`);
  return value;
}

export function checkLeaseMs(value: number): number {
  if (!Number.isInteger(value) || value < 1) invalid(`leaseMs must be a positive integer, got ${value}`);
  return value;
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) invalid(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/** What a kind may be: a short plain identifier. */
export const KIND_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** A task kind (or what else has its form, `what`), checked: refused with ERR_INVALID_INPUT naming it. */
export function checkKind(kind: unknown, what = "kind"): string {
  if (typeof kind !== "string" || !KIND_PATTERN.test(kind))
    invalid(
      `${what} must be a short plain identifier (letters, digits, _ . -; up to 64), got ${
        typeof kind === "string"
          ? JSON.stringify(kind.length > 100 ? `${kind.slice(0, 100)}…` : kind)
          : kind === null
            ? "null"
            : typeof kind
      }`,
    );
  return kind;
}

/** A list of kinds to take (takeNext): non-empty, each a kind. */
export function checkKinds(kinds: readonly string[]): readonly string[] {
  if (!Array.isArray(kinds) || kinds.length === 0) invalid("kinds must be a non-empty array of kinds");
  for (const kind of kinds) checkKind(kind);
  return kinds;
}

/** A schedule checked as every driver stores it: name, kind, payload and options as JSON text. */
export function checkSchedule(input: ScheduleInput): {
  readonly payload: string;
  readonly options: string;
} {
  checkKind(input.name, "schedule name");
  checkKind(input.kind);
  checkText("cron", input.cron, 256);
  if (input.timezone !== null) checkText("timezone", input.timezone, 64);
  if (!Number.isInteger(input.nextRunAt) || input.nextRunAt < 0)
    invalid(`nextRunAt must be a time (epoch ms), got ${input.nextRunAt}`);
  checkPriority(input.options.priority ?? 0);
  if (input.options.maxAttempts !== undefined) checkAttempts("maxAttempts", input.options.maxAttempts);
  return { payload: serialise(input.payload), options: JSON.stringify(input.options) };
}

/** A retention window (prune, purgeDeadLetters): any number of ms from 0. */
export function checkOlderThan(olderThanMs: number): number {
  if (!(olderThanMs >= 0)) invalid(`olderThanMs must be >= 0, got ${olderThanMs}`);
  return olderThanMs;
}

/** tryRunMaintenance's job name and interval. */
export function checkMaintenance(name: string, everyMs: number): void {
  checkText("name", name, MAX_ID_LENGTH);
  if (!Number.isInteger(everyMs) || everyMs < 1)
    invalid(`everyMs must be a positive integer, got ${everyMs}`);
}

function serialise(payload: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    invalid(`payload is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) invalid("payload is not JSON-serialisable (undefined or a function)");
  // a UTF-16 unit is at most 3 bytes of UTF-8: count bytes only for a long string
  if (json.length * 3 > MAX_PAYLOAD_BYTES && Buffer.byteLength(json) > MAX_PAYLOAD_BYTES)
    invalid(`payload is larger than ${MAX_PAYLOAD_BYTES} bytes as JSON`);
  return json;
}

/** A claim's fields checked, its payload as JSON text and its attempts resolved: what every driver stores. */
export interface CheckedClaim {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly kind: string;
  readonly payload: string;
  readonly maxAttempts: number;
  readonly start: boolean;
  readonly priority: number;
  /** When it is due (epoch ms), or null: `delayMs` from the store's clock. */
  readonly runAt: number | null;
  readonly delayMs: number;
  /** Its tags as a JSON array (duplicates dropped, order kept), or null without any. */
  readonly tags: string | null;
  /** Its correlation id, or null without one. */
  readonly correlationId: string | null;
  /** Its trace context as JSON ({"traceparent", "tracestate"?}), or null without one. */
  readonly traceContext: string | null;
  /** Its group, or null without one. */
  readonly group: string | null;
}

/** The longest group name, in characters. */
export const MAX_GROUP_LENGTH = 100;

/** A task's group: 1 to MAX_GROUP_LENGTH printable characters, named `name` in the error. */
export function checkGroup(value: unknown, name = "group"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_GROUP_LENGTH)
    invalid(`${name} must be a string of 1 to ${MAX_GROUP_LENGTH} characters, got ${shown(value)}`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(value)) invalid(`${name} ${shown(value)} must not contain control characters`);
  return value;
}

/** The longest correlation id, in characters. */
export const MAX_CORRELATION_ID_LENGTH = 200;

/**
 * A correlation id: 1 to MAX_CORRELATION_ID_LENGTH printable ASCII characters without spaces (it
 * goes on every log line and in URLs as it is), named `name` in the error.
 */
export function checkCorrelationId(value: unknown, name = "correlationId"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_CORRELATION_ID_LENGTH)
    invalid(`${name} must be a string of 1 to ${MAX_CORRELATION_ID_LENGTH} characters, got ${shown(value)}`);
  if (!/^[\x21-\x7e]+$/.test(value))
    invalid(`${name} ${shown(value)} must be printable ASCII without spaces`);
  return value;
}

/** The W3C traceparent: version, trace id, parent id, flags (lower-case hex). */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A W3C traceparent's trace id, parent (span) id and flags; null when `text` is not one. The one
 * reading of it: the store's check of a trace context and the tracer's remote span both use it.
 */
export function parseTraceparent(
  text: string,
): { readonly traceId: string; readonly spanId: string; readonly traceFlags: number } | null {
  const m = TRACEPARENT.exec(text);
  return m
    ? { traceId: m[1] as string, spanId: m[2] as string, traceFlags: Number.parseInt(m[3] as string, 16) }
    : null;
}

/** A trace context as stored: its traceparent checked, tracestate kept when it is a short string. */
function checkTraceContext(value: unknown): string | null {
  if (value === undefined) return null;
  const c = value as { traceparent?: unknown; tracestate?: unknown } | null;
  if (
    c === null ||
    typeof c !== "object" ||
    typeof c.traceparent !== "string" ||
    parseTraceparent(c.traceparent) === null
  )
    invalid(`traceContext must be { traceparent, tracestate? } with a W3C traceparent, got ${shown(value)}`);
  const state = typeof c.tracestate === "string" && c.tracestate.length <= 512 ? c.tracestate : undefined;
  return JSON.stringify(
    state === undefined ? { traceparent: c.traceparent } : { traceparent: c.traceparent, tracestate: state },
  );
}

/** Tags a task may carry. */
export const MAX_TAGS = 16;
/** The longest tag, in characters. */
export const MAX_TAG_LENGTH = 100;

/** One tag: a non-empty string of printable characters, at most MAX_TAG_LENGTH. */
export function checkTag(tag: unknown, name = "tag"): string {
  checkText(name, tag, MAX_TAG_LENGTH);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(tag)) invalid(`${name} ${shown(tag)} has a control character`);
  return tag;
}

/** A claim's tags as stored: a JSON array without duplicates, or null when there are none. */
function checkTags(tags: unknown): string | null {
  if (tags === undefined) return null;
  if (!Array.isArray(tags)) invalid(`tags must be an array of strings, got ${shown(tags)}`);
  if (tags.length > MAX_TAGS) invalid(`tags has ${tags.length} tags, more than ${MAX_TAGS}`);
  const unique = [...new Set(tags.map((tag, i) => checkTag(tag, `tags[${i}]`)))];
  return unique.length === 0 ? null : JSON.stringify(unique);
}

/** Largest |priority| accepted: PostgreSQL's integer. */
const MAX_PRIORITY = 2 ** 31 - 1;
/** Latest runAt accepted: the year 9999 (a Date's epoch ms beyond it is a mistake). */
const MAX_RUN_AT = 253_402_300_799_999;

function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY)
    invalid(`priority must be an integer from ${-MAX_PRIORITY} to ${MAX_PRIORITY}, got ${priority}`);
  return priority;
}

function checkTiming(input: ClaimInput): Pick<CheckedClaim, "priority" | "runAt" | "delayMs"> {
  const priority = checkPriority(input.priority ?? 0);
  const { runAt, delayMs } = input;
  if (runAt !== undefined && delayMs !== undefined) invalid("give runAt or delayMs, not both");
  if (runAt !== undefined && (!Number.isInteger(runAt) || runAt < 0 || runAt > MAX_RUN_AT))
    invalid(`runAt must be a time (epoch ms, an integer from 0), got ${runAt}`);
  if (delayMs !== undefined && (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_RUN_AT))
    invalid(`delayMs must be an integer >= 0, got ${delayMs}`);
  if (input.start === true && (runAt !== undefined || (delayMs ?? 0) > 0))
    invalid("a task started at once (start) cannot have a runAt or delayMs");
  return { priority, runAt: runAt ?? null, delayMs: delayMs ?? 0 };
}

/** Checks a claim the same way for every driver; throws ERR_INVALID_INPUT naming the field. */
export function checkClaim(input: ClaimInput, defaultAttempts: number): CheckedClaim {
  checkText("id", input.id, MAX_ID_LENGTH);
  checkText("idempotencyKey", input.idempotencyKey, MAX_KEY_LENGTH);
  const kind = checkKind(input.kind);
  return {
    id: input.id,
    idempotencyKey: input.idempotencyKey,
    kind,
    payload: serialise(input.payload),
    maxAttempts: checkAttempts("maxAttempts", input.maxAttempts ?? defaultAttempts),
    start: input.start === true,
    ...checkTiming(input),
    tags: checkTags(input.tags),
    correlationId: input.correlationId === undefined ? null : checkCorrelationId(input.correlationId),
    traceContext: checkTraceContext(input.traceContext),
    group: input.group === undefined ? null : checkGroup(input.group),
  };
}

/** An invalid task's payload as JSON text for its dead letter (null when it cannot be written). */
export function invalidPayload(payload: unknown): string | null {
  try {
    return JSON.stringify(payload ?? null).slice(0, MAX_PAYLOAD_BYTES);
  } catch {
    return null;
  }
}

/** Most rows statusCounts reads per status (its `cap`). */
export const MAX_COUNT_CAP = 1_000_000;
/** Most samples recentFinished returns. */
export const MAX_SAMPLES = 10_000;
/** Most records in one page of listTasks or listDeadLetters. */
export const MAX_PAGE = 500;
/** Most task seqs one redriveTasks call takes. */
export const MAX_REDRIVE = 1000;

function shown(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value.slice(0, 100))
    : value === null
      ? "null"
      : String(value);
}

/** An integer from `min` to `max`, named `name` in the error. */
function checkIntegerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    invalid(`${name} must be an integer from ${min} to ${max}, got ${shown(value)}`);
  return value;
}

/** A keyset bound (beforeSeq): a positive integer, or undefined (from the newest). */
function checkBeforeSeq(value: unknown): number {
  if (value === undefined) return Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
    invalid(`beforeSeq must be a positive integer, got ${shown(value)}`);
  return value;
}

function checkQuery(name: string, query: unknown): void {
  if (query === null || typeof query !== "object") invalid(`${name} must be an object, got ${shown(query)}`);
}

/** statusCounts' bound: rows read per status. */
export function checkCap(cap: number): number {
  return checkIntegerIn("cap", cap, 1, MAX_COUNT_CAP);
}

/** recentFinished's window start (epoch ms) and sample count. */
export function checkRecentFinished(sinceMs: number, sampleLimit: number): void {
  if (typeof sinceMs !== "number" || !Number.isSafeInteger(sinceMs) || sinceMs < 0)
    invalid(`sinceMs must be a time (epoch ms, an integer from 0), got ${shown(sinceMs)}`);
  checkIntegerIn("sampleLimit", sampleLimit, 0, MAX_SAMPLES);
}

/** listTasks' query, checked: null for a filter left out, `before` the newest when no beforeSeq. */
export interface CheckedTaskList {
  readonly status: TaskStatus | null;
  readonly kind: string | null;
  readonly tag: string | null;
  readonly correlationId: string | null;
  readonly group: string | null;
  readonly before: number;
  readonly limit: number;
}

export function checkTaskListQuery(query: TaskListQuery): CheckedTaskList {
  checkQuery("the task list query", query);
  const { status, kind, tag, correlationId, group } = query;
  if (status !== undefined && !TASK_STATUSES.includes(status))
    invalid(`status must be one of ${TASK_STATUSES.join(", ")}, got ${shown(status)}`);
  return {
    status: status ?? null,
    kind: kind === undefined ? null : checkKind(kind),
    tag: tag === undefined ? null : checkTag(tag),
    correlationId: correlationId === undefined ? null : checkCorrelationId(correlationId),
    group: group === undefined ? null : checkGroup(group),
    before: checkBeforeSeq(query.beforeSeq),
    limit: checkIntegerIn("limit", query.limit, 1, MAX_PAGE),
  };
}

/** listDeadLetters' query, checked. */
export function checkDeadLetterListQuery(query: DeadLetterListQuery): {
  readonly before: number;
  readonly limit: number;
  readonly includeRedriven: boolean;
  /** Null for every kind. */
  readonly kind: string | null;
} {
  checkQuery("the dead letter list query", query);
  const { includeRedriven, kind } = query;
  if (includeRedriven !== undefined && typeof includeRedriven !== "boolean")
    invalid(`includeRedriven must be a boolean, got ${shown(includeRedriven)}`);
  return {
    before: checkBeforeSeq(query.beforeSeq),
    limit: checkIntegerIn("limit", query.limit, 1, MAX_PAGE),
    includeRedriven: includeRedriven === true,
    kind: kind === undefined ? null : checkKind(kind),
  };
}

/** finishedHistory's query, checked (its samples over all buckets at most MAX_SAMPLES). */
export function checkFinishedHistoryQuery(query: FinishedHistoryQuery): FinishedHistoryQuery {
  checkQuery("the finished history query", query);
  const checked = {
    bucketMs: checkIntegerIn("bucketMs", query.bucketMs, 100, 3_600_000),
    buckets: checkIntegerIn("buckets", query.buckets, 1, 1000),
    countCap: checkIntegerIn("countCap", query.countCap, 1, 100_000),
    sampleLimit: checkIntegerIn("sampleLimit", query.sampleLimit, 0, 1000),
  };
  if (checked.buckets * checked.sampleLimit > MAX_SAMPLES)
    invalid(
      `buckets x sampleLimit must be at most ${MAX_SAMPLES}, got ${checked.buckets} x ${checked.sampleLimit}`,
    );
  return checked;
}

/** redriveTasks' seqs: an array of at most MAX_REDRIVE positive integers. */
export function checkTaskSeqs(taskSeqs: readonly number[]): readonly number[] {
  if (!Array.isArray(taskSeqs)) invalid(`taskSeqs must be an array of task seqs, got ${shown(taskSeqs)}`);
  if (taskSeqs.length > MAX_REDRIVE)
    invalid(`taskSeqs must hold at most ${MAX_REDRIVE} task seqs, got ${taskSeqs.length}`);
  taskSeqs.forEach((seq, i) => {
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1)
      invalid(`taskSeqs[${i}] must be a positive integer, got ${shown(seq)}`);
  });
  return taskSeqs;
}
