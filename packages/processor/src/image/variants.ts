import type { Variant } from "../task-schema.js";
import { channelsOf, type PpmHeader } from "./ppm.js";

/**
 * A band-wise image transform: it sees the input one row at a time and emits output rows as
 * soon as they are known, so memory is a few rows whatever the image size.
 */
export interface RowTransform {
  readonly output: PpmHeader;
  push(row: Buffer): Buffer[];
  finish(): Buffer[];
}

/** Luma (BT.601 integer weights): P6 in, P5 out. */
class Gray implements RowTransform {
  readonly output: PpmHeader;
  constructor(readonly input: PpmHeader) {
    this.output = { format: "P5", width: input.width, height: input.height };
  }
  push(row: Buffer): Buffer[] {
    if (this.input.format === "P5") return [row];
    const out = Buffer.allocUnsafe(this.input.width);
    for (let x = 0, i = 0; x < out.length; x++, i += 3) {
      out[x] =
        (77 * (row[i] as number) + 150 * (row[i + 1] as number) + 29 * (row[i + 2] as number) + 128) >> 8;
    }
    return [out];
  }
  finish(): Buffer[] {
    return [];
  }
}

/** Box downscale so the longest side is at most `size`: each output pixel averages its source box. */
class Thumb implements RowTransform {
  readonly output: PpmHeader;
  readonly #channels: number;
  readonly #xStart: Int32Array;
  readonly #sums: Uint32Array;
  #y = 0;
  #oy = 0;
  #rowsInBox = 0;

  constructor(
    readonly input: PpmHeader,
    size: number,
  ) {
    const scale = Math.min(1, size / Math.max(input.width, input.height));
    const width = Math.max(1, Math.round(input.width * scale));
    const height = Math.max(1, Math.round(input.height * scale));
    this.output = { format: input.format, width, height };
    this.#channels = channelsOf(input.format);
    this.#xStart = new Int32Array(width + 1);
    for (let ox = 0; ox <= width; ox++) this.#xStart[ox] = Math.floor((ox * input.width) / width);
    this.#sums = new Uint32Array(width * this.#channels);
  }

  /** Last source row (exclusive) of output row `oy`. */
  #yEnd(oy: number): number {
    return Math.floor(((oy + 1) * this.input.height) / this.output.height);
  }

  push(row: Buffer): Buffer[] {
    const c = this.#channels;
    const sums = this.#sums;
    for (let ox = 0; ox < this.output.width; ox++) {
      const x0 = this.#xStart[ox] as number;
      const x1 = this.#xStart[ox + 1] as number;
      for (let x = x0; x < x1; x++) {
        for (let k = 0; k < c; k++)
          sums[ox * c + k] = (sums[ox * c + k] as number) + (row[x * c + k] as number);
      }
    }
    this.#y++;
    this.#rowsInBox++;
    if (this.#y < this.#yEnd(this.#oy)) return [];
    const out = Buffer.allocUnsafe(this.output.width * c);
    for (let ox = 0; ox < this.output.width; ox++) {
      const count = ((this.#xStart[ox + 1] as number) - (this.#xStart[ox] as number)) * this.#rowsInBox;
      for (let k = 0; k < c; k++)
        out[ox * c + k] = Math.floor(((sums[ox * c + k] as number) + (count >> 1)) / count);
    }
    sums.fill(0);
    this.#rowsInBox = 0;
    this.#oy++;
    return [out];
  }

  finish(): Buffer[] {
    return [];
  }
}

/** 3x3 box blur with edges clamped: keeps a window of three rows. */
class Blur implements RowTransform {
  readonly output: PpmHeader;
  readonly #channels: number;
  #previous: Buffer | undefined;
  #current: Buffer | undefined;

  constructor(readonly input: PpmHeader) {
    this.output = input;
    this.#channels = channelsOf(input.format);
  }

  #blurRow(above: Buffer, row: Buffer, below: Buffer): Buffer {
    const c = this.#channels;
    const width = this.input.width;
    const out = Buffer.allocUnsafe(row.length);
    for (let x = 0; x < width; x++) {
      const left = (x === 0 ? 0 : x - 1) * c;
      const right = (x === width - 1 ? x : x + 1) * c;
      const mid = x * c;
      for (let k = 0; k < c; k++) {
        const sum =
          (above[left + k] as number) +
          (above[mid + k] as number) +
          (above[right + k] as number) +
          (row[left + k] as number) +
          (row[mid + k] as number) +
          (row[right + k] as number) +
          (below[left + k] as number) +
          (below[mid + k] as number) +
          (below[right + k] as number);
        out[mid + k] = Math.floor((sum + 4) / 9);
      }
    }
    return out;
  }

  push(row: Buffer): Buffer[] {
    const previous = this.#previous;
    const current = this.#current;
    this.#previous = current;
    this.#current = row;
    if (!current) return [];
    return [this.#blurRow(previous ?? current, current, row)];
  }

  finish(): Buffer[] {
    const current = this.#current;
    if (!current) return [];
    return [this.#blurRow(this.#previous ?? current, current, current)];
  }
}

/** Options of the image variants. */
export interface VariantOptions {
  /**
   * Longest side of a `thumb`, in pixels.
   * @default 64
   */
  readonly thumbSize?: number;
}

export function createTransform(
  variant: Variant,
  input: PpmHeader,
  options: VariantOptions = {},
): RowTransform {
  switch (variant) {
    case "gray":
      return new Gray(input);
    case "thumb":
      return new Thumb(input, options.thumbSize ?? 64);
    case "blur":
      return new Blur(input);
  }
}
