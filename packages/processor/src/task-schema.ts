import { assertValidKey } from "@taskq/storage-sim";
import { ValidationError } from "./errors.js";

/** Image variants: real pixel work on binary PPM (P6) images. */
export const VARIANTS = ["thumb", "gray", "blur"] as const;
export type Variant = (typeof VARIANTS)[number];

/** Task types (image is the main one; the rest come from the second source system). */
export const TASK_TYPES = ["image", "compute", "sleep", "http_request", "fail", "noop"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const COMPUTE_OPERATIONS = ["factorial", "fibonacci", "double"] as const;
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

/** Limits that keep one task from taking the machine. */
export const LIMITS = {
  idLength: 256,
  factorial: 5_000,
  fibonacci: 50_000,
  sleepSeconds: 3_600,
  maxAttempts: 100,
} as const;

interface TaskBase {
  readonly id: string;
  /** Deduplication key: `image_key#variant` for images. */
  readonly idempotencyKey: string;
  /** Overrides the pool's max attempts for this task. */
  readonly maxAttempts?: number;
}
export interface ImageTask extends TaskBase {
  readonly type: "image";
  readonly imageKey: string;
  readonly variant: Variant;
}
export interface ComputeTask extends TaskBase {
  readonly type: "compute";
  readonly operation: (typeof COMPUTE_OPERATIONS)[number];
  readonly value: number;
}
export interface SleepTask extends TaskBase {
  readonly type: "sleep";
  readonly durationMs: number;
  readonly timeoutMs?: number;
}
export interface HttpRequestTask extends TaskBase {
  readonly type: "http_request";
  readonly url: string;
  readonly method: (typeof HTTP_METHODS)[number];
}
export interface FailTask extends TaskBase {
  readonly type: "fail";
  readonly errorMessage: string;
}
export interface NoopTask extends TaskBase {
  readonly type: "noop";
}
/** A validated task. */
export type Task = ImageTask | ComputeTask | SleepTask | HttpRequestTask | FailTask | NoopTask;

/** Options of `parseTask`. */
export interface ParseOptions {
  /**
   * Where the task came from, for messages (e.g. `tasks.json line 3`); a function is called only
   * when a message needs it.
   */
  readonly position?: string | (() => string);
  /** Gives an id to tasks without one (the `submit` command); without it, `id` is required. */
  readonly generateId?: () => string;
}

type Raw = Record<string, unknown>;

/** `(tasks.json line 3)`, or nothing. */
function whereOf(position: ParseOptions["position"]): string {
  const text = typeof position === "function" ? position() : position;
  return text ? ` (${text})` : "";
}

class FieldReader {
  constructor(
    readonly raw: Raw,
    readonly rawId: unknown,
    readonly position: ParseOptions["position"],
  ) {}

  get taskId(): string | undefined {
    return typeof this.rawId === "string" ? this.rawId : undefined;
  }

  /** `task "t-1" (tasks.json line 3)`: built only for a message. */
  get label(): string {
    const id = this.rawId;
    const idLabel = typeof id === "string" || typeof id === "number" ? JSON.stringify(String(id)) : "?";
    return `task ${idLabel}${whereOf(this.position)}`;
  }

  fail(field: string, what: string): never {
    throw new ValidationError(`${this.label}: field "${field}" ${what}`, { taskId: this.taskId, field });
  }

  string(field: string, options: { optional?: boolean; maxLength?: number } = {}): string | undefined {
    const value = this.raw[field];
    if (value === undefined && options.optional) return undefined;
    if (value === undefined) this.fail(field, "is missing");
    if (typeof value !== "string") this.fail(field, `must be a string, got ${describe(value)}`);
    if (value.length === 0) this.fail(field, "must not be empty");
    if (options.maxLength !== undefined && value.length > options.maxLength) {
      this.fail(field, `is longer than ${options.maxLength} characters`);
    }
    return value;
  }

  integer(field: string, min: number, max: number, options: { optional?: boolean } = {}): number | undefined {
    const value = this.raw[field];
    if (value === undefined && options.optional) return undefined;
    if (value === undefined) this.fail(field, "is missing");
    if (typeof value !== "number" || !Number.isInteger(value))
      this.fail(field, `must be an integer, got ${describe(value)}`);
    if (value < min || value > max) this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  number(field: string, min: number, max: number, options: { optional?: boolean } = {}): number | undefined {
    const value = this.raw[field];
    if (value === undefined && options.optional) return undefined;
    if (value === undefined) this.fail(field, "is missing");
    if (typeof value !== "number" || !Number.isFinite(value))
      this.fail(field, `must be a finite number, got ${describe(value)}`);
    if (value < min || value > max) this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback?: T): T {
    const value = this.raw[field] ?? fallback;
    if (value === undefined) this.fail(field, `is missing (expected one of ${allowed.join(", ")})`);
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      this.fail(field, `has unknown value ${describe(value)} (expected one of ${allowed.join(", ")})`);
    }
    return value as T;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Validates one raw task (as read from a task file or a `--payload`) and returns the typed task.
 * Throws a ValidationError naming the task, its position and the field.
 */
export function parseTask(raw: unknown, options: ParseOptions = {}): Task {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError(
      `task${whereOf(options.position)}: must be a JSON object, got ${describe(raw)}`,
    );
  }
  const record = raw as Raw;
  const rawId = record["id"];
  const reader: FieldReader = new FieldReader(record, rawId, options.position);
  const id =
    rawId === undefined && options.generateId
      ? options.generateId()
      : (reader.string("id", { maxLength: LIMITS.idLength }) as string);
  const explicitKey = reader.string("idempotency_key", { optional: true, maxLength: 1024 });
  const maxAttempts = reader.integer("max_attempts", 1, LIMITS.maxAttempts, { optional: true });
  const base = { id, ...(maxAttempts === undefined ? {} : { maxAttempts }) };
  const type = reader.oneOf("type", TASK_TYPES, "image");

  switch (type) {
    case "image": {
      const imageKey = reader.string("image_key") as string;
      try {
        assertValidKey(imageKey);
      } catch (error) {
        reader.fail(
          "image_key",
          `is not a safe object key: ${(error as Error).message.replace(/^invalid object key \S+: /, "")}`,
        );
      }
      const variant = reader.oneOf("variant", VARIANTS);
      return { ...base, type, imageKey, variant, idempotencyKey: explicitKey ?? `${imageKey}#${variant}` };
    }
    case "compute": {
      const operation = reader.oneOf("operation", COMPUTE_OPERATIONS);
      const value =
        operation === "double"
          ? (reader.number("value", -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) as number)
          : (reader.integer(
              "value",
              0,
              operation === "factorial" ? LIMITS.factorial : LIMITS.fibonacci,
            ) as number);
      return {
        ...base,
        type,
        operation,
        value,
        idempotencyKey: explicitKey ?? `compute:${operation}:${value}`,
      };
    }
    case "sleep": {
      const duration = reader.number("duration", 0, LIMITS.sleepSeconds) as number;
      const timeout = reader.number("timeout", 0.001, LIMITS.sleepSeconds, { optional: true });
      return {
        ...base,
        type,
        durationMs: duration * 1000,
        ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
        idempotencyKey: explicitKey ?? `sleep:${id}`,
      };
    }
    case "http_request": {
      const url = reader.string("url", { maxLength: 2048 }) as string;
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        reader.fail("url", `is not a valid URL: ${describe(url)}`);
      }
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
        reader.fail("url", "must be an http or https URL");
      const method = reader.oneOf("method", HTTP_METHODS, "GET");
      return { ...base, type, url, method, idempotencyKey: explicitKey ?? `http:${id}` };
    }
    case "fail": {
      const errorMessage =
        reader.string("error_message", { optional: true, maxLength: 1000 }) ?? "Simulated failure";
      return { ...base, type, errorMessage, idempotencyKey: explicitKey ?? `fail:${id}` };
    }
    case "noop":
      return { ...base, type, idempotencyKey: explicitKey ?? `noop:${id}` };
  }
}

/** The task in the file format it came from (snake_case), for storing and re-driving. */
export function toWire(task: Task): Record<string, unknown> {
  const common = {
    id: task.id,
    type: task.type,
    idempotency_key: task.idempotencyKey,
    ...(task.maxAttempts === undefined ? {} : { max_attempts: task.maxAttempts }),
  };
  switch (task.type) {
    case "image":
      return { ...common, image_key: task.imageKey, variant: task.variant };
    case "compute":
      return { ...common, operation: task.operation, value: task.value };
    case "sleep":
      return {
        ...common,
        duration: task.durationMs / 1000,
        ...(task.timeoutMs === undefined ? {} : { timeout: task.timeoutMs / 1000 }),
      };
    case "http_request":
      return { ...common, url: task.url, method: task.method };
    case "fail":
      return { ...common, error_message: task.errorMessage };
    case "noop":
      return common;
  }
}

/** A validated task with what a task store keeps of it (the queue's PreparedTask shape). */
export interface PreparedTask {
  readonly task: Task;
  readonly id: string;
  readonly idempotencyKey: string;
  /** The task's kind: its built-in type. */
  readonly kind: TaskType;
  /** The task in its wire format (snake_case), as stored and re-parsed by `serve`. */
  readonly payload: Record<string, unknown>;
  readonly maxAttempts?: number;
}

/** Validates a raw task and shapes it for the orchestrator. Throws a ValidationError. */
export function prepareTask(raw: unknown, options: ParseOptions = {}): PreparedTask {
  return toPrepared(parseTask(raw, options));
}

/** Shapes a task `parseTask` already validated for the orchestrator (no second validation). */
export function toPrepared(task: Task): PreparedTask {
  return {
    task,
    id: task.id,
    idempotencyKey: task.idempotencyKey,
    kind: task.type,
    payload: toWire(task),
    ...(task.maxAttempts === undefined ? {} : { maxAttempts: task.maxAttempts }),
  };
}
