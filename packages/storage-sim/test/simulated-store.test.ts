import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createRng,
  deriveSeed,
  FsObjectStore,
  MemoryObjectStore,
  SimulatedObjectStore,
} from "../src/index.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("SimulatedObjectStore", () => {
  it("adds the base latency to every request (fake timers, no sleeping)", async () => {
    vi.useFakeTimers();
    const store = new SimulatedObjectStore(new MemoryObjectStore(), { baseLatencyMs: 30 });
    let done = false;
    const put = store.putObject("b", "k", Buffer.from("x")).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(29);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await put;
    expect(done).toBe(true);
  });

  it("injects transient faults at the configured rate, the same ones for the same seed", async () => {
    const faults = async (seed: number) => {
      const store = new SimulatedObjectStore(new MemoryObjectStore(), { faultProbability: 0.2, seed });
      await store.inner.putObject("b", "k", Buffer.from("x"));
      const outcome: boolean[] = [];
      for (let i = 0; i < 2000; i++) {
        outcome.push(
          await store.statObject("b", "k").then(
            () => false,
            (error) => {
              expect(error).toMatchObject({ code: "ERR_INJECTED_FAULT", retryable: true });
              return true;
            },
          ),
        );
      }
      return outcome;
    };
    const first = await faults(42);
    expect(await faults(42)).toEqual(first);
    const count = first.filter(Boolean).length;
    expect(count).toBeGreaterThan(320);
    expect(count).toBeLessThan(480);
  });

  it("an injected ENOSPC-like write failure is retryable and leaves no object or temporary file", async () => {
    const fs = await FsObjectStore.open({ root: await mkdtemp(join(tmpdir(), "taskq-sim-")) });
    const store = new SimulatedObjectStore(fs, { writeFaultProbability: 1 });
    const body = [Buffer.alloc(100, 1), Buffer.alloc(100, 2), Buffer.alloc(100, 3)];
    await expect(store.putObject("b", "k", body)).rejects.toMatchObject({
      code: "ERR_NO_SPACE",
      retryable: true,
    });
    await expect(fs.statObject("b", "k")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    expect(await fs.temporaryFiles()).toEqual([]);
  });

  it("validates its options by name", () => {
    const inner = new MemoryObjectStore();
    expect(() => new SimulatedObjectStore(inner, { faultProbability: 2 })).toThrow(
      "faultProbability must be between 0 and 1",
    );
    expect(() => new SimulatedObjectStore(inner, { baseLatencyMs: -1 })).toThrow("baseLatencyMs must be");
  });
});

describe("seeded randomness", () => {
  it("repeats for a seed and differs across seeds and derived parts", () => {
    const a = createRng(7);
    const b = createRng(7);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(deriveSeed(1, "key", 1)).toBe(deriveSeed(1, "key", 1));
    expect(deriveSeed(1, "key", 1)).not.toBe(deriveSeed(1, "key", 2));
  });
});
