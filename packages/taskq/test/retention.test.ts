import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteTaskStore } from "@taskq/idempotency";
import { describe, expect, it } from "vitest";
import { startRetention } from "../src/retention.js";

describe("background retention", () => {
  it("prunes what is past the window in batches, keeps the rest, and stops cleanly", async () => {
    let t = 1_000_000;
    const store = SqliteTaskStore.open({
      path: join(mkdtempSync(join(tmpdir(), "taskq-ret-")), "t.db"),
      now: () => t,
    });
    const finish = async (n: number) => {
      const c = (await store.claim({
        id: `t-${n}`,
        idempotencyKey: `k-${n}`,
        type: "x",
        payload: {},
        start: true,
      })) as {
        seq: number;
      };
      await store.succeed(c.seq, 0, {});
    };
    for (let n = 0; n < 7; n++) await finish(n);
    t += 5000;
    await finish(100); // recent
    await store.claim({ id: "q", idempotencyKey: "queued", type: "x", payload: {} });
    // intervalMs far away: the passes here are run by hand, no timer fires in the test
    const retention = startRetention(store, { retentionMs: 1000, batch: 3, intervalMs: 3_600_000 });
    expect(await retention.runOnce()).toBe(7);
    expect(await retention.runOnce()).toBe(0);
    expect(retention.pruned).toBe(7);
    expect((await store.all()).map((r) => r.id)).toEqual(["t-100", "q"]);
    await retention.stop();
    await store.close();
  });
});
