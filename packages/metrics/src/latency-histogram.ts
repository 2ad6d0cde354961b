import { build, type Histogram } from "hdr-histogram-js";

/** count, mean, p50, p95, p99 and max of one latency series, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Sum of all samples, for Prometheus `_sum`. */
  readonly sum: number;
}

/**
 * Stated relative error of the percentiles against exact nearest-rank percentiles: HDR with 2
 * significant digits resolves 1 part in 128 (0.79%); 1% leaves room for float rounding.
 */
export const PERCENTILE_RELATIVE_ERROR = 0.01;

/** Longest sample the percentiles resolve: 24 hours. */
export const MAX_TRACKED_MS = 86_400_000;

/**
 * A latency series in milliseconds whose memory does not grow with the number of samples: an
 * HDR histogram of nanoseconds with 2 significant digits (nearest-rank percentiles within 1% of the
 * exact value, reported at the top of their bucket), plus an exact sum, count and max.
 */
export class LatencyHistogram {
  readonly #histogram: Histogram = build({ numberOfSignificantValueDigits: 2, lowestDiscernibleValue: 1 });
  #count = 0;
  #sum = 0;
  #max = 0;

  /**
   * Records one sample in milliseconds. Negative and NaN samples count as 0; the histogram holds
   * samples up to 24 hours (longer ones are counted there, while max and mean stay exact).
   */
  record(ms: number): void {
    // biome-ignore lint/complexity/useMathMinMax: the ternary maps NaN to 0; Math.max would keep NaN.
    const value = ms > 0 ? ms : 0;
    this.#histogram.recordValue(Math.max(1, Math.round(Math.min(value, MAX_TRACKED_MS) * 1e6)));
    this.#count++;
    this.#sum += value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  /** The value at `percentile` (0-100) in ms, within PERCENTILE_RELATIVE_ERROR above the exact one. */
  percentile(percentile: number): number {
    if (this.#count === 0) return 0;
    return Math.min(this.#histogram.getValueAtPercentile(percentile) / 1e6, this.#max);
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.#max,
      sum: this.#sum,
    };
  }

  /** Bytes the histogram holds (constant in the number of samples). */
  get footprintBytes(): number {
    return this.#histogram.estimatedFootprintInBytes;
  }
}
