/** One point of a series over time: seconds since the run started, and a value. */
export interface SeriesPoint {
  readonly t: number;
  readonly value: number;
}

/**
 * Keeps a value over time for charts in bounded memory: a point at most every `interval` ms;
 * when `capacity` points are held, every other one is dropped and the interval doubles.
 */
export class BoundedSeries {
  readonly #capacity: number;
  #interval: number;
  #points: SeriesPoint[] = [];
  #last = Number.NEGATIVE_INFINITY;

  constructor(capacity = 1000, intervalMs = 10) {
    this.#capacity = capacity;
    this.#interval = intervalMs;
  }

  add(ms: number, value: number): void {
    if (ms - this.#last < this.#interval) return;
    this.#last = ms;
    this.#points.push({ t: ms / 1000, value });
    if (this.#points.length >= this.#capacity) {
      this.#points = this.#points.filter((_, i) => i % 2 === 0);
      this.#interval *= 2;
    }
  }

  get points(): readonly SeriesPoint[] {
    return this.#points;
  }
}
