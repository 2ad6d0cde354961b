// The entry module of the child processes that run a kind isolated in processes
// (`isolation: { resize: "process" }`, handler-processes.ts starts them). The parent sends its
// handlers and settings once (`init`), then attempts (`run`), each answered with its outcome
// (`done`), and cancels (`cancel`, aborting that attempt's `ctx.signal`). What ends the process
// ends its attempts only: process.exit(), a native abort, running out of heap past
// `--max-old-space-size` (memoryLimitMb), or an exception nothing caught (said to the parent first,
// then the process exits with code 1: a fresh process is safer than one in an unknown state).
// The parent going away ends the process too: its IPC channel closing (\`disconnect\`), or, when
// a handler holds the main thread in a synchronous loop (no event is seen then), a watchdog thread
// that finds the parent gone (this process given to another parent) and kills the process.

import { Worker } from "node:worker_threads";
import type { AttemptOutcome } from "@taskq/queue";
import {
  CancelRegistry,
  cancelToken,
  type HandlerEnv,
  type HandlerRequest,
  runHandler,
  unknownKind,
} from "./handler.js";
import { type HandlerSet, loadHandlerSet } from "./handler-set.js";
import { bufferedSink, type ReportEntry } from "./report-sink.js";
import { runInTraceparent } from "./tracing.js";

/** How often the watchdog thread looks for the parent, ms. */
const WATCHDOG_MS = 1000;

/** What a process gets once, before any attempt. */
export interface HandlerProcessData {
  /** Handler module URLs by kind. */
  readonly handlers: Readonly<Record<string, string>>;
  readonly options: unknown;
  readonly objects: { readonly root: string } | undefined;
  readonly logLevel: string;
  readonly timeoutMs: number;
  /** Say when each attempt begins (`began`), so the parent can time it (with a timeout). */
  readonly announce: boolean;
}

/** Parent to process. `cancelled`: a cancel came before the attempt was sent. */
export type ToProcess =
  | { readonly t: "init"; readonly data: HandlerProcessData }
  | { readonly t: "run"; readonly n: number; readonly request: HandlerRequest; readonly cancelled?: true }
  | { readonly t: "cancel"; readonly token: string };

/** Process to parent: an attempt began, an attempt's outcome, or why the process is about to exit. */
export type FromProcess =
  | { readonly t: "began"; readonly n: number }
  | { readonly t: "done"; readonly n: number; readonly outcome: AttemptOutcome<string | null> }
  | { readonly t: "crash"; readonly message: string }
  | { readonly t: "report"; readonly entries: ReportEntry[] };

const send = (message: FromProcess, then?: () => void): void => {
  if (!process.connected) return;
  process.send?.(message, undefined, undefined, () => then?.());
};

/**
 * `ctx.progress` and `ctx.log` here: buffered (bounded), sent to the parent (its TaskReporter)
 * once a turn, and as each attempt ends, before its `done`.
 */
const reports = bufferedSink((entries) => send({ t: "report", entries }));

const cancels = new CancelRegistry();
let data: HandlerProcessData | undefined;

/** The handlers, and what their attempts share (HandlerEnv, made once). */
interface Loaded {
  readonly handlers: HandlerSet["handlers"];
  readonly env: HandlerEnv;
}
let loaded: Promise<Loaded> | undefined;
let ready: Loaded | undefined;

async function run(n: number, request: HandlerRequest, cancelled: boolean): Promise<void> {
  const token = cancelToken(request);
  // registered before anything is awaited: a cancel from now on reaches this attempt
  const cancel = cancels.register(token);
  if (cancelled) cancel.cancel();
  let outcome: AttemptOutcome<string | null>;
  const start = performance.now();
  try {
    const { handlers, env } = ready ?? (await (loaded as Promise<Loaded>));
    if ((data as HandlerProcessData).announce) send({ t: "began", n });
    const handler = handlers.get(request.kind);
    // inside the attempt span's context when the main thread made one (OpenTelemetry)
    outcome = !handler
      ? unknownKind(request.kind)
      : request.traceparent === undefined
        ? await runHandler(handler, request, request.attempt, env, cancel)
        : await runInTraceparent(request.traceparent, () =>
            runHandler(handler, request, request.attempt, env, cancel),
          );
  } catch (error) {
    // the handlers failed to load here (they loaded on the main thread): retryable, as on a thread
    outcome = {
      ok: false,
      error: {
        errorClass: "worker_crash",
        retryable: true,
        message: `the handler's process could not load it: ${(error as Error)?.message ?? String(error)}`,
      },
      runMs: performance.now() - start,
    };
  } finally {
    cancels.unregister(token, cancel);
  }
  reports.flush();
  send({ t: "done", n, outcome });
}

/** The first line of an error as the parent reports it: `Error: message`. */
function described(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

let crashing = false;
/** Tells the parent why, then exits with code 1 (at once if the message cannot be sent). */
function crash(message: string): void {
  if (crashing) return;
  crashing = true;
  send({ t: "crash", message }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
}

process.on("uncaughtException", (error) =>
  crash(`uncaught exception in the handler's process: ${described(error)}`),
);
process.on("unhandledRejection", (reason) =>
  crash(`unhandled rejection in the handler's process: ${described(reason)}`),
);
// the parent went away (it exited, or ended this process's channel): nothing is left to answer
process.on("disconnect", () => process.exit(0));
// ... and when the parent was killed while a handler holds the main thread (a synchronous loop
// sees no disconnect), a thread of its own sees this process handed to another parent and kills
// it (a signal ends the whole process whatever its main thread does). It keeps nothing alive.
new Worker(
  `const { workerData } = require("node:worker_threads");
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, "SIGKILL");
}, workerData.everyMs);`,
  { eval: true, workerData: { parent: process.ppid, everyMs: WATCHDOG_MS } },
).unref();
process.on("message", (message: ToProcess) => {
  switch (message.t) {
    case "init":
      data = message.data;
      loaded = loadHandlerSet(message.data).then(({ handlers, objects, logger }) => ({
        handlers,
        env: {
          logger,
          objects,
          options: message.data.options,
          timeoutMs: message.data.timeoutMs,
          report: reports.report,
        },
      }));
      loaded.then(
        (done) => (ready = done),
        () => undefined, // each attempt reports it
      );
      return;
    case "run":
      void run(message.n, message.request, message.cancelled === true);
      return;
    case "cancel":
      cancels.cancel(message.token);
      return;
  }
});
