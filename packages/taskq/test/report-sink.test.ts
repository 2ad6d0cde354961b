// TaskReporter over a real SQLite store: a handler reporting in a tight loop costs one store call
// (the last progress wins, the lines in order), nothing is written before the interval or a
// settle, a settle with nothing waiting answers at once, close writes what waits, and a report of
// an attempt the worker no longer holds writes nothing. The store is observed, not replaced: each
// call is counted, then passed on. An attempt's context: its progress and log bound to the
// attempt and sent to the runtime's sink; an attempt that never reports makes no function.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteTaskStore, type TaskReport } from "@taskq/idempotency";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type HandlerContext, runHandler, silentLogger } from "../src/handler.js";
import {
  logLine,
  progressJson,
  REPORT_INTERVAL_MS,
  ReportBuffer,
  type ReportMessage,
  TaskReporter,
} from "../src/report-sink.js";

const open: SqliteTaskStore[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of open.splice(0)) await s.close();
});

/** A store holding one running task (kind `k`, key `a`, attempt 1) of its own owner, and a counted view of its report. */
async function running() {
  const store = SqliteTaskStore.open({ path: join(mkdtempSync(join(tmpdir(), "taskq-reports-")), "t.db") });
  open.push(store);
  const claimed = await store.claim({ id: "t-a", idempotencyKey: "a", kind: "k", payload: {}, start: true });
  if (!claimed.created) throw new Error("not created");
  const calls: TaskReport[][] = [];
  const counted = {
    report: (reports: readonly TaskReport[]) => {
      calls.push([...reports]);
      return store.report(reports);
    },
  };
  return { store, seq: claimed.seq, calls, counted };
}

describe("TaskReporter", () => {
  it("coalesces a tight loop into one store call, flushed by settle before the outcome: the last progress, every line", async () => {
    const { store, seq, calls, counted } = await running();
    const reporter = new TaskReporter(counted, silentLogger);
    expect(reporter.settle("k", "a", 1)).toBeUndefined(); // nothing reported: nothing to wait for
    for (let i = 1; i <= 10_000; i++) {
      reporter.add("k", "a", 1, { p: String(i) });
      if (i % 1000 === 0) reporter.add("k", "a", 1, { l: `at ${i}`, at: i });
    }
    expect(calls).toHaveLength(0);
    await reporter.settle("k", "a", 1);
    expect(calls).toHaveLength(1);
    expect((await store.get(seq))?.progress).toBe(10_000);
    expect((await store.logs(seq)).lines.map((l) => l.line)).toEqual(
      Array.from({ length: 10 }, (_, i) => `at ${(i + 1) * 1000}`),
    );
    expect(reporter.settle("k", "a", 1)).toBeUndefined();
    await reporter.close();
    expect(calls).toHaveLength(1);
  });

  it("writes what waits once the interval has passed, not before; close writes the rest", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { store, seq, calls, counted } = await running();
    const reporter = new TaskReporter(counted, silentLogger);
    reporter.add("k", "a", 1, { p: "1" });
    reporter.add("k", "a", 1, { p: "2" });
    await vi.advanceTimersByTimeAsync(REPORT_INTERVAL_MS - 1);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    await reporter.settle("k", "a", 1); // the write in flight
    expect((await store.get(seq))?.progress).toBe(2);
    reporter.add("k", "a", 1, { l: "last", at: 1 });
    await reporter.close();
    expect(calls).toHaveLength(2);
    expect((await store.logs(seq)).lines.map((l) => l.line)).toEqual(["last"]);
    reporter.add("k", "a", 1, { p: "3" }); // after close: dropped
    expect(calls).toHaveLength(2);
  });

  it("a report of an attempt this worker no longer holds writes nothing; the one it holds is written", async () => {
    const { store, seq, counted } = await running();
    const reporter = new TaskReporter(counted, silentLogger);
    reporter.add("k", "a", 2, { p: "99" }); // not its attempt
    reporter.add("k", "a", 1, { p: "7" });
    await Promise.all([reporter.settle("k", "a", 2), reporter.settle("k", "a", 1)]);
    expect((await store.get(seq))?.progress).toBe(7);
  });

  it("checks what a handler reports where it runs: one line naming what was wrong", () => {
    expect(progressJson(50)).toBe("50");
    expect(progressJson({ done: 1, of: 2 })).toBe('{"done":1,"of":2}');
    expect(progressJson("step 2")).toBe('"step 2"');
    expect(() => progressJson(undefined)).toThrow(
      "progress must be a JSON value (a number, or a small object), got undefined",
    );
    expect(() => progressJson({ at: new Date(0) })).toThrow(/^progress\.at /);
    expect(() => progressJson(Number.NaN)).toThrow("progress is NaN, which JSON cannot hold");
    expect(() => progressJson("é".repeat(2049))).toThrow(
      "progress is 4100 bytes as JSON, more than the 4096 allowed",
    );
    expect(logLine("ok")).toBe("ok");
    expect(() => logLine(42)).toThrow("log line must be a string, got number");
  });

  it("a buffer keeps the last progress and at most 1,000 lines of an attempt, counting the rest; merged the same way", () => {
    const thread = new ReportBuffer();
    for (let i = 1; i <= 1200; i++) thread.add("k", "a", 1, { l: `l${i}`, at: i });
    thread.add("k", "a", 1, { p: "1" });
    thread.add("k", "a", 1, { p: "2" });
    const [entry] = thread.drain();
    expect(entry).toMatchObject({ progress: "2", dropped: 200 });
    expect(entry?.lines).toHaveLength(1000);
    expect(thread.size).toBe(0);
    const main = new ReportBuffer();
    main.add("k", "a", 1, { l: "first", at: 0 });
    main.merge(entry!);
    const [merged] = main.drain();
    expect(merged?.lines[0]?.line).toBe("first");
    expect(merged?.lines).toHaveLength(1000);
    expect(merged?.dropped).toBe(201);
  });
});

