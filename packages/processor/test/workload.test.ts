import { MemoryObjectStore } from "@taskq/storage-sim";
import { describe, expect, it } from "vitest";
import { ensureImages, generateTasks, parseTask } from "../src/index.js";

describe("generateTasks", () => {
  it("is seeded, has about the asked share of duplicate keys, and every task validates", () => {
    const a = generateTasks({ count: 1000, seed: 5 });
    expect(generateTasks({ count: 1000, seed: 5 })).toEqual(a);
    expect(generateTasks({ count: 1000, seed: 6 }).tasks).not.toEqual(a.tasks);
    const parsed = a.tasks.map((t) => parseTask(t));
    const keys = new Set(parsed.map((t) => t.idempotencyKey));
    expect(keys.size).toBe(a.uniqueKeys);
    expect(1 - keys.size / 1000).toBeGreaterThan(0.07);
    expect(1 - keys.size / 1000).toBeLessThan(0.13);
    expect(new Set(parsed.map((t) => t.id)).size).toBe(1000);
    expect(a.images).toHaveLength(Math.ceil(a.uniqueKeys / 3));
  });

  it("makes no-op workloads and validates its options", () => {
    const w = generateTasks({ count: 10, kind: "noop", duplicates: 0 });
    expect(w.tasks.every((t) => t["type"] === "noop")).toBe(true);
    expect(w.uniqueKeys).toBe(10);
    expect(() => generateTasks({ count: 0 })).toThrow("count must be a positive integer, got 0");
    expect(() => generateTasks({ count: 5, duplicates: 1 })).toThrow("duplicates must be in [0, 1), got 1");
  });

  it("ensureImages writes each missing source image once", async () => {
    const store = new MemoryObjectStore();
    const { tasks, images } = generateTasks({ count: 30, seed: 2 });
    const parsed = tasks.map((t) => parseTask(t));
    expect(await ensureImages(store, parsed, { size: { width: 8, height: 4 } })).toBe(images.length);
    expect(await ensureImages(store, parsed)).toBe(0);
    expect((await store.listObjects("images")).map((o) => o.key)).toEqual(images);
  });
});
