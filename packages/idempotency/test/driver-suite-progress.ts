// The store contract for progress and log lines (issue 35, migration 020), run against every
// driver on its real backend: a report stored and read back with the task, `version` untouched
// (the outcome's guarded transition still matches); a stale writer fenced (its lease taken over,
// or an older attempt); log lines appended in order, bounded (LOG_MAX_LINES a task, the rest
// counted as dropped; a long line cut), deleted with their task by retention and the dead
// letters' purge; bad input refused with nothing stored; a store of the current release
// (schema 17) migrated with its tasks untouched.
import { describe, expect, it } from "vitest";
import {
  LOG_LINE_MAX_CHARS,
  LOG_MAX_LINES,
  PROGRESS_MAX_BYTES,
  type TaskReport,
  type TaskStoreDriver,
} from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

/** A report for `task(n)`'s attempt. */
const report = (n: number, attempt: number, extra: Partial<TaskReport> = {}): TaskReport => ({
  kind: "image",
  key: `img-${n}.ppm#thumb`,
  attempt,
  ...extra,
});

/** `count` log lines numbered from `from`, at times from 1000. */
const lines = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => ({ at: 1000 + from + i, line: `line ${from + i}` }));

/**
 * A store as the current release (schema 17) leaves it, holding `task(1)` queued and `task(2)`
 * succeeded with result "2", opened by this code.
 */
export type ReleaseStore = () => Promise<TaskStoreDriver>;