describe("an attempt's context", () => {
  const task = { payload: {}, id: "t-a", key: "a", kind: "k" };

  it("reports to its runtime's sink, bound to the attempt: progress and log may be passed around", async () => {
    const sent: [string, string, number, ReportMessage][] = [];
    const env = {
      logger: silentLogger,
      objects: undefined,
      options: { o: 1 },
      timeoutMs: 0,
      report: (kind: string, key: string, attempt: number, m: ReportMessage) =>
        sent.push([kind, key, attempt, m]),
    };
    const outcome = await runHandler(
      (_p, ctx) => {
        const { progress, log } = ctx;
        progress({ done: 1 });
        ["x", "y"].forEach(log);
        expect(ctx.progress).toBe(progress); // made once for the attempt
        expect(() => ctx.log(1 as unknown as string)).toThrow("log line must be a string, got number");
        return [ctx.id, ctx.key, ctx.kind, ctx.attempt, ctx.options, ctx.parents, ctx.signal.aborted];
      },
      task,
      2,
      env,
    );
    expect(outcome).toMatchObject({
      ok: true,
      output: JSON.stringify(["t-a", "a", "k", 2, { o: 1 }, {}, false]),
    });
    expect(sent).toEqual([
      ["k", "a", 2, { p: '{"done":1}' }],
      ["k", "a", 2, { l: "x", at: expect.any(Number) }],
      ["k", "a", 2, { l: "y", at: expect.any(Number) }],
    ]);
  });

  it("costs an attempt that never reports one object: no function of its own, nothing sent", async () => {
    const sent: unknown[] = [];
    const env = {
      logger: silentLogger,
      objects: undefined,
      options: undefined,
      timeoutMs: 0,
      report: () => sent.push(1),
    };
    let seen: HandlerContext | undefined;
    await runHandler(
      (_p, ctx) => {
        seen = ctx;
      },
      task,
      1,
      env,
    );
    expect(Object.values(seen as object).filter((v) => typeof v === "function")).toEqual([]);
    expect(sent).toEqual([]);
  });
});
