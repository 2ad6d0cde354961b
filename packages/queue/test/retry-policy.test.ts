import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RetryPolicy } from "../src/index.js";

describe("RetryPolicy", () => {
  it("full jitter: each delay is in [0, min(cap, base * 2^(n-1)))", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const policy = new RetryPolicy({ baseDelayMs: 50, maxDelayMs: 5000, random: () => r });
          const ceiling = Math.min(5000, 50 * 2 ** (attempt - 1));
          expect(policy.ceilingMs(attempt)).toBe(ceiling);
          const delay = policy.delayMs(attempt);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling + 1e-9);
          expect(delay).toBeCloseTo(r * ceiling, 9);
        },
      ),
      { seed: 3, numRuns: 500 },
    );
  });

  it("a seeded source gives the same delays; the ceilings double up to the cap", () => {
    const seeded = () => {
      let s = 12345;
      return () => {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        return s / 2 ** 31;
      };
    };
    const a = new RetryPolicy({ random: seeded() });
    const b = new RetryPolicy({ random: seeded() });
    const delays = [1, 2, 3, 4].map((n) => a.delayMs(n));
    expect([1, 2, 3, 4].map((n) => b.delayMs(n))).toEqual(delays);
    expect([1, 2, 3, 4, 10].map((n) => a.ceilingMs(n))).toEqual([100, 200, 400, 800, 10_000]);
  });

  it("retries transient errors until maxAttempts, permanent ones never", () => {
    const policy = new RetryPolicy({ maxAttempts: 3 });
    expect(policy.shouldRetry({ retryable: true }, 1)).toBe(true);
    expect(policy.shouldRetry({ retryable: true }, 2)).toBe(true);
    expect(policy.shouldRetry({ retryable: true }, 3)).toBe(false);
    expect(policy.shouldRetry({ retryable: false }, 1)).toBe(false);
    expect(policy.shouldRetry({ retryable: true }, 3, 5)).toBe(true);
  });

  it("validates its options by name", () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(
      "maxAttempts must be a positive integer, got 0",
    );
    expect(() => new RetryPolicy({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(
      "maxDelayMs must be >= baseDelayMs (500), got 100",
    );
  });
});
