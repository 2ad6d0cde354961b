import type { ObjectStore } from "@taskq/storage-sim";
import { transformImage } from "../image/pipeline.js";
import type { VariantOptions } from "../image/variants.js";
import type { ImageTask } from "../task-schema.js";

/** Where image tasks read and write. */
export interface ImageContext {
  readonly store: ObjectStore;
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly chunkSize: number;
  readonly variantOptions: VariantOptions;
}

/** The object an image task writes: derived from its idempotency key, so retries overwrite it. */
export function outputKeyOf(task: Pick<ImageTask, "imageKey" | "variant">): string {
  return `${task.variant}/${task.imageKey}`;
}

/** get (stream) → transform band by band → put (stream, atomic). */
export async function processImage(
  task: ImageTask,
  context: ImageContext,
  signal?: AbortSignal,
): Promise<{ outputKey: string; etag: string; bytes: number }> {
  const options = signal ? { signal } : {};
  const source = await context.store.getObject(context.inputBucket, task.imageKey, options);
  const outputKey = outputKeyOf(task);
  try {
    const output = transformImage(source, task.variant, {
      ...context.variantOptions,
      chunkSize: context.chunkSize,
    });
    const put = await context.store.putObject(context.outputBucket, outputKey, output, options);
    return { outputKey, etag: put.etag, bytes: put.size };
  } finally {
    source.destroy();
  }
}
