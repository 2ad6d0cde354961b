// statusCounts' answer assembled from its rows (record.ts, both drivers): the total is an estimate
// (PostgreSQL's planner statistics), stale before an ANALYZE, and is never shown below the tasks
// it has just counted (issue 33: "≈ 169" beside status cards that summed to 749).
import { describe, expect, it } from "vitest";
import { toStatusCounts } from "../src/record.js";

describe("toStatusCounts", () => {
  it("the estimate of the total is never below the tasks counted", () => {
    const counts = toStatusCounts(
      10_000,
      [
        { kind: "email", status: "queued", n: 700 },
        { kind: "email", status: "succeeded", n: 49 },
      ],
      { now: 1_000, totalEstimate: 169, deadLetters: 0, oldestDue: null },
    );
    expect(counts.totalEstimate).toBe(749);
    const fresh = toStatusCounts(10_000, [{ kind: "email", status: "queued", n: 3 }], {
      now: 1_000,
      totalEstimate: 5_000,
      deadLetters: 0,
      oldestDue: null,
    });
    expect(fresh.totalEstimate).toBe(5_000);
  });
});
