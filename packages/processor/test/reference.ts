// Whole-image reference implementations of the variants, written the obvious way, to check the
// band-wise streaming code against.
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export function parsePnm(bytes: Buffer): Image {
  const text = bytes.toString("latin1", 0, 64);
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+255\s/.exec(text);
  if (!m) throw new Error("bad test image");
  const width = Number(m[2]);
  const height = Number(m[3]);
  const channels = m[1] === "P6" ? 3 : 1;
  return { width, height, channels, data: bytes.subarray(m[0].length) };
}

export function encode(image: Image): Buffer {
  const header = Buffer.from(`${image.channels === 3 ? "P6" : "P5"}\n${image.width} ${image.height}\n255\n`);
  return Buffer.concat([header, Buffer.from(image.data)]);
}

export function gray(img: Image): Image {
  const out = new Uint8Array(img.width * img.height);
  for (let p = 0; p < out.length; p++) {
    const r = img.data[p * 3]!;
    const g = img.data[p * 3 + 1]!;
    const b = img.data[p * 3 + 2]!;
    out[p] = (77 * r + 150 * g + 29 * b + 128) >> 8;
  }
  return { width: img.width, height: img.height, channels: 1, data: out };
}

export function blur(img: Image): Image {
  const { width, height, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  const at = (x: number, y: number, k: number) =>
    img.data[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * c + k]!;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += at(x + dx, y + dy, k);
        out[(y * width + x) * c + k] = Math.floor((sum + 4) / 9);
      }
  return { ...img, data: out };
}

export function thumb(img: Image, size: number): Image {
  const { width, height, channels: c } = img;
  const scale = Math.min(1, size / Math.max(width, height));
  const ow = Math.max(1, Math.round(width * scale));
  const oh = Math.max(1, Math.round(height * scale));
  const out = new Uint8Array(ow * oh * c);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++) {
      const x0 = Math.floor((ox * width) / ow);
      const x1 = Math.floor(((ox + 1) * width) / ow);
      const y0 = Math.floor((oy * height) / oh);
      const y1 = Math.floor(((oy + 1) * height) / oh);
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += img.data[(y * width + x) * c + k]!;
        const count = (x1 - x0) * (y1 - y0);
        out[(oy * ow + ox) * c + k] = Math.floor((sum + (count >> 1)) / count);
      }
    }
  return { width: ow, height: oh, channels: c, data: out };
}
