// The tinypool worker entry for handler modules: loads the handler (and the object store) once
// per thread from the pool's workerData, then runs attempts; a crash on the thread fails only
// the attempts in flight there (guardWorker).
import { createLogger } from "@taskq/metrics";
import { guardWorker } from "@taskq/processor";
import { FsObjectStore, type ObjectStore } from "@taskq/storage-sim";
import { Tinypool } from "tinypool";
import { type Handler, type HandlerTask, loadHandler, runHandler } from "./handler.js";

/** What every thread gets once (tinypool's workerData). */
export interface HandlerWorkerData {
  readonly handler: string;
  readonly options: unknown;
  readonly objects: { readonly root: string; readonly chunkSize?: number } | undefined;
  readonly logLevel: string;
  readonly timeoutMs: number;
}

export interface HandlerRequest {
  readonly task: HandlerTask;
  readonly attempt: number;
}

interface Loaded {
  readonly handler: Handler;
  readonly objects: ObjectStore | undefined;
  readonly logger: ReturnType<typeof createLogger>;
}

let loaded: Promise<Loaded> | undefined;

async function load(data: HandlerWorkerData): Promise<Loaded> {
  const [handler, objects] = await Promise.all([
    loadHandler(data.handler),
    data.objects
      ? FsObjectStore.open({
          root: data.objects.root,
          io: "sync",
          ...(data.objects.chunkSize ? { chunkSize: data.objects.chunkSize } : {}),
        })
      : undefined,
  ]);
  return { handler, objects, logger: createLogger({ level: data.logLevel }) };
}

export default guardWorker(async (request: HandlerRequest) => {
  const data = Tinypool.workerData as HandlerWorkerData;
  loaded ??= load(data);
  const { handler, objects, logger } = await loaded;
  return runHandler(handler, request.task, request.attempt, {
    logger,
    objects,
    options: data.options,
    timeoutMs: data.timeoutMs,
  });
});
