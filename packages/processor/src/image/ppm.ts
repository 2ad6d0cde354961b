import { PermanentError } from "../errors.js";

/** A binary Netpbm header: P6 (RGB) or P5 (gray), 8 bits per sample. */
export interface PpmHeader {
  readonly format: "P6" | "P5";
  readonly width: number;
  readonly height: number;
}

/** Largest side and pixel count accepted, so a forged header cannot ask for gigabytes. */
export const MAX_SIDE = 16_384;
export const MAX_PIXELS = 64 * 1024 * 1024;
const MAX_HEADER_BYTES = 1024;

export function channelsOf(format: PpmHeader["format"]): number {
  return format === "P6" ? 3 : 1;
}

export function encodeHeader(header: PpmHeader): Buffer {
  return Buffer.from(`${header.format}\n${header.width} ${header.height}\n255\n`, "ascii");
}

function corrupt(why: string): PermanentError {
  return new PermanentError(`corrupt image: ${why}`, "corrupt_input");
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** Parses a header at the start of `bytes`; returns undefined when more bytes are needed. */
function tryParseHeader(bytes: Buffer): { header: PpmHeader; length: number } | undefined {
  const tokens: string[] = [];
  let i = 0;
  while (tokens.length < 4) {
    while (i < bytes.length) {
      const byte = bytes[i] as number;
      if (byte === 0x23) {
        while (i < bytes.length && bytes[i] !== 0x0a) i++;
      } else if (isSpace(byte)) i++;
      else break;
    }
    const start = i;
    while (i < bytes.length && !isSpace(bytes[i] as number) && bytes[i] !== 0x23) i++;
    if (i >= bytes.length) return undefined;
    tokens.push(bytes.toString("latin1", start, i));
    if (tokens.length === 1 && tokens[0] !== "P6" && tokens[0] !== "P5")
      throw corrupt(`not a binary PPM/PGM (magic ${JSON.stringify(tokens[0]?.slice(0, 8))})`);
  }
  const [magic, w, h, max] = tokens as [string, string, string, string];
  const width = Number(w);
  const height = Number(h);
  if (!/^\d+$/.test(w) || !/^\d+$/.test(h) || width < 1 || height < 1) throw corrupt(`bad size ${w}x${h}`);
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS)
    throw corrupt(`size ${width}x${height} is over the limit`);
  if (max !== "255") throw corrupt(`only 8-bit images (maxval 255) are supported, got maxval ${max}`);
  // Exactly one whitespace byte separates the header from the pixels.
  return { header: { format: magic as PpmHeader["format"], width, height }, length: i + 1 };
}

/**
 * Reads a PPM/PGM from a stream of chunks and yields its rows one at a time: only the current
 * row and the current chunk are ever held. `onHeader` is called once the header is known.
 */
export async function* readRows(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onHeader: (header: PpmHeader) => void,
): AsyncGenerator<Buffer, void, undefined> {
  let pending: Buffer = Buffer.alloc(0);
  let header: PpmHeader | undefined;
  let row: Buffer | undefined;
  let filled = 0;
  let rowsDone = 0;
  for await (const piece of source) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (!header) {
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
      const parsed = tryParseHeader(pending);
      if (!parsed) {
        if (pending.length > MAX_HEADER_BYTES) throw corrupt("header too long");
        continue;
      }
      header = parsed.header;
      onHeader(header);
      chunk = pending.subarray(parsed.length);
      pending = Buffer.alloc(0);
      row = Buffer.allocUnsafe(header.width * channelsOf(header.format));
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (rowsDone === header.height) throw corrupt(`more pixel data than ${header.width}x${header.height}`);
      const current = row as Buffer;
      const take = Math.min(current.length - filled, chunk.length - offset);
      chunk.copy(current, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === current.length) {
        yield current;
        rowsDone++;
        row = Buffer.allocUnsafe(current.length);
        filled = 0;
      }
    }
  }
  if (!header) throw corrupt("truncated header");
  if (rowsDone < header.height) throw corrupt(`truncated pixel data: ${rowsDone} of ${header.height} rows`);
}
