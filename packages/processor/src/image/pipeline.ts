import { DEFAULT_CHUNK_SIZE } from "@taskq/storage-sim";
import type { Variant } from "../task-schema.js";
import { encodeHeader, readRows } from "./ppm.js";
import { createTransform, type RowTransform, type VariantOptions } from "./variants.js";

/**
 * Streams an image through a variant: PPM chunks in, output chunks of about `chunkSize` bytes
 * out (header first). Holds a few rows and one output chunk, never the whole image.
 */
export async function* transformImage(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  variant: Variant,
  options: VariantOptions & { readonly chunkSize?: number } = {},
): AsyncGenerator<Buffer, void, undefined> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let transform: RowTransform | undefined;
  const batch: Buffer[] = [];
  let batched = 0;
  let headerWritten = false;
  for await (const row of readRows(source, (header) => {
    transform = createTransform(variant, header, options);
  })) {
    const t = transform as RowTransform;
    if (!headerWritten) {
      const header = encodeHeader(t.output);
      batch.push(header);
      batched += header.length;
      headerWritten = true;
    }
    for (const out of t.push(row)) {
      batch.push(out);
      batched += out.length;
    }
    if (batched >= chunkSize) {
      yield Buffer.concat(batch, batched);
      batch.length = 0;
      batched = 0;
    }
  }
  for (const out of (transform as RowTransform).finish()) {
    batch.push(out);
    batched += out.length;
  }
  if (batched > 0) yield Buffer.concat(batch, batched);
}
