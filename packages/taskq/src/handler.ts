import { execFile } from "node:child_process";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AttemptOutcome, LoggerPort } from "@taskq/queue";
import type { ObjectStore } from "@taskq/storage-sim";
import { ConfigError, classifyHandlerError, PayloadError } from "./errors.js";
import { findNonJson } from "./json-value.js";
import { logLine, progressJson, type ReportSink } from "./report-sink.js";
import { activeTraceparent } from "./tracing.js";

/** What a handler gets besides its payload. */
export interface HandlerContext {
  /** The task's id. */
  readonly id: string;
  /** The task's idempotency key (unique within its kind). */
  readonly key: string;
  /** The task's kind: which handler runs it. */
  readonly kind: string;
  /** This attempt's number, from 1. */
  readonly attempt: number;
  /** The correlation id the task was enqueued with (`enqueue(kind, payload, { correlationId })`), or undefined. */
  readonly correlationId: string | undefined;
  /** Aborted when the attempt runs past `timeoutMs` (and, with `threads: 0`, on a forced close). */
  readonly signal: AbortSignal;
  /**
   * A logger bound to this task (`task_id`, `idempotency_key`, `attempt`, and `correlation_id` when
   * it has one, on every line).
   */
  readonly logger: LoggerPort;
  /** The object store, when the queue was given `objects`. */
  readonly objects: ObjectStore | undefined;
  /** The queue's `handlerOptions`, as plain data (the same on every thread). */
  readonly options: unknown;
  /**
   * Reports how far the task has come: any JSON value but null (a number, or a small object such
   * as `{ done: 50, of: 200 }`), at most 4,096 bytes as JSON; else it throws a PayloadError and
   * nothing is stored. Stored as the task runs (the last value wins; written at most every 200 ms,
   * and before the attempt's outcome), kept after it ends, and seen by `client.get(id).progress`,
   * `client.progress(id)`, `taskq status` and the dashboard. Only the worker holding the task's
   * lease writes it.
   */
  progress(value: unknown): void;
  /**
   * Appends a line to the task's log, kept with the task (over every attempt) and read by
   * `client.logs(id)`, `taskq status` and the dashboard. A task keeps its first 1,000 lines: later
   * ones are dropped, and counted ("N lines dropped"); a line is cut at 2,000 characters. Written
   * like progress (batched, at most every 200 ms). Not a string: a PayloadError.
   */
  log(line: string): void;
  /**
   * Workflows: the task's parents (`enqueue(..., { after })`, `enqueueFlow`) by id, each with its
   * kind, status (`succeeded`, or `failed`/`cancelled` for a parent whose edge runs anyway) and
   * parsed result. Empty for a task without parents.
   */
  readonly parents: Readonly<Record<string, ParentResult>>;
}

/** A parent's outcome as its child's handler reads it (`ctx.parents[id]`). */
export interface ParentResult {
  readonly kind: string;
  readonly status: string;
  /** Its handler's result, parsed (undefined when it stored none). */
  readonly result: unknown;
}

/** Stored parents as `ctx.parents`: keyed by id, results parsed once on the main thread. */
export function parentResults(
  parents: readonly {
    readonly id: string;
    readonly kind: string;
    readonly status: string;
    readonly result: string | null;
  }[],
): Readonly<Record<string, ParentResult>> {
  const out: Record<string, ParentResult> = {};
  for (const p of parents) out[p.id] = { kind: p.kind, status: p.status, result: parsedResult(p.result) };
  return out;
}

