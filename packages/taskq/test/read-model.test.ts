// The read model's judgements over what the store answers (the store's own reads are in the
// idempotency driver suite): which kinds no live worker serves, and the charts' history from
// finishedHistory's capped buckets.
import type {
  FinishedHistory,
  FinishedHistoryQuery,
  KindStatusCounts,
  TaskStoreDriver,
} from "@taskq/idempotency";
import { describe, expect, it } from "vitest";
import {
  HISTORY_COUNT_CAP,
  HISTORY_SAMPLES,
  readThroughputHistory,
  unservedKinds,
  type WorkerReading,
} from "../src/read-model.js";

const counts = (kind: string, queued: number, scheduled = 0): KindStatusCounts => ({
  kind,
  queued,
  scheduled,
  running: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
});

const worker = (kinds: string[], stale = false): WorkerReading => ({
  owner: `w-${kinds.join("-")}`,
  startedAt: 1,
  heartbeatAt: 1,
  stale,
  leased: 0,
  leaseExpiresAt: null,
  executing: stale ? null : 0,
  threads: stale ? null : 1,
  processes: stale ? null : 0,
  slots: stale ? null : 1,
  kinds,
  name: null,
});

describe("unservedKinds", () => {
  const byKind = [counts("a", 3), counts("b", 1), counts("c", 0, 5), counts("d", 0)];

  it("names the kinds with due tasks that no live worker's report names", () => {
    expect(unservedKinds(byKind, [])).toEqual(["a", "b"]);
    expect(unservedKinds(byKind, [worker(["a"])])).toEqual(["b"]);
    expect(unservedKinds(byKind, [worker(["a", "b"])])).toEqual([]);
  });

  it("a stale worker serves nothing; a live one that did not say its kinds may serve any", () => {
    expect(unservedKinds(byKind, [worker(["a", "b"], true)])).toEqual(["a", "b"]);
    expect(unservedKinds(byKind, [worker(["a"]), worker([])])).toEqual([]);
  });
});

describe("readThroughputHistory", () => {
  it("a reading per bucket, ending at its end; a capped bucket's rate from the time its counted ones took", async () => {
    const asked: FinishedHistoryQuery[] = [];
    const history: FinishedHistory = {
      now: 1_010_000,
      bucketMs: 5000,
      buckets: [
        { start: 1_000_000, succeeded: 10, succeededUntil: null, failed: 0, failedUntil: null, samples: [] },
        {
          start: 1_005_000,
          succeeded: HISTORY_COUNT_CAP,
          succeededUntil: 1_005_999, // the cap's worth took the bucket's first second
          failed: 1,
          failedUntil: null,
          samples: Array.from({ length: 20 }, (_, i) => ({ runMs: i + 1, totalMs: 10 * (i + 1) })),
        },
      ],
    };
    const store = {
      finishedHistory: async (q: FinishedHistoryQuery) => {
        asked.push(q);
        return history;
      },
    } as unknown as TaskStoreDriver;
    const readings = await readThroughputHistory(store, { spanMs: 10_000, bucketMs: 5000 });
    expect(asked).toEqual([
      { bucketMs: 5000, buckets: 2, countCap: HISTORY_COUNT_CAP, sampleLimit: HISTORY_SAMPLES },
    ]);
    expect(readings).toEqual([
      {
        now: 1_005_000,
        windowMs: 5000,
        succeededPerSec: 2,
        failedPerSec: 0,
        p95RunMs: null,
        p95TotalMs: null,
      },
      {
        now: 1_010_000,
        windowMs: 5000,
        succeededPerSec: HISTORY_COUNT_CAP,
        failedPerSec: 0.2,
        p95RunMs: 19,
        p95TotalMs: 190,
      },
    ]);
  });
});
