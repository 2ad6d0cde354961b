// The tinypool worker entry for handler modules: loads the handlers of every kind (and the object
// store) once per thread from the pool's workerData, then runs attempts, each with the handler of
// its task's kind; a crash on the thread fails only the attempts in flight there (guardWorker).
// A cancel from the main thread (a BroadcastChannel the runtime names) aborts one attempt's
// `ctx.signal`.
import { BroadcastChannel, threadId } from "node:worker_threads";
import { createLogger } from "@taskq/metrics";
import { guardWorker } from "@taskq/processor";
import { FsObjectStore, type ObjectStore } from "@taskq/storage-sim";
import { Tinypool } from "tinypool";
import {
  CancelSwitch,
  cancelToken,
  type Handler,
  type HandlerTask,
  loadHandler,
  runHandler,
  unknownKind,
} from "./handler.js";

/** What every thread gets once (tinypool's workerData). */
export interface HandlerWorkerData {
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
  | { readonly type: "ended"; readonly token: string };

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
/** Attempts on this thread that a cancel may reach, by token. */
const running = new Map<string, CancelSwitch>();
let channel: BroadcastChannel | undefined;

async function load(data: HandlerWorkerData): Promise<Loaded> {
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
  channel = new BroadcastChannel(data.cancelChannel);
  channel.onmessage = (event) => {
    const message = (event as { data: ThreadMessage }).data;
    if (message.type === "cancel") running.get(message.token)?.cancel();
  };
  channel.unref();
  return { handlers: new Map(handlers), objects, logger: createLogger({ level: data.logLevel }) };
}

export default guardWorker(async (request: HandlerRequest) => {
  const data = Tinypool.workerData as HandlerWorkerData;
  loaded ??= load(data);
  const { handlers, objects, logger } = await loaded;
  const handler = handlers.get(request.task.kind);
  if (!handler) return unknownKind(request.task.kind);
  const token = cancelToken(request.task);
  const cancel = new CancelSwitch();
  running.set(token, cancel);
  // with a timeout, the main thread learns where the attempt runs (to end a thread stuck in it)
  if (data.timeoutMs > 0) channel?.postMessage({ type: "started", token, threadId } satisfies ThreadMessage);
  try {
    return await runHandler(handler, request.task, request.attempt, {
      logger,
      objects,
      options: data.options,
      timeoutMs: data.timeoutMs,
      cancel,
    });
  } finally {
    running.delete(token);
    if (data.timeoutMs > 0) channel?.postMessage({ type: "ended", token } satisfies ThreadMessage);
  }
});
