import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LatencyHistogram, PERCENTILE_RELATIVE_ERROR } from "../src/index.js";

/** The exact nearest-rank percentile: the sample of rank max(1, ceil(p/100 * n)). */
function exact(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[rank - 1] as number;
}

const PERCENTILES = [50, 90, 95, 99, 99.9];

function check(samples: number[]): void {
  const histogram = new LatencyHistogram();
  for (const s of samples) histogram.record(s);
  const sorted = [...samples].sort((a, b) => a - b);
  for (const p of PERCENTILES) {
    const truth = exact(sorted, p);
    const got = histogram.percentile(p);
    expect(Math.abs(got - truth) / truth).toBeLessThanOrEqual(PERCENTILE_RELATIVE_ERROR);
  }
  const summary = histogram.summary();
  expect(summary.count).toBe(samples.length);
  expect(summary.max).toBe(sorted.at(-1));
  expect(summary.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / samples.length, 9);
}

describe("LatencyHistogram", () => {
  it("stated error bound is at most 1%", () => {
    expect(PERCENTILE_RELATIVE_ERROR).toBeLessThanOrEqual(0.01);
  });

  it("percentiles are within the stated error of exact sorted-array percentiles on uniform data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 3000 }),
        (samples) => {
          check(samples);
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it("... and on skewed (log-normal-like, long-tailed) data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 0, max: 2 ** 30 })), {
          minLength: 50,
          maxLength: 5000,
        }),
        (pairs) => {
          // Box-Muller on uniform (0, 1]: exp(N(2, 1)) ms, a long tail from ~0.01 ms to ~10 s.
          const normal = ([a, b]: [number, number]) =>
            Math.sqrt(-2 * Math.log(a / 2 ** 30)) * Math.cos((2 * Math.PI * b) / 2 ** 30);
          check(pairs.map((pair) => Math.exp(2 + normal(pair))));
        },
      ),
      { seed: 7, numRuns: 60 },
    );
  });

  it("memory does not grow with the number of samples", () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) histogram.record(1 + (i % 1000));
    const before = histogram.footprintBytes;
    for (let i = 0; i < 1_000_000; i++) histogram.record(1 + (i % 1000));
    expect(histogram.footprintBytes).toBe(before);
    expect(histogram.count).toBe(1_001_000);
  });

  it("a sample beyond 24 h is held at 24 h for percentiles, exact for max", () => {
    const histogram = new LatencyHistogram();
    histogram.record(1e20);
    expect(histogram.percentile(50)).toBeGreaterThan(86_400_000 * 0.99);
    expect(histogram.summary().max).toBe(1e20);
  });

  it("an empty histogram reports zeros; negative samples count as 0", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.summary()).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0, sum: 0 });
    histogram.record(-5);
    expect(histogram.summary()).toMatchObject({ count: 1, max: 0, mean: 0 });
  });
});
