import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BUILT_IN_TYPES,
  builtInRunner,
  classify,
  compute,
  createFaultInjector,
  createProcessor,
  parseTask,
  syntheticPpm,
  TASK_TYPES,
  TimeoutError,
  transformImage,
} from "../src/index.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("the built-in types' registry", () => {
  it("has a runner for every type of the schema, found by kind, and none for any other name", async () => {
    expect(Object.keys(BUILT_IN_TYPES)).toEqual([...TASK_TYPES]);
    for (const type of TASK_TYPES) expect(builtInRunner(type)).toBe(BUILT_IN_TYPES[type]);
    for (const other of ["email", "toString", "__proto__", ""]) expect(builtInRunner(other)).toBeUndefined();
    // a task of a kind nothing registered runs fails for good, as a handler module's does
    const processor = await createProcessor({ key: "r", storage: { kind: "memory" } });
    const outcome = await processor.run({ id: "x", idempotencyKey: "x", type: "email" } as never, 1);
    expect(outcome).toMatchObject({ ok: false, error: { errorClass: "unknown_kind", retryable: false } });
    await processor.dispose();
  });
});

describe("handlers", () => {
  it("compute: exact factorial, fibonacci and double", () => {
    const run = (operation: string, value: number) =>
      compute(parseTask({ id: "c", type: "compute", operation, value }) as never).result;
    expect(run("factorial", 10)).toBe("3628800");
    expect(run("factorial", 25)).toBe("15511210043330985984000000");
    expect(run("fibonacci", 10)).toBe("55");
    expect(run("fibonacci", 100)).toBe("354224848179261915075");
    expect(run("double", 21)).toBe("42");
  });

  it("sleep past its timeout is cancelled at the timeout and classified `timeout` (fake timers)", async () => {
    vi.useFakeTimers();
    const processor = await createProcessor({ key: "t", storage: { kind: "memory" } });
    const outcome = processor.run(parseTask({ id: "s", type: "sleep", duration: 10, timeout: 2 }), 1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(await outcome).toMatchObject({ ok: false, error: { errorClass: "timeout", retryable: true } });
  });

  it("fail tasks fail permanently with their message", async () => {
    const processor = await createProcessor({ key: "t", storage: { kind: "memory" } });
    expect(await processor.run(parseTask({ id: "f", type: "fail", error_message: "boom" }), 1)).toMatchObject(
      {
        ok: false,
        error: { errorClass: "permanent", retryable: false, message: "boom" },
      },
    );
  });
});

describe("image tasks through the processor", () => {
  it("get → transform → put, with the output key derived from the idempotency key", async () => {
    const processor = await createProcessor({ key: "img", storage: { kind: "memory" }, chunkSize: 1024 });
    await processor.store.putObject("images", "a.ppm", syntheticPpm(50, 40, 9, 1024));
    const outcome = await processor.run(parseTask({ id: "t", image_key: "a.ppm", variant: "gray" }), 1);
    const expected: Buffer[] = [];
    for await (const piece of transformImage(syntheticPpm(50, 40, 9), "gray")) expected.push(piece);
    expect(outcome).toMatchObject({
      ok: true,
      output: { outputKey: "gray/a.ppm", bytes: Buffer.concat(expected).length },
    });
    const stored: Buffer[] = [];
    for await (const piece of await processor.store.getObject("derived", "gray/a.ppm"))
      stored.push(piece as Buffer);
    expect(Buffer.concat(stored).equals(Buffer.concat(expected))).toBe(true);
  });

  it("a missing source image is a permanent `not_found`", async () => {
    const processor = await createProcessor({ key: "img", storage: { kind: "memory" } });
    expect(
      await processor.run(parseTask({ id: "t", image_key: "missing.ppm", variant: "blur" }), 1),
    ).toMatchObject({
      ok: false,
      error: { errorClass: "not_found", retryable: false },
    });
  });

  it("a simulated storage fault is transient", async () => {
    const processor = await createProcessor({
      key: "f",
      storage: { kind: "memory" },
      simulation: { faultProbability: 1 },
    });
    expect(await processor.run(parseTask({ id: "t", image_key: "a.ppm", variant: "blur" }), 1)).toMatchObject(
      {
        ok: false,
        error: { errorClass: "transient", retryable: true },
      },
    );
  });
});

describe("fault injection", () => {
  it("decides per (key, attempt), repeatably, at about the configured rate", () => {
    const inject = createFaultInjector({ errorProbability: 0.2, transientShare: 0.75, seed: 5 });
    const decisions = Array.from({ length: 4000 }, (_, i) => inject(`k${i}`, 1).error);
    expect(Array.from({ length: 4000 }, (_, i) => inject(`k${i}`, 1).error?.message)).toEqual(
      decisions.map((e) => e?.message),
    );
    const failed = decisions.filter(Boolean);
    expect(failed.length).toBeGreaterThan(700);
    expect(failed.length).toBeLessThan(900);
    const transient = failed.filter((e) => e?.retryable).length;
    expect(transient / failed.length).toBeGreaterThan(0.68);
    expect(transient / failed.length).toBeLessThan(0.82);
    expect(() => createFaultInjector({ errorProbability: 1.5 })).toThrow(
      "errorProbability must be between 0 and 1",
    );
  });
});

describe("classify", () => {
  it.each([
    [new TimeoutError("slow"), "timeout", true],
    [
      Object.assign(new Error("x"), { name: "StorageError", code: "ERR_INJECTED_FAULT", retryable: true }),
      "transient",
      true,
    ],
    [
      Object.assign(new Error("x"), { name: "StorageError", code: "ERR_NOT_FOUND", retryable: false }),
      "not_found",
      false,
    ],
    [
      Object.assign(new Error("x"), { name: "StorageError", code: "ERR_INVALID_KEY", retryable: false }),
      "validation",
      false,
    ],
    [Object.assign(new Error("busy"), { retryable: true }), "transient", true],
    [new TypeError("bug"), "internal", false],
    ["a string", "internal", false],
  ])("%s → %s", (error, errorClass, retryable) => {
    expect(classify(error)).toMatchObject({ errorClass, retryable });
  });
});
