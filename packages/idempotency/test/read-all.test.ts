// statusTotals: statusCounts' numbers by kind summed into one per status (pure). everyTask and
// everyDeadLetter are in the driver suite (driver-suite-dashboard.ts), on both drivers.
import { describe, expect, it } from "vitest";
import { statusTotals } from "../src/index.js";

describe("statusTotals", () => {
  it("sums each status over the kinds; queued (due) and scheduled (due later) stay apart; total is every one", () => {
    const zero = { queued: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    expect(statusTotals({ byKind: [] })).toEqual({ ...zero, total: 0 });
    expect(
      statusTotals({
        byKind: [
          { kind: "a", queued: 1, scheduled: 2, running: 3, succeeded: 4, failed: 5, cancelled: 6 },
          { kind: "b", queued: 10, scheduled: 0, running: 0, succeeded: 7, failed: 0, cancelled: 1 },
        ],
      }),
    ).toEqual({ queued: 11, scheduled: 2, running: 3, succeeded: 11, failed: 5, cancelled: 7, total: 39 });
  });
});
