// Micro-benchmark: each image variant's throughput on a 1024x1024 P6 image, streamed band by band
// in 64 KiB chunks (no storage, no latency). Runs against the built package.
// Usage: node bench/run.mjs [repeats]
import { syntheticPpm, transformImage } from "../dist/index.js";

const repeats = Number(process.argv[2] ?? 5);
const chunks = [...syntheticPpm(1024, 1024, 1)];
const megapixels = 1.048576;
for (const variant of ["thumb", "gray", "blur"]) {
  for await (const _ of transformImage(chunks, variant)); // warm up
  const start = performance.now();
  for (let r = 0; r < repeats; r++) for await (const _ of transformImage(chunks, variant));
  const ms = (performance.now() - start) / repeats;
  console.log(
    `${variant.padEnd(6)} ${ms.toFixed(1).padStart(7)} ms per 1024x1024 image  ${(megapixels / (ms / 1000)).toFixed(1).padStart(6)} Mpx/s`,
  );
}
console.log(`node ${process.version}, one thread`);
