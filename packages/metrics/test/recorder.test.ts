import { describe, expect, it } from "vitest";
import { MetricsRecorder, TimeWeightedGauge } from "../src/index.js";

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TimeWeightedGauge", () => {
  it("weights each depth by how long it held (hand-computed)", () => {
    const clock = manualClock();
    const gauge = new TimeWeightedGauge(clock.now);
    // depth 0 for 1 s, 4 for 2 s, 10 for 1 s, 2 for 4 s: area = 0 + 8 + 10 + 8 = 26 over 8 s.
    clock.advance(1000);
    gauge.set(4);
    clock.advance(2000);
    gauge.set(10);
    clock.advance(1000);
    gauge.set(2);
    clock.advance(4000);
    expect(gauge.mean()).toBeCloseTo(26 / 8, 12);
    expect(gauge.max).toBe(10);
    // A sample-mean would say (4 + 10 + 2) / 3 = 5.33: the time weighting matters.
    expect(gauge.mean()).not.toBeCloseTo(16 / 3, 1);
  });
});

describe("MetricsRecorder", () => {
  it("computes every derived figure from the counters and the clock", () => {
    const clock = manualClock();
    const m = new MetricsRecorder({ threads: 4, now: clock.now });
    for (let i = 0; i < 10; i++) m.recordEnqueue(i + 1);
    clock.advance(500);
    for (let i = 0; i < 10; i++) m.recordDequeue(9 - i);
    for (let i = 0; i < 8; i++) {
      m.recordAttempt(100);
      m.recordSuccess({ totalMs: 10 * (i + 1), waitMs: i, runMs: 100 });
    }
    m.recordAttempt(50);
    m.recordRetry("transient");
    m.recordAttempt(50);
    m.recordFailure("permanent", { totalMs: 200, waitMs: 5, runMs: 100 });
    m.recordFailure("validation");
    m.recordRejection();
    m.recordBlocked();
    m.recordDuplicate();
    m.recordDuplicate();
    clock.advance(1500);
    const s = m.finish();
    clock.advance(10_000);
    expect(m.snapshot().durationSeconds).toBe(2);
    expect(s).toMatchObject({
      durationSeconds: 2,
      enqueued: 10,
      dequeued: 10,
      succeeded: 8,
      failed: 2,
      retried: 1,
      rejected: 1,
      blocked: 1,
      duplicates: 2,
      errorClassification: { transient: 1, permanent: 1, validation: 1 },
      throughputTps: 4,
      enqueueRate: 5,
      dequeueRate: 5,
      errorRate: 0.2,
      maxQueueDepth: 10,
      // busy 900 ms over 4 threads x 2 s
      threadUtilization: 900 / 8000,
    });
    expect(s.latency.count).toBe(9);
    expect(s.latency.max).toBe(200);
    expect(s.latency.mean).toBeCloseTo((10 + 20 + 30 + 40 + 50 + 60 + 70 + 80 + 200) / 9, 9);
  });

  it("counts exactly under many concurrent async updaters", async () => {
    const m = new MetricsRecorder();
    await Promise.all(
      Array.from({ length: 100 }, async (_, client) => {
        for (let i = 0; i < 100; i++) {
          m.recordEnqueue(client);
          await Promise.resolve();
          m.recordDequeue(client);
          m.recordSuccess({ totalMs: i, waitMs: 0, runMs: i });
          if (i % 10 === 0) m.recordRetry(i % 20 === 0 ? "transient" : "timeout");
        }
      }),
    );
    const s = m.snapshot();
    expect([s.enqueued, s.dequeued, s.succeeded, s.retried]).toEqual([10_000, 10_000, 10_000, 1000]);
    expect(s.errorClassification).toEqual({ transient: 500, timeout: 500 });
    expect(s.latency.count).toBe(10_000);
  });

  it("reset starts every figure and the clock over", () => {
    let now = 0;
    const m = new MetricsRecorder({ now: () => now });
    m.recordEnqueue(5);
    m.recordAttempt(10);
    m.recordSuccess({ totalMs: 10, waitMs: 0, runMs: 10 });
    m.recordRetry("transient");
    now = 1000;
    m.reset();
    now = 3000;
    m.recordSuccess({ totalMs: 4, waitMs: 1, runMs: 3 });
    expect(m.finish()).toMatchObject({
      durationSeconds: 2,
      enqueued: 0,
      succeeded: 1,
      retried: 0,
      errorClassification: {},
      maxQueueDepth: 0,
      throughputTps: 0.5,
      threadUtilization: 0,
      latency: { count: 1, max: 4 },
    });
  });

  it("validates threads by name", () => {
    expect(() => new MetricsRecorder({ threads: 0 })).toThrow("threads must be a positive integer, got 0");
  });
});
