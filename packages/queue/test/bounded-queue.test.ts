import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BoundedQueue,
  QueueClosedError,
  QueueFullError,
  QueueTimeoutError,
  RingDeque,
} from "../src/index.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("RingDeque", () => {
  it("is FIFO through growth and wrap-around", () => {
    const d = new RingDeque<number>(2);
    const out: number[] = [];
    for (let i = 0; i < 100; i++) {
      d.push(i);
      if (i % 3 === 0) out.push(d.shift() as number);
    }
    while (d.length) out.push(d.shift() as number);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe("BoundedQueue", () => {
  it("is FIFO", async () => {
    const q = new BoundedQueue<number>({ maxSize: 10 });
    for (let i = 0; i < 10; i++) await q.put(i);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) out.push(await q.take());
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("never exceeds its capacity under 100 producers and 4 consumers, and loses nothing", async () => {
    const q = new BoundedQueue<number>({ maxSize: 7 });
    let maxSeen = 0;
    const check = () => {
      maxSeen = Math.max(maxSeen, q.size);
      expect(q.size).toBeLessThanOrEqual(7);
    };
    const producers = Array.from({ length: 100 }, async (_, p) => {
      for (let i = 0; i < 50; i++) {
        await q.put(p * 1000 + i);
        check();
      }
    });
    const seen: number[] = [];
    const consumers = Array.from({ length: 4 }, async () => {
      for (;;) {
        let item: number;
        try {
          item = await q.take();
        } catch {
          return;
        }
        check();
        seen.push(item);
        if (seen.length % 3 === 0) await Promise.resolve();
      }
    });
    await Promise.all(producers);
    q.close();
    await Promise.all(consumers);
    expect(seen).toHaveLength(5000);
    expect(new Set(seen).size).toBe(5000);
    expect(maxSeen).toBe(7);
    // each producer's items arrive in the order it put them
    for (let p = 0; p < 100; p++) {
      const mine = seen.filter((x) => Math.floor(x / 1000) === p);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });

  it("serves waiting producers and consumers in arrival order; a new put does not overtake", async () => {
    const q = new BoundedQueue<string>({ maxSize: 1 });
    await q.put("first");
    const order: string[] = [];
    const waiting = ["a", "b", "c"].map((x) => q.put(x).then(() => order.push(x)));
    expect(q.waitingPutters).toBe(3);
    expect(q.tryPut("barging")).toBe(false);
    const taken: string[] = [];
    for (let i = 0; i < 4; i++) taken.push(await q.take());
    await Promise.all(waiting);
    expect(taken).toEqual(["first", "a", "b", "c"]);
    expect(order).toEqual(["a", "b", "c"]);

    const takers = [q.take(), q.take(), q.take()];
    expect(q.waitingTakers).toBe(3);
    await q.put("x");
    await q.put("y");
    await q.put("z");
    expect(await Promise.all(takers)).toEqual(["x", "y", "z"]);
  });

  it("reject mode throws QueueFullError at once and counts it", async () => {
    const q = new BoundedQueue<number>({ maxSize: 2, onFull: "reject" });
    await q.put(1);
    await q.put(2);
    await expect(q.put(3)).rejects.toBeInstanceOf(QueueFullError);
    await expect(q.put(4)).rejects.toThrow("queue is full (2 items): task rejected");
    expect(q.rejections).toBe(2);
    expect(q.size).toBe(2);
    // a put may still choose to wait
    const blocked = q.put(5, { onFull: "block" });
    expect(await q.take()).toBe(1);
    await blocked;
    expect([q.tryTake(), q.tryTake()]).toEqual([2, 5]);
  });

  it("abort and timeout end a wait and leave no listener or timer behind", async () => {
    vi.useFakeTimers();
    const q = new BoundedQueue<number>({ maxSize: 1 });
    await q.put(1);
    const controller = new AbortController();
    const aborted = q.put(2, { signal: controller.signal });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort(new Error("client went away"));
    await expect(aborted).rejects.toThrow("client went away");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);

    const timed = q.put(3, { timeoutMs: 500 });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    await expect(timed).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(vi.getTimerCount()).toBe(0);

    // a wait that succeeds also cleans up
    const signal = new AbortController().signal;
    const served = q.put(4, { signal, timeoutMs: 1000 });
    expect(q.tryTake()).toBe(1);
    await served;
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(q.waitingPutters).toBe(0);
    expect([q.size, q.tryTake()]).toEqual([1, 4]);

    await expect(q.take({ signal: AbortSignal.abort(new Error("already")) })).rejects.toThrow("already");
  });

  it("close rejects waiting and new puts; takers drain what is left, then get QueueClosedError", async () => {
    const q = new BoundedQueue<number>({ maxSize: 2 });
    await q.put(1);
    await q.put(2);
    const waitingPut = q.put(3);
    q.close();
    await expect(waitingPut).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.put(4)).rejects.toBeInstanceOf(QueueClosedError);
    expect(await q.take()).toBe(1);
    expect(await q.take()).toBe(2);
    await expect(q.take()).rejects.toBeInstanceOf(QueueClosedError);
    const empty = new BoundedQueue<number>();
    const waitingTake = empty.take();
    empty.close();
    await expect(waitingTake).rejects.toBeInstanceOf(QueueClosedError);
  });

  it("validates its options by name", () => {
    expect(() => new BoundedQueue({ maxSize: 0 })).toThrow("maxSize must be a positive integer, got 0");
    expect(() => new BoundedQueue({ onFull: "drop" as never })).toThrow(
      'onFull must be "block" or "reject", got "drop"',
    );
  });

  it("a million operations (with cancelled waiters among them) leave the heap where it was", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const q = new BoundedQueue<{ n: number }>({ maxSize: 64 });
    const cycle = async (rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < 64; i++) q.tryPut({ n: i });
        const controller = new AbortController();
        const cancelled = q.put({ n: -1 }, { signal: controller.signal }).catch(() => undefined);
        controller.abort();
        await cancelled;
        for (let i = 0; i < 64; i++) q.tryTake();
      }
    };
    await cycle(2000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await cycle(15_000); // ~1,000,000 puts and takes
    gc();
    const after = process.memoryUsage().heapUsed;
    expect(q.size).toBe(0);
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
  });
});
