// The threads' entry module for handler modules (what tinypool loads into each of its Workers):
// loads the handlers of every kind (and the object store) once per thread, from tinypool's
// workerData, as the thread starts; then serves the thread's lane (thread-lane.ts): batches of
// attempts in, each run with the handler of its task's kind, outcomes out. A crash on the thread
// fails only the attempts in flight there (guardWorker). A cancel from the main thread (a
// BroadcastChannel the runtime names) aborts one attempt's `ctx.signal`.
import { BroadcastChannel } from "node:worker_threads";
import { guardWorker } from "@taskq/processor";
import { Tinypool } from "tinypool";
import {
  CancelRegistry,
  cancelToken,
  type HandlerEnv,
  type HandlerRequest,
  runHandler,
  unknownKind,
} from "./handler.js";
import { type HandlerSet, loadHandlerSet } from "./handler-set.js";
import { bufferedSink } from "./report-sink.js";
import { serveLane } from "./thread-lane.js";
import { runInTraceparent } from "./tracing.js";

/** What every thread gets once (tinypool's workerData). */
export interface HandlerThreadData {
  /** Handler module URLs by kind. */
  readonly handlers: Readonly<Record<string, string>>;
  readonly options: unknown;
  readonly objects: { readonly root: string; readonly chunkSize?: number } | undefined;
  readonly logLevel: string;
  readonly timeoutMs: number;
  /** The channel cancels arrive on: messages `{ token }` (`cancelToken(task)`). */
  readonly cancelChannel: string;
}

/** Messages on the cancel channel: the main thread's cancels, and a new thread's word that it listens. */
export type ThreadMessage =
  | { readonly type: "cancel"; readonly token: string }
  | { readonly type: "listening" };

/** Attempts on this thread that a cancel may reach, and cancels that came before their attempt. */
const cancels = new CancelRegistry();
const data = Tinypool.workerData as HandlerThreadData;
// Listening from the thread's start, before any handler loads: a cancel that comes while the
// handlers load, or before the task's own message, is kept for the attempt it names.
const channel = new BroadcastChannel(data.cancelChannel);
channel.onmessage = (event) => {
  const message = (event as { data: ThreadMessage }).data;
  if (message.type === "cancel") cancels.cancel(message.token);
};
channel.unref();
// the cancels sent before this thread listened are sent again
channel.postMessage({ type: "listening" } satisfies ThreadMessage);

/** Sends reports to the main thread on this thread's lane (set as its session opens). */
let sendReport: ((message: unknown) => void) | undefined;
/**
 * `ctx.progress` and `ctx.log` here: buffered (bounded), sent on the lane once a turn as
 * ReportEntry[] (TaskReporter.merge there), and as each attempt ends, before its outcome. One
 * buffer for the thread: an attempt that never reports adds nothing to it.
 */
const reports = bufferedSink((entries) => sendReport?.(entries));

/** The handlers, and what their attempts share (HandlerEnv, made once). */
interface Loaded {
  readonly handlers: HandlerSet["handlers"];
  readonly env: HandlerEnv;
}

// loaded as the thread starts (a failure fails each attempt, as a retryable worker_crash)
const loaded: Promise<Loaded> = loadHandlerSet(data).then(({ handlers, objects, logger }) => ({
  handlers,
  env: { logger, objects, options: data.options, timeoutMs: data.timeoutMs, report: reports.report },
}));
let ready: Loaded | undefined;
loaded.then(
  (done) => (ready = done),
  () => undefined,
);

const runAttempt = guardWorker(async (request: HandlerRequest) => {
  const token = cancelToken(request);
  // registered before anything is awaited: a cancel from now on reaches this attempt
  const cancel = cancels.register(token);
  try {
    const { handlers, env } = ready ?? (await loaded);
    const handler = handlers.get(request.kind);
    if (!handler) return unknownKind(request.kind);
    return await (request.traceparent === undefined
      ? runHandler(handler, request, request.attempt, env, cancel)
      : runInTraceparent(request.traceparent, () =>
          runHandler(handler, request, request.attempt, env, cancel),
        ));
  } finally {
    reports.flush(); // before the outcome is answered on the lane
    cancels.unregister(token, cancel);
  }
});

export default serveLane(runAttempt, loaded, (send) => (sendReport = send));
