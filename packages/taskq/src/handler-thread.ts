// The threads' entry module for handler modules (what tinypool loads into each of its Workers):
// loads the handlers of every kind (and the object store) once per thread from tinypool's workerData, then runs attempts, each with the handler of
// its task's kind; a crash on the thread fails only the attempts in flight there (guardWorker).
// A cancel from the main thread (a BroadcastChannel the runtime names) aborts one attempt's
// `ctx.signal`.
import { BroadcastChannel, threadId } from "node:worker_threads";
import { createLogger } from "@taskq/metrics";
import { guardWorker } from "@taskq/processor";
import { FsObjectStore, type ObjectStore } from "@taskq/storage-sim";
import { Tinypool } from "tinypool";
import {
  CancelRegistry,
  cancelToken,
  type Handler,
  type HandlerTask,
  loadHandler,
  runHandler,
  unknownKind,
} from "./handler.js";

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

/**
 * Messages on the cancel channel: the main thread's cancels, and (with a timeout) the threads'
 * word of which attempt runs where, so a thread stuck in a handler can be terminated.
 */
export type ThreadMessage =
  | { readonly type: "cancel"; readonly token: string }
  | { readonly type: "started"; readonly token: string; readonly threadId: number }
  | { readonly type: "ended"; readonly token: string }
  | { readonly type: "listening" };

export interface HandlerRequest {
  readonly task: HandlerTask;
  readonly attempt: number;
}

interface Loaded {
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly objects: ObjectStore | undefined;
  readonly logger: ReturnType<typeof createLogger>;
}

let loaded: Promise<Loaded> | undefined;
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

async function load(data: HandlerThreadData): Promise<Loaded> {
  const [handlers, objects] = await Promise.all([
    Promise.all(
      Object.entries(data.handlers).map(async ([kind, url]) => [kind, await loadHandler(url)] as const),
    ),
    data.objects
      ? FsObjectStore.open({
          root: data.objects.root,
          io: "sync",
          ...(data.objects.chunkSize ? { chunkSize: data.objects.chunkSize } : {}),
        })
      : undefined,
  ]);
  return { handlers: new Map(handlers), objects, logger: createLogger({ level: data.logLevel }) };
}

export default guardWorker(async (request: HandlerRequest) => {
  const token = cancelToken(request.task);
  // registered before anything is awaited: a cancel from now on reaches this attempt
  const cancel = cancels.register(token);
  loaded ??= load(data);
  let announced = false;
  try {
    const { handlers, objects, logger } = await loaded;
    const handler = handlers.get(request.task.kind);
    if (!handler) return unknownKind(request.task.kind);
    // with a timeout, the main thread learns where the attempt runs (to end a thread stuck in it)
    announced = data.timeoutMs > 0;
    if (announced) channel.postMessage({ type: "started", token, threadId } satisfies ThreadMessage);
    return await runHandler(handler, request.task, request.attempt, {
      logger,
      objects,
      options: data.options,
      timeoutMs: data.timeoutMs,
      cancel,
    });
  } finally {
    cancels.unregister(token, cancel);
    if (announced) channel.postMessage({ type: "ended", token } satisfies ThreadMessage);
  }
});