export function testProgressContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
  releaseStore: ReleaseStore,
): void {
  describe(`task store contract, progress and log lines: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("stores the last progress of a running task, read with it; version untouched, so the outcome still lands", async () => {
      const s = await store();
      await s.claim(task(1));
      const [running] = await s.takeNext(1);
      expect(running?.progress).toBeNull();
      expect(await s.report([report(1, 1, { progress: "10" })])).toEqual([true]);
      expect(await s.report([report(1, 1, { progress: JSON.stringify({ done: 50, of: 100 }) })])).toEqual([
        true,
      ]);
      const read = await s.get(running!.seq);
      expect(read).toMatchObject({ progress: { done: 50, of: 100 }, version: running!.version });
      // the outcome's guarded transition with the version the take gave
      await s.succeed(running!.seq, running!.version, { result: "1" });
      expect(await s.get(running!.seq)).toMatchObject({
        status: "succeeded",
        progress: { done: 50, of: 100 },
      });
      // a finished task takes no more
      expect(await s.report([report(1, 1, { progress: "99" })])).toEqual([false]);
      expect((await s.get(running!.seq))?.progress).toEqual({ done: 50, of: 100 });
      // a task that never reported reads null, and a report for a task not running writes nothing
      await s.claim(task(2));
      expect(await s.report([report(2, 1, { progress: "5", lines: lines(1) })])).toEqual([false]);
      const [queued] = await s.getById("t-2");
      expect(queued?.progress).toBeNull();
      expect(await s.logs(queued!.seq)).toEqual({ lines: [], dropped: 0 });
    });

    it("fences a stale writer: its lease taken over (another owner, or its own next attempt) writes nothing", async () => {
      const c = clock();
      const a = await store({ now: c.now, leaseMs: 1000, owner: "node-a:1:x" });
      const b = await store({ now: c.now, leaseMs: 1000, owner: "node-b:1:y", sameAs: a });
      await a.claim(task(1));
      const [held] = await a.takeNext(1);
      expect(await a.report([report(1, 1, { progress: "1", lines: lines(1) })])).toEqual([true]);
      c.advance(5000); // a's lease expires; b reclaims and takes it
      const [taken] = await b.takeNext(1);
      expect(taken).toMatchObject({ seq: held!.seq, attempts: 2, leaseOwner: "node-b:1:y" });
      // a, still running its attempt 1: fenced, at either attempt number
      expect(await a.report([report(1, 1, { progress: "2", lines: lines(1, 2) })])).toEqual([false]);
      expect(await a.report([report(1, 2, { progress: "2" })])).toEqual([false]);
      // b, the holder, but naming the old attempt: fenced too
      expect(await b.report([report(1, 1, { progress: "3" })])).toEqual([false]);
      expect((await b.get(held!.seq))?.progress).toBe(1);
      expect(await b.report([report(1, 2, { progress: "4", lines: lines(1, 10) })])).toEqual([true]);
      expect((await b.get(held!.seq))?.progress).toBe(4);
      const log = await b.logs(held!.seq);
      expect(log.lines.map((l) => [l.seq, l.attempt, l.line])).toEqual([
        [1, 1, "line 1"],
        [2, 2, "line 10"],
      ]);
      // several reports in one call: each fenced on its own
      await a.claim(task(2));
      const [other] = await a.takeNext(1);
      expect(other?.idempotencyKey).toBe("img-2.ppm#thumb");
      expect(await a.report([report(1, 1, { progress: "5" }), report(2, 1, { progress: "6" })])).toEqual([
        false,
        true,
      ]);
      // b's outcome still lands with the version of its take
      await b.succeed(taken!.seq, taken!.version, {});
      expect(await b.get(taken!.seq)).toMatchObject({ status: "succeeded", progress: 4 });
    });

    it("appends log lines in order; keeps LOG_MAX_LINES a task, counting the rest as dropped; cuts a long line", async () => {
      const s = await store();
      await s.claim(task(1));
      const [t] = await s.takeNext(1);
      expect(await s.report([report(1, 1, { lines: lines(3) })])).toEqual([true]);
      expect(
        await s.report([report(1, 1, { lines: [{ at: 5, line: "x".repeat(LOG_LINE_MAX_CHARS + 50) }] })]),
      ).toEqual([true]);
      let log = await s.logs(t!.seq);
      expect(log.dropped).toBe(0);
      expect(log.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
      expect(log.lines[0]).toEqual({ seq: 1, at: 1001, attempt: 1, line: "line 1" });
      const long = log.lines[3]?.line ?? "";
      expect(long).toHaveLength(LOG_LINE_MAX_CHARS);
      expect(long.endsWith("…")).toBe(true);
      // past the cap: the first LOG_MAX_LINES kept, the rest counted (in one call and over calls)
      expect(await s.report([report(1, 1, { lines: lines(LOG_MAX_LINES, 100) })])).toEqual([true]);
      log = await s.logs(t!.seq);
      expect(log.lines).toHaveLength(LOG_MAX_LINES);
      expect(log.lines.at(-1)).toMatchObject({ seq: LOG_MAX_LINES, line: `line ${100 + LOG_MAX_LINES - 5}` });
      expect(log.dropped).toBe(4);
      expect(await s.report([report(1, 1, { lines: lines(2, 5000), dropped: 7 })])).toEqual([true]);
      expect(await s.report([report(1, 1, { dropped: 1 })])).toEqual([true]);
      log = await s.logs(t!.seq);
      expect(log.lines).toHaveLength(LOG_MAX_LINES);
      expect(log.dropped).toBe(4 + 2 + 7 + 1);
      // the outcome still lands
      await s.succeed(t!.seq, t!.version, {});
    });

    it("writes a flush of many tasks' reports in one call: each fenced and answered on its own, lines numbered per task", async () => {
      const s = await store();
      for (const n of [1, 2, 3]) await s.claim(task(n));
      const [one, two] = await s.takeNext(2); // t-1 and t-2 run, t-3 stays queued
      expect(
        await s.report([
          report(1, 1, { progress: "1", lines: lines(2) }),
          report(3, 1, { progress: "3", lines: lines(1) }), // not running
          report(2, 1, { lines: lines(3, 10), dropped: 2 }),
          report(1, 1, { progress: "11", lines: lines(1, 50) }), // the same task again: after the first
          report(2, 2, { progress: "22", lines: lines(1, 90) }), // not its attempt
        ]),
      ).toEqual([true, false, true, true, false]);
      expect((await s.get(one!.seq))?.progress).toBe(11);
      expect(await s.logs(one!.seq)).toEqual({
        lines: [
          { seq: 1, at: 1001, attempt: 1, line: "line 1" },
          { seq: 2, at: 1002, attempt: 1, line: "line 2" },
          { seq: 3, at: 1050, attempt: 1, line: "line 50" },
        ],
        dropped: 0,
      });
      expect((await s.get(two!.seq))?.progress).toBeNull();
      const log = await s.logs(two!.seq);
      expect(log.lines.map((l) => [l.seq, l.line])).toEqual([
        [1, "line 10"],
        [2, "line 11"],
        [3, "line 12"],
      ]);
      expect(log.dropped).toBe(2);
      const [queued] = await s.getById("t-3");
      expect(queued?.progress).toBeNull();
      expect(await s.logs(queued!.seq)).toEqual({ lines: [], dropped: 0 });
      expect(await s.report([])).toEqual([]);
      await s.succeed(one!.seq, one!.version, {});
      await s.succeed(two!.seq, two!.version, {});
    });

    it("retention and the dead letters' purge take a task's log lines with it", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1), task(2), task(3)]);
      const [a, b, keep] = await s.takeNext(3);
      expect(
        await s.report([
          report(1, 1, { lines: lines(2), progress: "1" }),
          report(2, 1, { lines: lines(LOG_MAX_LINES + 3) }),
          report(3, 1, { lines: lines(1) }),
        ]),
      ).toEqual([true, true, true]);
      await s.succeed(a!.seq, a!.version, {});
      await s.fail(b!.seq, b!.version, { errorClass: "permanent", message: "never" });
      c.advance(10_000);
      expect(await s.prune({ olderThanMs: 1000 })).toBe(1);
      expect(await s.logs(a!.seq)).toEqual({ lines: [], dropped: 0 });
      expect((await s.logs(b!.seq)).dropped).toBe(3);
      expect(await s.purgeDeadLetters(1000)).toBe(1);
      expect(await s.logs(b!.seq)).toEqual({ lines: [], dropped: 0 });
      // a task still running keeps its own
      expect((await s.logs(keep!.seq)).lines).toHaveLength(1);
      await s.succeed(keep!.seq, keep!.version, {});
    });

    it("refuses bad reports naming what was wrong, and stores nothing of the call", async () => {
      const s = await store();
      await s.claim(task(1));
      const [t] = await s.takeNext(1);
      const big = JSON.stringify("x".repeat(PROGRESS_MAX_BYTES));
      await expect(
        s.report([report(1, 1, { lines: lines(1) }), report(1, 1, { progress: big })]),
      ).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
        message: expect.stringMatching(/progress is \d+ bytes as JSON, more than the 4096 allowed/),
      });
      await expect(s.report([report(1, 0)])).rejects.toMatchObject({ code: "ERR_INVALID_INPUT" });
      await expect(s.report([report(1, 1, { dropped: -1 })])).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
      });
      expect(await s.logs(t!.seq)).toEqual({ lines: [], dropped: 0 });
      expect((await s.get(t!.seq))?.progress).toBeNull();
      await s.succeed(t!.seq, t!.version, {});
    });

    it("a store of the current release (schema 17) migrates with its tasks untouched, then takes reports", async () => {
      const s = await releaseStore();
      try {
        const [queued] = await s.getById("t-1");
        const [done] = await s.getById("t-2");
        expect(queued).toMatchObject({ status: "queued", attempts: 0, progress: null, version: 0 });
        expect(done).toMatchObject({ status: "succeeded", result: "2", progress: null });
        expect(await s.logs(done!.seq)).toEqual({ lines: [], dropped: 0 });
        const [t] = await s.takeNext(1);
        expect(t?.id).toBe("t-1");
        expect(await s.report([report(1, 1, { progress: "50", lines: lines(1) })])).toEqual([true]);
        await s.succeed(t!.seq, t!.version, {});
        expect(await s.get(t!.seq)).toMatchObject({ status: "succeeded", progress: 50 });
        expect((await s.logs(t!.seq)).lines).toHaveLength(1);
      } finally {
        await s.close();
      }
    });
  });
}
