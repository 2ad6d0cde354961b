import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { everyTask, SqliteTaskStore } from "@taskq/idempotency";
import { afterEach, describe, expect, it, vi } from "vitest";
import { retentionService } from "../src/maintenance/retention.js";
import { type ClusterGate, Maintenance, type MaintenanceService } from "../src/maintenance/service.js";

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
        kind: "x",
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
    await store.claim({ id: "q", idempotencyKey: "queued", kind: "x", payload: {} });
    // intervalMs far away: the passes here are run by hand, no timer fires in the test
    const retention = new Maintenance([
      retentionService(store, { retentionMs: 1000, batch: 3, everyMs: 3_600_000 }),
    ]);
    expect(await retention.runOnce("retention")).toBe(7);
    expect(await retention.runOnce("retention")).toBe(0);
    expect(retention.total("retention")).toBe(7);
    expect((await everyTask(store)).map((r) => r.id)).toEqual(["t-100", "q"]);
    await retention.stop();
    await store.close();
  });
});

describe("maintenance services", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A service that counts its passes; each pass waits for `release()` when `hold` is set. */
  function counting(oncePerCluster: boolean, hold = false) {
    let passes = 0;
    let release: () => void = () => undefined;
    const service: MaintenanceService = {
      name: "count",
      everyMs: 1000,
      oncePerCluster,
      async run() {
        passes++;
        if (hold) await new Promise<void>((resolve) => (release = resolve));
        return 1;
      },
    };
    return { service, passes: () => passes, release: () => release() };
  }

  it("a once-per-cluster pass runs in one process per interval: the gate picks it", async () => {
    vi.useFakeTimers();
    // the store's gate in miniature: the first caller of each interval wins
    const won = new Set<number>();
    const gate: ClusterGate = async () => {
      const interval = Math.floor(Date.now() / 1000);
      if (won.has(interval)) return false;
      won.add(interval);
      return true;
    };
    const a = counting(true);
    const b = counting(true);
    const nodes = [
      new Maintenance([a.service], { gate }).start(),
      new Maintenance([b.service], { gate }).start(),
    ];
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.passes() + b.passes()).toBe(3);
    for (const node of nodes) await node.stop();
  });

  it("a per-process pass runs in every process, ungated; a pass still running is not started twice", async () => {
    vi.useFakeTimers();
    const gate: ClusterGate = async () => false;
    const a = counting(false, true);
    const node = new Maintenance([a.service], { gate }).start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(a.passes()).toBe(1); // the first pass holds: the next two intervals skip
    a.release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.passes()).toBe(2);
    a.release();
    await node.stop();
    expect(node.total("count")).toBe(2);
  });

  it("refuses a service without a usable name or interval", () => {
    const ok = counting(false).service;
    expect(() => new Maintenance([{ ...ok, name: "Bad Name" }])).toThrow("short lower-case identifier");
    expect(() => new Maintenance([{ ...ok, everyMs: 0 }])).toThrow(
      "count: everyMs must be a positive integer, got 0",
    );
    expect(() => new Maintenance([ok, ok])).toThrow("two maintenance services named count");
  });
});
