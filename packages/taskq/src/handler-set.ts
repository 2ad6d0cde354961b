// What a handler thread or a handler process loads once, as it starts: the handler of each kind,
// the object store (each opens its own) and a logger. One home for both entry modules
// (handler-thread.ts, handler-process.ts).
import { createLogger } from "@taskq/metrics";
import { FsObjectStore, type ObjectStore } from "@taskq/storage-sim";
import { type Handler, loadHandler } from "./handler.js";

/** What the entry module is given to load: handler module URLs by kind, the objects' root, the log level. */
export interface HandlerSetData {
  readonly handlers: Readonly<Record<string, string>>;
  readonly objects: { readonly root: string; readonly chunkSize?: number } | undefined;
  readonly logLevel: string;
}

/** The loaded handlers, object store and logger of a thread or process. */
export interface HandlerSet {
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly objects: ObjectStore | undefined;
  readonly logger: ReturnType<typeof createLogger>;
}

/** Loads every kind's handler and opens the object store, at once. */
export async function loadHandlerSet(data: HandlerSetData): Promise<HandlerSet> {
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
