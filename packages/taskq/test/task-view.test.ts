// The one view of a task (client.get, taskq status, the dashboard's task page): "scheduled" and
// run times by the clock it is given (the store's), results parsed once.
import type { TaskRecord } from "@taskq/idempotency";
import { describe, expect, it } from "vitest";
import { resultOf, taskTiming, taskView } from "../src/task-view.js";

const T = Date.parse("2030-01-01T00:00:00Z");
const record = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  seq: 1,
  id: "t-1",
  idempotencyKey: "k",
  kind: "email",
  payload: { to: "a" },
  status: "queued",
  attempts: 0,
  maxAttempts: 3,
  createdAt: T,
  updatedAt: T,
  startedAt: null,
  finishedAt: null,
  nextRunAt: T,
  priority: 0,
  leaseOwner: null,
  leaseExpiresAt: null,
  outputKey: null,
  etag: null,
  result: null,
  errorClass: null,
  errorMessage: null,
  version: 0,
  correlationId: null,
  traceContext: null,
  progress: null,
  waitingFor: null,
  hasChildren: false,
  group: null,
  cancelRequestedAt: null,
  tags: [],
  ...over,
});

describe("taskView", () => {
  it("a queued task is scheduled while the store's clock is before its run time, and due after", () => {
    const later = record({ nextRunAt: T + 60_000 });
    expect(taskTiming(later, T)).toEqual({ scheduled: true, dueInMs: 60_000, runMs: null });
    expect(taskTiming(later, T + 60_000)).toEqual({ scheduled: false, dueInMs: 0, runMs: null });
    expect(taskTiming(later, T + 65_000)).toEqual({ scheduled: false, dueInMs: -5_000, runMs: null });
    // only a queued task is scheduled, whatever its nextRunAt says
    expect(taskTiming({ ...later, status: "running", startedAt: T }, T).scheduled).toBe(false);
  });

  it("the run time is the latest attempt's: to its end, or so far while it runs", () => {
    expect(taskTiming(record({ status: "running", startedAt: T }), T + 1_500).runMs).toBe(1_500);
    const ended = { startedAt: T, finishedAt: T + 250 };
    expect(taskTiming(record({ status: "succeeded", ...ended }), T + 9_999).runMs).toBe(250);
    expect(taskTiming(record({ status: "failed", ...ended }), T).runMs).toBe(250);
    expect(taskTiming(record({ status: "cancelled", cancelRequestedAt: T + 100, ...ended }), T).runMs).toBe(
      250,
    );
    // cancelled while queued (after an attempt that was retried): no attempt ended then
    expect(taskTiming(record({ status: "cancelled", ...ended }), T).runMs).toBeNull();
    expect(taskTiming(record({ status: "queued", attempts: 1, startedAt: T }), T).runMs).toBeNull();
  });

  it("keeps the record's fields, parses the result once, and says when it was read", () => {
    const view = taskView(
      record({ status: "running", startedAt: T, cancelRequestedAt: T + 5, result: '{"doubled":6}' }),
      T + 10,
    );
    expect(view).toMatchObject({
      seq: 1,
      idempotencyKey: "k",
      payload: { to: "a" },
      result: { doubled: 6 },
      cancelRequested: true,
      scheduled: false,
      runMs: 10,
      asOf: T + 10,
    });
    expect(JSON.parse(JSON.stringify(view)).result).toEqual({ doubled: 6 });
  });

  it("a result is the stored JSON, or the built-in types' text as it is", () => {
    expect(resultOf({ result: null })).toBeUndefined();
    expect(resultOf({ result: "null" })).toBeNull();
    expect(resultOf({ result: '"hello"' })).toBe("hello");
    expect(resultOf({ result: "3628800" })).toBe(3628800);
    expect(resultOf({ result: "slept 100 ms" })).toBe("slept 100 ms");
    // the digits of a big factorial are text: as a float they would not read back as written
    const digits = `9332621544394415268169923885626670049071596826438162146859296389521759999322991560894146397615651828625369792082722375825118521091686${"0".repeat(24)}`;
    expect(resultOf({ result: digits })).toBe(digits);
  });
});
