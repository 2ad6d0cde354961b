import { describe, expect, it } from "vitest";
import { parseTask, toWire, ValidationError } from "../src/index.js";

describe("parseTask", () => {
  it("accepts each task type and derives the idempotency key", () => {
    expect(parseTask({ id: "t-1", image_key: "img-1.ppm", variant: "thumb" })).toEqual({
      id: "t-1",
      type: "image",
      imageKey: "img-1.ppm",
      variant: "thumb",
      idempotencyKey: "img-1.ppm#thumb",
    });
    expect(parseTask({ id: "c", type: "compute", operation: "factorial", value: 10 })).toMatchObject({
      idempotencyKey: "compute:factorial:10",
    });
    expect(parseTask({ id: "s", type: "sleep", duration: 2, timeout: 5 })).toMatchObject({
      durationMs: 2000,
      timeoutMs: 5000,
    });
    expect(parseTask({ id: "h", type: "http_request", url: "https://api.example.com/data" })).toMatchObject({
      method: "GET",
    });
    expect(parseTask({ id: "f", type: "fail" })).toMatchObject({ errorMessage: "Simulated failure" });
    expect(parseTask({ id: "n", type: "noop", idempotency_key: "k", max_attempts: 5 })).toEqual({
      id: "n",
      type: "noop",
      idempotencyKey: "k",
      maxAttempts: 5,
    });
  });

  it("round-trips through the wire format", () => {
    for (const raw of [
      { id: "a", image_key: "x/y.ppm", variant: "blur" },
      { id: "b", type: "sleep", duration: 0.5, timeout: 1 },
      { id: "c", type: "compute", operation: "double", value: -2.5 },
    ]) {
      const task = parseTask(raw);
      expect(parseTask(toWire(task))).toEqual(task);
    }
  });

  it("gives ids to tasks without one when asked", () => {
    expect(parseTask({ type: "noop" }, { generateId: () => "gen-1" }).id).toBe("gen-1");
  });

  it.each([
    [null, "must be a JSON object, got null"],
    [[1], "must be a JSON object, got an array"],
    [{ image_key: "a", variant: "gray" }, 'field "id" is missing'],
    [
      { id: 7, image_key: "a", variant: "gray" },
      'task "7" (file #3): field "id" must be a string, got number 7',
    ],
    [{ id: "t", variant: "gray" }, 'task "t" (file #3): field "image_key" is missing'],
    [
      { id: "t", image_key: "a", variant: "huge" },
      'field "variant" has unknown value "huge" (expected one of thumb, gray, blur)',
    ],
    [
      { id: "t", image_key: "../etc/passwd", variant: "gray" },
      'field "image_key" is not a safe object key: contains a ".." segment',
    ],
    [{ id: "t", image_key: "/etc/passwd", variant: "gray" }, "is an absolute path"],
    [{ id: "t", image_key: "a\0b", variant: "gray" }, "contains a NUL byte"],
    [{ id: "t", image_key: "k".repeat(1_000_000), variant: "gray" }, "longer than 1024 bytes"],
    [{ id: "t", image_key: "", variant: "gray" }, 'field "image_key" must not be empty'],
    [{ id: "t", type: "teleport" }, 'field "type" has unknown value "teleport"'],
    [
      { id: "t", type: "compute", operation: "factorial", value: 1e9 },
      'field "value" must be between 0 and 5000',
    ],
    [{ id: "t", type: "compute", operation: "fibonacci", value: 2.5 }, 'field "value" must be an integer'],
    [
      { id: "t", type: "compute", operation: "double", value: "2" },
      'field "value" must be a finite number, got "2"',
    ],
    [{ id: "t", type: "sleep", duration: -1 }, 'field "duration" must be between 0 and 3600'],
    [{ id: "t", type: "http_request", url: "ftp://x" }, 'field "url" must be an http or https URL'],
    [{ id: "t", type: "http_request", url: "not a url" }, 'field "url" is not a valid URL'],
    [{ id: "t", type: "noop", max_attempts: 0 }, 'field "max_attempts" must be between 1 and 100'],
  ])("rejects %j with a message naming the field", (raw, message) => {
    let caught: unknown;
    try {
      parseTask(raw, { position: "file #3" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).message).toContain(message);
    expect(caught).toMatchObject({ errorClass: "validation", retryable: false });
  });

  it("builds a position given as a function only for a message", () => {
    let calls = 0;
    const position = () => {
      calls++;
      return "tasks.json line 7";
    };
    expect(parseTask({ id: "ok", type: "noop" }, { position })).toMatchObject({ id: "ok" });
    expect(calls).toBe(0);
    expect(() => parseTask({ id: "bad", type: "noop", max_attempts: 0 }, { position })).toThrow(
      'task "bad" (tasks.json line 7): field "max_attempts"',
    );
    expect(calls).toBe(1);
  });
});
