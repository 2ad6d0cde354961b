/**
 * A time-weighted gauge (queue depth): the mean is the area under the depth-over-time curve
 * divided by the elapsed time, not a mean of samples taken at arbitrary moments.
 */
export class TimeWeightedGauge {
  readonly #now: () => number;
  readonly #start: number;
  #value = 0;
  #since: number;
  #area = 0;
  #max = 0;

  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now;
    this.#start = now();
    this.#since = this.#start;
  }

  /** Sets the gauge; the old value is weighted by how long it held. */
  set(value: number): void {
    const t = this.#now();
    this.#area += this.#value * (t - this.#since);
    this.#since = t;
    this.#value = value;
    if (value > this.#max) this.#max = value;
  }

  get value(): number {
    return this.#value;
  }

  get max(): number {
    return this.#max;
  }

  /** Time-weighted mean from creation until `until` (default: now). */
  mean(until: number = this.#now()): number {
    const elapsed = until - this.#start;
    if (elapsed <= 0) return this.#value;
    return (this.#area + this.#value * (until - this.#since)) / elapsed;
  }
}