function parsedResult(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const NO_PARENTS: Readonly<Record<string, ParentResult>> = Object.freeze({});

/** A handler module's default export: runs one task, returns its result (stored as JSON) or throws. */
export type Handler<Payload = unknown, Result = unknown> = (
  payload: Payload,
  ctx: HandlerContext,
) => Result | Promise<Result>;

/** A handler location as a `file:` URL string: a path (relative to the working directory) or a URL. */
export function handlerUrl(handler: string | URL): string {
  if (handler instanceof URL) return handler.href;
  if (typeof handler !== "string" || handler.length === 0)
    throw new ConfigError("handler", "handler must be a module path or URL (its default export runs a task)");
  if (/^[a-z][a-z0-9+.-]*:/i.test(handler) && !isAbsolute(handler)) return handler;
  return pathToFileURL(resolve(handler)).href;
}

/** Imports a handler module and checks its default export is a function; errors name the path. */
export async function loadHandler(url: string, shown = url): Promise<Handler> {
  let module: { default?: unknown };
  try {
    module = await import(url);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    const reason =
      e.code === "ERR_MODULE_NOT_FOUND" && e.message?.includes(url.replace(/^file:\/\//, ""))
        ? "no such module"
        : `it failed to load: ${await loadFailure(url, error)}`;
    throw new ConfigError("handler", `handler ${shown}: ${reason}`, { cause: error });
  }
  if (typeof module.default !== "function")
    throw new ConfigError(
      "handler",
      `handler ${shown}: its default export must be a function (payload, ctx) => result, got ${module.default === undefined ? "no default export" : typeof module.default}`,
    );
  return module.default as Handler;
}

/**
 * Why a module failed to load, in one line, with the file and line when they can be found: an
 * error thrown while the module ran has them in its stack; a syntax error has none, so
 * `node --check` (which parses the file and runs nothing) is asked; when the module itself
 * parses, the error is in a module it imports.
 */
async function loadFailure(url: string, error: unknown): Promise<string> {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown } | null;
  const message = String(e?.message ?? error).replace(/\s*\n\s*/g, " ");
  const reason = e?.name === "SyntaxError" ? `SyntaxError: ${message}` : message;
  const frames = String(e?.stack ?? "").matchAll(
    /^\s+at (?:.* \()?(file:\/\/[^\s()]+|\/[^\s()]+):(\d+):\d+\)?$/gm,
  );
  for (const [, file = "", line] of frames)
    if (!file.includes("/node_modules/") && !file.startsWith("node:"))
      return `${shownPath(file)}:${line}: ${reason}`;
  if (e?.name !== "SyntaxError" || !url.startsWith("file:")) return reason;
  const path = fileURLToPath(url);
  const stderr = await new Promise<string>((done) =>
    execFile(process.execPath, ["--check", path], { timeout: 10_000 }, (_e, _out, err) => done(String(err))),
  );
  const at = /^(\/.+|file:\/\/.+):(\d+)$/m.exec(stderr);
  if (at) return `${shownPath(at[1] ?? "")}:${at[2]}: ${reason}`;
  return stderr.trim() === "" ? `${reason} (in a module it imports)` : reason;
}

/** A file URL as a path. */
function shownPath(location: string): string {
  return location.startsWith("file:") ? fileURLToPath(location) : location;
}

/** The result as stored: JSON text (null for `undefined`); a value JSON cannot hold is a PayloadError naming the field. */
export function storeResult(value: unknown): string | null {
  if (value === undefined) return null;
  if (value === null) return "null";
  const bad = findNonJson(value, "result");
  if (bad) throw new PayloadError(bad.path, bad.reason);
  return JSON.stringify(value);
}

/** The envelope a handler task travels in: the payload plus what its context names. */
export interface HandlerTask {
  readonly payload: unknown;
  readonly id: string;
  readonly key: string;
  /** Which handler runs it. */
  readonly kind: string;
  /** Its correlation id, when it was enqueued with one. */
  readonly correlationId?: string;
  /** Its parents' results (workflows), only for a task that has parents. */
  readonly parents?: Readonly<Record<string, ParentResult>>;
}

/**
 * One attempt, as its thread or process receives it: what the handler needs, and no more. The
 * one home of what crosses to a handler's thread or process (attemptRequest).
 */
export interface HandlerRequest extends HandlerTask {
  readonly attempt: number;
  /** The attempt span's W3C traceparent (OpenTelemetry on the main thread): the handler runs inside it. */
  readonly traceparent?: string;
}

/**
 * The request of an attempt for its thread or process. Called inside the attempt's span (when one
 * was made): its context goes with the request.
 */
export function attemptRequest(task: HandlerTask, attempt: number): HandlerRequest {
  const request: { -readonly [K in keyof HandlerRequest]: HandlerRequest[K] } = {
    kind: task.kind,
    payload: task.payload,
    id: task.id,
    key: task.key,
    attempt,
  };
  if (task.correlationId !== undefined) request.correlationId = task.correlationId;
  if (task.parents !== undefined) request.parents = task.parents;
  const traceparent = activeTraceparent();
  if (traceparent !== undefined) request.traceparent = traceparent;
  return request;
}

/** Names an attempt in flight to a cancel: kind and key (one process runs one task per kind and key at once). */
export function cancelToken(task: HandlerTask): string {
  return `${task.kind}\u0000${task.key}`;
}

/**
 * An attempt's cancel. Its AbortController is made only when the handler reads `ctx.signal` or a
 * cancel arrives: most attempts do neither, and a controller (with its signal, an EventTarget)
 * per attempt was most of the garbage a no-op handler's thread made.
 */
export class CancelSwitch {
  #controller: AbortController | undefined;
  #cancelled = false;

  /** Whether the task was cancelled while this attempt ran. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Aborted when the task is cancelled. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  cancel(): void {
    this.#cancelled = true;
    this.#controller?.abort();
  }
}

/**
 * How long a cancel that found no attempt waits for one to start, ms. A cancel may reach a thread
 * (or the inline executor) before the attempt it names registers there: the task's message and
 * the cancel travel on different channels, and the thread registers the attempt only once its
 * handlers are loaded. Every thread hears every cancel, so most of these are for attempts that run
 * elsewhere; they are forgotten after this long (the cancel watch sends a cancel again every
 * second while the task is still running, so a late attempt is reached all the same).
 */
export const EARLY_CANCEL_MS = 5000;

/** Cancel tokens of the last EARLY_CANCEL_MS (kept in arrival order; older ones forgotten). */
export class RecentCancels {
  readonly #at = new Map<string, number>();

  add(token: string): void {
    const now = performance.now();
    this.#forgetBefore(now - EARLY_CANCEL_MS);
    this.#at.delete(token);
    this.#at.set(token, now);
  }

  /** Whether `token` came in the last EARLY_CANCEL_MS; forgets it either way. */
  take(token: string): boolean {
    const at = this.#at.get(token);
    if (at === undefined) return false;
    this.#at.delete(token);
    return performance.now() - at < EARLY_CANCEL_MS;
  }

  /** The tokens of the last EARLY_CANCEL_MS. */
  recent(): string[] {
    this.#forgetBefore(performance.now() - EARLY_CANCEL_MS);
    return [...this.#at.keys()];
  }

  #forgetBefore(time: number): void {
    for (const [token, at] of this.#at) {
      if (at >= time) break;
      this.#at.delete(token);
    }
  }
}

/** The attempts in flight where a cancel may reach them, by cancel token, and the cancels that came first. */
export class CancelRegistry {
  readonly #running = new Map<string, CancelSwitch>();
  /** Cancels that found no attempt. */
  readonly #early = new RecentCancels();

  /** Registers an attempt; its switch is cancelled already when a cancel came first. */
  register(token: string): CancelSwitch {
    const cancel = new CancelSwitch();
    if (this.#early.take(token)) cancel.cancel();
    this.#running.set(token, cancel);
    return cancel;
  }

  unregister(token: string, cancel: CancelSwitch): void {
    if (this.#running.get(token) === cancel) this.#running.delete(token);
  }

  cancel(token: string): void {
    const running = this.#running.get(token);
    if (running) {
      running.cancel();
      return;
    }
    this.#early.add(token);
  }
}

/** The outcome of a task whose kind this worker has no handler for (never retried). */
export function unknownKind(kind: string): AttemptOutcome<string | null> {
  return {
    ok: false,
    error: {
      errorClass: "unknown_kind",
      retryable: false,
      message: `no handler for kind ${JSON.stringify(kind)} in this worker`,
    },
    runMs: 0,
  };
}

/**
 * What every attempt of a runtime's handlers shares: made once per executor, thread or process,
 * never per attempt.
 */
export interface HandlerEnv {
  readonly logger: LoggerPort;
  readonly objects: ObjectStore | undefined;
  readonly options: unknown;
  readonly timeoutMs: number;
  /** Where `ctx.progress` and `ctx.log` go. @default nowhere (checked, then dropped) */
  readonly report?: ReportSink | undefined;
}

/**
 * An attempt's HandlerContext. A class, so that an attempt costs one object: its getters live on
 * the prototype and read the attempt from `this`; what a handler may never use (its signal, its
 * logger, its `progress` and `log` functions) is made on first use. `progress` and `log` are
 * functions bound to the attempt (made once it reads them), so a handler may pass them around
 * (`lines.forEach(ctx.log)`).
 */
class AttemptContext implements HandlerContext {
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  readonly attempt: number;
  readonly correlationId: string | undefined;
  readonly objects: ObjectStore | undefined;
  readonly options: unknown;
  readonly parents: Readonly<Record<string, ParentResult>>;
  readonly #env: HandlerEnv;
  readonly #timeout: AbortSignal | undefined;
  readonly #abort: AbortSignal | undefined;
  readonly #cancel: CancelSwitch | undefined;
  #signal: AbortSignal | undefined;
  #logger: LoggerPort | undefined;
  #progress: ((value: unknown) => void) | undefined;
  #log: ((line: string) => void) | undefined;

  constructor(
    task: HandlerTask,
    attempt: number,
    env: HandlerEnv,
    timeout: AbortSignal | undefined,
    abort: AbortSignal | undefined,
    cancel: CancelSwitch | undefined,
  ) {
    this.id = task.id;
    this.key = task.key;
    this.kind = task.kind;
    this.attempt = attempt;
    this.correlationId = task.correlationId;
    this.objects = env.objects;
    this.options = env.options;
    this.parents = task.parents ?? NO_PARENTS;
    this.#env = env;
    this.#timeout = timeout;
    this.#abort = abort;
    this.#cancel = cancel;
  }

  get signal(): AbortSignal {
    if (!this.#signal) {
      const signals = [this.#timeout, this.#abort, this.#cancel?.signal].filter(
        (s): s is AbortSignal => s !== undefined,
      );
      this.#signal =
        signals.length === 0
          ? NEVER
          : signals.length === 1
            ? (signals[0] as AbortSignal)
            : AbortSignal.any(signals);
    }
    return this.#signal;
  }

  get logger(): LoggerPort {
    this.#logger ??= child(
      this.#env.logger,
      this.correlationId === undefined
        ? { task_id: this.id, idempotency_key: this.key, attempt: this.attempt }
        : {
            task_id: this.id,
            idempotency_key: this.key,
            attempt: this.attempt,
            correlation_id: this.correlationId,
          },
    );
    return this.#logger;
  }

  get progress(): (value: unknown) => void {
    this.#progress ??= (value) => {
      const json = progressJson(value);
      this.#env.report?.(this.kind, this.key, this.attempt, { p: json });
    };
    return this.#progress;
  }

  get log(): (line: string) => void {
    this.#log ??= (line) => {
      const text = logLine(line);
      this.#env.report?.(this.kind, this.key, this.attempt, { l: text, at: Date.now() });
    };
    return this.#log;
  }
}

/**
 * Runs one attempt of a handler: its result as JSON, or its failure classified. Never throws.
 * `signal` is aborted on a forced close (threads: 0); `cancel` is cancelled when the task is (the
 * attempt ends as `cancelled`, not retried).
 */
export async function runHandler(
  handler: Handler,
  task: HandlerTask,
  attempt: number,
  env: HandlerEnv,
  cancel?: CancelSwitch,
  signal?: AbortSignal,
): Promise<AttemptOutcome<string | null>> {
  const start = performance.now();
  // cancelled before it started: the handler never runs
  if (cancel?.cancelled) return cancelledOutcome(0);
  const timeout = env.timeoutMs > 0 ? AbortSignal.timeout(env.timeoutMs) : undefined;
  const ctx = new AttemptContext(task, attempt, env, timeout, signal, cancel);
  try {
    const value = await handler(task.payload, ctx);
    let output: string | null;
    try {
      output = storeResult(value);
    } catch (error) {
      // the same result would fail to store every time: permanent, at its first occurrence
      const message = `the handler's result cannot be stored as JSON: ${(error as Error).message}`;
      return {
        ok: false,
        error: { errorClass: "result_not_storable", retryable: false, message },
        runMs: performance.now() - start,
      };
    }
    return { ok: true, output, runMs: performance.now() - start };
  } catch (error) {
    if (cancel?.cancelled) return cancelledOutcome(performance.now() - start);
    const failure =
      (timeout?.aborted || signal?.aborted) && !(error as { retryable?: unknown })?.retryable
        ? {
            errorClass: "timeout",
            retryable: true,
            message: `attempt cancelled: ${(error as Error)?.message ?? String(error)}`,
          }
        : classifyHandlerError(error);
    return { ok: false, error: failure, runMs: performance.now() - start };
  }
}

/** The outcome of an attempt whose task was cancelled before or while it ran (never retried). */
function cancelledOutcome(runMs: number): AttemptOutcome<string | null> {
  return {
    ok: false,
    error: { errorClass: "cancelled", retryable: false, message: "the task was cancelled while it ran" },
    runMs,
  };
}

/** A logger with these fields on every line (pino's `child`, or a wrapper for a plain LoggerPort). */
function child(logger: LoggerPort, fields: object): LoggerPort {
  const withChild = logger as LoggerPort & { child?: (bindings: object) => LoggerPort };
  if (typeof withChild.child === "function") return withChild.child(fields);
  return {
    debug: (f, m) => logger.debug({ ...fields, ...f }, m),
    info: (f, m) => logger.info({ ...fields, ...f }, m),
    warn: (f, m) => logger.warn({ ...fields, ...f }, m),
    error: (f, m) => logger.error({ ...fields, ...f }, m),
  };
}

/** The signal of an attempt that nothing can cancel. */
const NEVER = new AbortController().signal;

/** A logger that drops everything. */
export const silentLogger: LoggerPort = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  isLevelEnabled: () => false,
};
