// An image-resize style handler: streams a grayscale image (width x height bytes, one per pixel)
// from the object store, halves it with a 2x2 box filter two rows at a time, and writes the
// thumbnail back. The output key comes from the input, so a retried task writes the same object.
import { Readable } from "node:stream";
import { PermanentError } from "taskq";

export default async function thumbnail({ key, width, height }, ctx) {
  if (width % 2 || height % 2) throw new PermanentError(`${key}: ${width}x${height} has an odd side`);
  const rows = [];
  let pending = Buffer.alloc(0);
  const out = [];
  for await (const chunk of await ctx.objects.getObject("images", key)) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= width) {
      rows.push(pending.subarray(0, width));
      pending = pending.subarray(width);
      if (rows.length === 2) {
        const [a, b] = rows.splice(0);
        const half = Buffer.alloc(width / 2);
        for (let x = 0; x < width / 2; x++)
          half[x] = (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2;
        out.push(half);
      }
    }
  }
  const thumb = `${key}.half`;
  const put = await ctx.objects.putObject("thumbs", thumb, Readable.from(out));
  return { thumb, etag: put.etag, bytes: put.size };
}
