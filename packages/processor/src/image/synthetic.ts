import { createRng, DEFAULT_CHUNK_SIZE } from "@taskq/storage-sim";
import { encodeHeader } from "./ppm.js";

/**
 * A deterministic test image (smooth gradients plus seeded noise), generated row by row so a
 * large image never sits in memory. Yields the header, then chunks of whole rows.
 */
export function* syntheticPpm(
  width: number,
  height: number,
  seed: number,
  chunkSize = DEFAULT_CHUNK_SIZE,
): Generator<Buffer> {
  const random = createRng(seed);
  const phase = random() * 255;
  yield encodeHeader({ format: "P6", width, height });
  const rowBytes = width * 3;
  const rowsPerChunk = Math.max(1, Math.floor(chunkSize / rowBytes));
  for (let y0 = 0; y0 < height; y0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, height - y0);
    const out = Buffer.allocUnsafe(rows * rowBytes);
    for (let r = 0; r < rows; r++) {
      const y = y0 + r;
      for (let x = 0; x < width; x++) {
        const i = r * rowBytes + x * 3;
        const noise = Math.floor(random() * 32);
        out[i] = ((x * 255) / Math.max(1, width - 1) + noise) & 0xff;
        out[i + 1] = ((y * 255) / Math.max(1, height - 1) + phase) & 0xff;
        out[i + 2] = (((x + y) * 2 + noise) ^ Math.floor(phase)) & 0xff;
      }
    }
    yield out;
  }
}
