import { createHash } from "node:crypto";
import { createRng } from "@taskq/storage-sim";
import { describe, expect, it } from "vitest";
import { syntheticPpm, transformImage, type Variant } from "../src/index.js";
import { blur, encode, gray, type Image, parsePnm, thumb } from "./reference.js";

function randomImage(width: number, height: number, seed: number): Buffer {
  const random = createRng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return encode({ width, height, channels: 3, data });
}

/** Feeds `bytes` in chunks of `size` (the streaming path sees every kind of boundary). */
function* chunked(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function run(bytes: Buffer, variant: Variant, chunk: number, thumbSize = 64): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of transformImage(chunked(bytes, chunk), variant, { thumbSize, chunkSize: 4096 }))
    out.push(piece);
  return Buffer.concat(out);
}

const reference: Record<Variant, (img: Image) => Image> = {
  gray,
  blur,
  thumb: (img) => thumb(img, 64),
};

describe("band-wise variants equal the whole-image reference", () => {
  const sizes: [number, number][] = [
    [1, 1],
    [1, 7],
    [7, 1],
    [3, 5],
    [63, 65],
    [65, 63],
    [129, 31],
    [200, 133],
    [257, 255],
  ];
  for (const variant of ["gray", "blur", "thumb"] as const) {
    it.each(sizes)(`${variant} on %ix%i, in chunks of 1, 7, 1000 and 65536 bytes`, async (w, h) => {
      const input = randomImage(w, h, w * 1000 + h);
      const expected = encode(reference[variant](parsePnm(input)));
      for (const chunk of [1, 7, 1000, 65_536]) {
        if (chunk === 1 && w * h > 5000) continue;
        expect((await run(input, variant, chunk)).equals(expected)).toBe(true);
      }
    });
  }

  it("thumb honours thumbSize and never upscales", async () => {
    const input = randomImage(40, 10, 3);
    expect(parsePnm(await run(input, "thumb", 100, 20))).toMatchObject({ width: 20, height: 5 });
    expect(parsePnm(await run(input, "thumb", 100, 64))).toMatchObject({ width: 40, height: 10 });
  });
});

describe("golden outputs (byte-identical across runs and versions)", () => {
  const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
  const input = Buffer.concat([...syntheticPpm(97, 61, 2024)]);
  it("synthetic input is stable", () => {
    expect(md5(input)).toBe(GOLDEN.input);
  });
  it.each(["thumb", "gray", "blur"] as const)("%s", async (variant) => {
    expect(md5(await run(input, variant, 4096))).toBe(GOLDEN[variant]);
  });
});

const GOLDEN: Record<"input" | Variant, string> = {
  input: "eca2c9ac45ec8517c385951350994be3",
  thumb: "17bf2437948dcb910b0b9c5b0f247093",
  gray: "1110015236fa2d16d87af701bdc9a307",
  blur: "750b87b8761cb5390e06abff03a73020",
};

describe("corrupt images are permanent `corrupt_input` errors", () => {
  const cases: [string, Buffer][] = [
    ["not a PPM", Buffer.from("GIF89a....")],
    ["ASCII PPM", Buffer.from("P3\n1 1\n255\n0 0 0\n")],
    ["16-bit", Buffer.from("P6\n1 1\n65535\n\0\0\0\0\0\0")],
    ["zero width", Buffer.from("P6\n0 1\n255\n")],
    ["huge", Buffer.from("P6\n100000 100000\n255\n")],
    ["truncated header", Buffer.from("P6\n12")],
    ["truncated pixels", Buffer.from("P6\n2 2\n255\n\0\0\0")],
    ["extra pixels", Buffer.concat([Buffer.from("P6\n1 1\n255\n"), Buffer.alloc(6)])],
  ];
  it.each(cases)("%s", async (_name, bytes) => {
    await expect(run(bytes, "gray", 3)).rejects.toMatchObject({
      errorClass: "corrupt_input",
      retryable: false,
    });
  });
});
