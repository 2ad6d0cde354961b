// Thumbnails for a few generated images, through the object store's chunked streams.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createQueue } from "taskq";

const objects = ".taskq/resize-objects";
mkdirSync(join(objects, "images"), { recursive: true });
const images = [16, 32, 64].map((side) => {
  const pixels = Buffer.alloc(side * side);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + side) % 256; // a deterministic pattern
  writeFileSync(join(objects, "images", `img-${side}.gray`), pixels);
  return { key: `img-${side}.gray`, width: side, height: side };
});
images.push({ key: "img-16.gray", width: 15, height: 16 }); // a bad one: a permanent error

const queue = await createQueue({
  handler: new URL("./handlers/thumbnail.mjs", import.meta.url),
  store: ":memory:",
  objects,
  threads: 2,
  key: (image) => `${image.key}@${image.width}x${image.height}`,
});
for (const image of images) {
  try {
    const { thumb, etag, bytes } = await queue.submit(image, { id: image.key });
    console.log(`${image.key} -> thumbs/${thumb} ${bytes} bytes etag ${etag}`);
  } catch (error) {
    console.log(`${image.key} failed: ${error.errorClass}: ${error.message}`);
  }
}
await queue.close();
