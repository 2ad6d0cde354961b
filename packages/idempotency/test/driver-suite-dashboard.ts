// The store contract for the dashboard's reads and re-drive, run against every driver on its real
// backend, with an injected clock: bounded counts (and their caps), throughput and latency
// samples, keyset pages of tasks and dead letters, kinds, and re-driving chosen tasks.
import { describe, expect, it } from "vitest";
import {
  type ClaimInput,
  type DeadLetterListQuery,
  everyDeadLetter,
  everyTask,
  type TaskListQuery,
  type TaskRecord,
  type TaskStatus,
  type TaskStoreDriver,
} from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

/** A task that ran and succeeded; its seq. */
async function succeeded(s: TaskStoreDriver, n: number, extra: Partial<ClaimInput> = {}): Promise<number> {
  const { seq } = (await s.claim(task(n, { ...extra, start: true }))) as { seq: number };
  await s.succeed(seq, 0);
  return seq;
}

/** A task that ran and failed for good (a dead letter); its seq. */
async function failed(s: TaskStoreDriver, n: number, extra: Partial<ClaimInput> = {}): Promise<number> {
  const { seq } = (await s.claim(task(n, { ...extra, start: true }))) as { seq: number };
  await s.fail(seq, 0, { errorClass: "permanent", message: `bad ${n}` });
  return seq;
}

/** Every page of a listing, following the keyset (the last seq of each page) to the end. */
async function allPages<T extends { seq: number }>(
  list: (beforeSeq: number | undefined) => Promise<T[]>,
  limit: number,
): Promise<T[]> {
  const out: T[] = [];
  let before: number | undefined;
  for (let page = 0; page < 100_000; page++) {
    const got = await list(before);
    expect(got.length).toBeLessThanOrEqual(limit);
    out.push(...got);
    if (got.length < limit) return out;
    before = got.at(-1)?.seq;
  }
  throw new Error("the pages never ended");
}

const listAll = (s: TaskStoreDriver, filter: Omit<TaskListQuery, "limit" | "beforeSeq">, limit: number) =>
  allPages(
    (beforeSeq) => s.listTasks({ ...filter, limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) }),
    limit,
  );

/** The seqs a listing must give, newest first, from every record. */
const expected = (records: readonly TaskRecord[], filter: { status?: TaskStatus; kind?: string }) =>
  records
    .filter(
      (r) =>
        (filter.status === undefined || r.status === filter.status) &&
        (filter.kind === undefined || r.kind === filter.kind),
    )
    .map((r) => r.seq)
    .reverse();

/** Runs the dashboard contract against the stores `make` opens. */
export function testDashboardContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, dashboard: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("statusCounts: by kind and status, queued split into due and scheduled by the store's clock", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      expect(await s.statusCounts(100)).toEqual({
        now: 1_000_000,
        byKind: [],
        capped: [],
        totalEstimate: 0,
        deadLetters: 0,
        deadLettersCapped: false,
        oldestDueAgeMs: null,
      });
      await s.enqueueMany([
        task(1, { kind: "b" }),
        task(2, { kind: "b" }),
        task(3, { kind: "a", delayMs: 5000 }),
        task(4, { kind: "a" }),
        task(5, { kind: "a" }),
        task(6, { kind: "a" }),
        task(7, { kind: "c" }),
        task(8, { kind: "c", runAt: 1_000_100 }),
      ]);
      const [running, ok, bad] = await s.takeNext(3, ["a"]);
      expect([running?.id, ok?.id, bad?.id]).toEqual(["t-4", "t-5", "t-6"]);
      await s.succeed(ok!.seq, ok!.version);
      await s.fail(bad!.seq, bad!.version, { errorClass: "permanent", message: "no" });
      await s.cancel((await s.getByKey("c", task(7).idempotencyKey))!.seq);
      c.advance(50);
      const zero = { queued: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
      expect(await s.statusCounts(100)).toEqual({
        now: 1_000_050,
        byKind: [
          { ...zero, kind: "a", scheduled: 1, running: 1, succeeded: 1, failed: 1 },
          { ...zero, kind: "b", queued: 2 },
          { ...zero, kind: "c", scheduled: 1, cancelled: 1 },
        ],
        capped: [],
        totalEstimate: 8,
        deadLetters: 1,
        deadLettersCapped: false,
        oldestDueAgeMs: 50,
      });
      // t-8's run time comes: due now, counted as queued
      c.advance(100);
      expect((await s.statusCounts(100)).byKind.find((k) => k.kind === "c")).toEqual({
        ...zero,
        kind: "c",
        queued: 1,
        cancelled: 1,
      });
    });

    it("statusCounts: a cap that is hit lists the status as capped, its counts lower bounds", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([
        task(1, { kind: "b" }),
        task(2, { kind: "b" }),
        task(3, { kind: "b" }),
        task(4, { kind: "a", delayMs: 1000 }),
        task(5, { kind: "c" }),
      ]);
      await succeeded(s, 6, { kind: "a" });
      await succeeded(s, 7, { kind: "c" });
      await failed(s, 8, { kind: "a" });
      await failed(s, 9, { kind: "a" });
      await s.recordInvalid("bad-line", { x: 1 }, { errorClass: "validation", message: "no kind" });
      c.advance(10);
      const counts = await s.statusCounts(2);
      // queued: kind by kind within the cap (b's 3 counted as 2, none left for c); scheduled: a's 1
      expect(counts.byKind).toEqual([
        { kind: "a", queued: 0, scheduled: 1, running: 0, succeeded: 1, failed: 2, cancelled: 0 },
        { kind: "b", queued: 2, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
        { kind: "c", queued: 0, scheduled: 0, running: 0, succeeded: 1, failed: 0, cancelled: 0 },
      ]);
      expect(counts.capped).toEqual(["queued", "succeeded", "failed"]);
      expect(counts).toMatchObject({
        now: 1_000_010,
        totalEstimate: 9,
        deadLetters: 2,
        deadLettersCapped: true,
        oldestDueAgeMs: 10,
      });
      // at 1 every status with a task is capped
      expect((await s.statusCounts(1)).capped).toEqual(["queued", "scheduled", "succeeded", "failed"]);
      expect(await s.statusCounts(1_000_000)).toMatchObject({
        capped: [],
        deadLetters: 3,
        deadLettersCapped: false,
      });
    });

    it("recentFinished: successes and dead letters since a time, the latest successes newest first", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1), task(2, { delayMs: 1000 }), task(3), task(4)]);
      c.advance(100);
      const [t1] = await s.takeNext(1);
      c.advance(200); // 1_000_300: t-1 ran 200 ms, 300 ms after it was due
      await s.succeed(t1!.seq, t1!.version);
      const [t3] = await s.takeNext(1);
      const retried = await s.retry(t3!.seq, t3!.version, { errorClass: "transient", message: "x" }, 500);
      c.advance(500); // 1_000_800
      const again = await s.start(t3!.seq, retried);
      c.advance(200); // 1_001_000: t-3 ran 200 ms on its second attempt, 1000 ms after it was created
      await s.succeed(t3!.seq, again.version);
      const [t4, t2] = await s.takeNext(2); // t-4 ranks from 1_000_000, t-2 from its run time
      expect([t4?.id, t2?.id]).toEqual(["t-4", "t-2"]);
      c.advance(100); // 1_001_100: t-2 ran 100 ms, 100 ms after its run time
      await s.succeed(t2!.seq, t2!.version);
      await s.fail(t4!.seq, t4!.version, { errorClass: "permanent", message: "no" });
      await s.recordInvalid("bad-line", {}, { errorClass: "validation", message: "no" });
      expect(await s.recentFinished(1_000_000, 10)).toEqual({
        now: 1_001_100,
        succeeded: 3,
        failed: 2,
        samples: [
          { runMs: 100, totalMs: 100 },
          { runMs: 200, totalMs: 1000 },
          { runMs: 200, totalMs: 300 },
        ],
      });
      expect(await s.recentFinished(1_000_301, 1)).toEqual({
        now: 1_001_100,
        succeeded: 2,
        failed: 2,
        samples: [{ runMs: 100, totalMs: 100 }],
      });
      expect(await s.recentFinished(1_001_100, 0)).toEqual({
        now: 1_001_100,
        succeeded: 1,
        failed: 2,
        samples: [],
      });
      expect(await s.recentFinished(1_001_101, 10)).toEqual({
        now: 1_001_100,
        succeeded: 0,
        failed: 0,
        samples: [],
      });
    });

    it("listTasks: newest first; keyset pages cover every task once, under every filter", async () => {
      const s = await store();
      await s.enqueueMany([
        task(1, { kind: "a" }),
        task(2, { kind: "b" }),
        task(3, { kind: "a", delayMs: 60_000 }),
      ]);
      await succeeded(s, 4, { kind: "a" });
      await failed(s, 5, { kind: "b" });
      await s.claim(task(6, { kind: "c", start: true }));
      await succeeded(s, 7, { kind: "b" });
      await failed(s, 8, { kind: "a" });
      await s.cancel(((await s.claim(task(9, { kind: "a" }))) as { seq: number }).seq);
      await s.enqueueMany([task(10, { kind: "c" }), task(11, { kind: "a" }), task(12, { kind: "b" })]);
      await s.claim(task(13, { kind: "a", start: true }));
      await succeeded(s, 14, { kind: "c" });
      // every record, by its id (not through listTasks), in creation order
      const byId = await Promise.all(Array.from({ length: 14 }, (_, i) => s.getById(`t-${i + 1}`)));
      const records = byId.flat().sort((a, b) => a.seq - b.seq);
      expect(records).toHaveLength(14);
      expect(await everyTask(s)).toEqual(records);
      const newestFirst = records.map((r) => r.seq).reverse();
      for (const limit of [1, 3, 14, 500])
        expect((await listAll(s, {}, limit)).map((r) => r.seq)).toEqual(newestFirst);
      // whole records, as get() answers
      expect(await s.listTasks({ limit: 2 })).toEqual([records[13], records[12]]);
      for (const status of [undefined, "queued", "running", "succeeded", "failed", "cancelled"] as const)
        for (const kind of [undefined, "a", "b", "c", "absent"]) {
          const filter = { ...(status ? { status } : {}), ...(kind ? { kind } : {}) };
          for (const limit of [1, 2, 500])
            expect(
              (await listAll(s, filter, limit)).map((r) => r.seq),
              JSON.stringify({ filter, limit }),
            ).toEqual(expected(records, filter));
        }
      const top = newestFirst[0] as number;
      expect((await s.listTasks({ limit: 3, beforeSeq: top })).map((r) => r.seq)).toEqual(
        newestFirst.slice(1, 4),
      );
      expect(await s.listTasks({ limit: 3, beforeSeq: newestFirst.at(-1) as number })).toEqual([]);
      expect((await s.listTasks({ limit: 500, beforeSeq: top + 1000 })).map((r) => r.seq)).toEqual(
        newestFirst,
      );
    });

    it("listTasks: a set too large to read whole is walked by seq; pages still cover it once", async () => {
      const s = await store();
      // 3 early tasks, 5001 of one kind (more than a set read whole), then 2 late ones and a running one
      await s.enqueueMany([1, 2, 3].map((n) => task(n, { kind: "early" })));
      await s.enqueueMany(Array.from({ length: 5001 }, (_, i) => task(100 + i, { kind: "bulk" })));
      await s.enqueueMany([task(9001, { kind: "late" }), task(9002, { kind: "late" })]);
      await s.claim(task(9003, { kind: "bulk", start: true }));
      const records = await everyTask(s);
      expect(records).toHaveLength(5007);
      const seqOf = (id: string) => records.find((r) => r.id === id)?.seq as number;
      const queued = expected(records, { status: "queued" });
      expect((await s.listTasks({ status: "queued", limit: 4 })).map((r) => r.seq)).toEqual(
        queued.slice(0, 4),
      );
      expect((await s.listTasks({ kind: "bulk", limit: 2 })).map((r) => r.seq)).toEqual(
        expected(records, { kind: "bulk" }).slice(0, 2),
      );
      expect((await s.listTasks({ kind: "bulk", status: "queued", limit: 2 })).map((r) => r.seq)).toEqual(
        expected(records, { kind: "bulk", status: "queued" }).slice(0, 2),
      );
      // below the bulk, the few early ones are read whole
      expect(
        (await s.listTasks({ status: "queued", beforeSeq: seqOf("t-100"), limit: 10 })).map((r) => r.id),
      ).toEqual(["t-3", "t-2", "t-1"]);
      expect((await s.listTasks({ kind: "early", limit: 10 })).map((r) => r.id)).toEqual([
        "t-3",
        "t-2",
        "t-1",
      ]);
      expect((await s.listTasks({ kind: "late", status: "queued", limit: 10 })).map((r) => r.id)).toEqual([
        "t-9002",
        "t-9001",
      ]);
      expect((await s.listTasks({ status: "running", kind: "bulk", limit: 10 })).map((r) => r.id)).toEqual([
        "t-9003",
      ]);
      // every page, through the walk and then the read-whole sets as the pages go deeper
      expect((await listAll(s, { status: "queued" }, 500)).map((r) => r.seq)).toEqual(queued);
      expect((await listAll(s, { kind: "bulk" }, 499)).map((r) => r.seq)).toEqual(
        expected(records, { kind: "bulk" }),
      );
    });

    it("kinds: every kind in the tasks table, whatever its tasks' status, in code-point order", async () => {
      const s = await store();
      expect(await s.kinds()).toEqual([]);
      await s.enqueueMany([task(1, { kind: "z-1" }), task(2, { kind: "a" }), task(3, { kind: "a" })]);
      await succeeded(s, 4, { kind: "b.v2" });
      await failed(s, 5, { kind: "_x" });
      await s.cancel(((await s.claim(task(6, { kind: "A" }))) as { seq: number }).seq);
      expect(await s.kinds()).toEqual(["A", "_x", "a", "b.v2", "z-1"]);
    });

    it("listDeadLetters: newest first, keyset pages; open ones only unless includeRedriven", async () => {
      const s = await store();
      const seqs = [];
      for (const n of [1, 2, 3, 4, 5]) seqs.push(await failed(s, n));
      await s.recordInvalid("bad-line", { x: 1 }, { errorClass: "validation", message: "no" });
      expect(await s.redriveTasks([seqs[1] as number, seqs[3] as number])).toBe(2);
      const letters = await everyDeadLetter(s, { includeRedriven: true });
      expect(letters.map((d) => d.taskId)).toEqual(["t-1", "t-2", "t-3", "t-4", "t-5", "bad-line"]);
      const open = letters.filter((d) => d.redrivenAt === null).reverse();
      expect(open.map((d) => d.taskId)).toEqual(["bad-line", "t-5", "t-3", "t-1"]);
      for (const limit of [1, 2, 4, 500]) {
        const pages = await allPages(
          (beforeSeq) => s.listDeadLetters({ limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) }),
          limit,
        );
        expect(pages).toEqual(open);
        const everything = await allPages(
          (beforeSeq) =>
            s.listDeadLetters({
              limit,
              includeRedriven: true,
              ...(beforeSeq === undefined ? {} : { beforeSeq }),
            }),
          limit,
        );
        expect(everything).toEqual([...letters].reverse());
      }
      expect(await s.listDeadLetters({ limit: 10, beforeSeq: letters[0]!.seq })).toEqual([]);
    });

    it("listDeadLetters: each with its task's kind; by kind, keyset pages of that kind's only", async () => {
      const s = await store();
      const kinds = ["a", "b", "a", "c", "a", "b"];
      const seqs: number[] = [];
      for (const [i, kind] of kinds.entries()) seqs.push(await failed(s, i + 1, { kind }));
      await s.recordInvalid("bad-line", { x: 1 }, { errorClass: "validation", message: "no" });
      expect(await s.redriveTasks([seqs[2] as number])).toBe(1); // an "a" re-driven
      const open = await s.listDeadLetters({ limit: 500 });
      expect(open.map((d) => [d.taskId, d.kind])).toEqual([
        ["bad-line", null],
        ["t-6", "b"],
        ["t-5", "a"],
        ["t-4", "c"],
        ["t-2", "b"],
        ["t-1", "a"],
      ]);
      for (const limit of [1, 2, 500]) {
        const ofKind = (kind: string, includeRedriven = false) =>
          allPages(
            (beforeSeq) =>
              s.listDeadLetters({
                limit,
                kind,
                includeRedriven,
                ...(beforeSeq === undefined ? {} : { beforeSeq }),
              }),
            limit,
          );
        expect(await ofKind("a")).toEqual(open.filter((d) => d.kind === "a"));
        expect((await ofKind("b")).map((d) => d.taskId)).toEqual(["t-6", "t-2"]);
        expect((await ofKind("a", true)).map((d) => [d.taskId, d.redrivenAt !== null])).toEqual([
          ["t-5", false],
          ["t-3", true],
          ["t-1", false],
        ]);
        expect(await ofKind("nothing")).toEqual([]);
      }
      expect(await s.listDeadLetters({ limit: 10, kind: "a", beforeSeq: open[2]!.seq })).toEqual([open[5]]);
    });

    it("finishedHistory: successes, dead letters and the first successes' times, bucket by bucket", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const ran = async (n: number, runMs: number) => {
        const { seq } = (await s.claim(task(n, { start: true }))) as { seq: number };
        c.advance(runMs);
        await s.succeed(seq, 0);
      };
      await ran(1, 100); // finishes at 1_000_100: bucket [1_000_000, 1_001_000)
      await ran(2, 200); // 1_000_300
      await ran(3, 50); // 1_000_350
      c.advance(1000); // 1_001_350
      await failed(s, 4); // a dead letter at 1_001_350
      await ran(5, 400); // 1_001_750
      c.advance(1250); // the clock at 1_003_000
      const history = await s.finishedHistory({ bucketMs: 1000, buckets: 4, countCap: 2, sampleLimit: 2 });
      expect(history).toEqual({
        now: 1_003_000,
        bucketMs: 1000,
        buckets: [
          { start: 999_000, succeeded: 0, succeededUntil: null, failed: 0, failedUntil: null, samples: [] },
          {
            start: 1_000_000,
            succeeded: 2, // capped at 2: the second counted finished at 1_000_300
            succeededUntil: 1_000_300,
            failed: 0,
            failedUntil: null,
            samples: [
              { runMs: 100, totalMs: 100 },
              { runMs: 200, totalMs: 200 },
            ],
          },
          {
            start: 1_001_000,
            succeeded: 1,
            succeededUntil: null,
            failed: 1,
            failedUntil: null,
            samples: [{ runMs: 400, totalMs: 400 }],
          },
          { start: 1_002_000, succeeded: 0, succeededUntil: null, failed: 0, failedUntil: null, samples: [] },
        ],
      });
      const whole = await s.finishedHistory({ bucketMs: 5000, buckets: 1, countCap: 100, sampleLimit: 0 });
      expect(whole.buckets).toEqual([
        { start: 998_000, succeeded: 4, succeededUntil: null, failed: 1, failedUntil: null, samples: [] },
      ]);
    });

    it("everyTask: every task in creation order, through listTasks pages of 500 (one per 500, plus one), under a filter", async () => {
      const s = await store();
      const pages = { n: 0 };
      const counted = {
        listTasks: (q: TaskListQuery) => {
          pages.n++;
          return s.listTasks(q);
        },
      };
      expect(await everyTask(counted)).toEqual([]);
      expect(pages.n).toBe(1);
      // 1203 tasks (more than two pages) of two kinds, 501 of kind b succeeded
      const claims = await s.enqueueMany(
        Array.from({ length: 1203 }, (_, i) => task(i + 1, { kind: i % 3 === 0 ? "a" : "b" })),
      );
      const seqs = claims.map((c) => (c as { seq: number }).seq);
      const done: TaskRecord[] = [];
      while (done.length < 501) done.push(...(await s.takeNext(Math.min(100, 501 - done.length), ["b"])));
      await Promise.all(done.map((r) => s.succeed(r.seq, r.version)));
      pages.n = 0;
      const every = await everyTask(counted);
      expect(pages.n).toBe(4);
      expect(every.map((r) => r.seq)).toEqual([...seqs].sort((x, y) => x - y));
      expect(every.map((r) => r.id)).toEqual(Array.from({ length: 1203 }, (_, i) => `t-${i + 1}`));
      for (const r of [every[0], every[500], every[1202]]) expect(r).toEqual(await s.get(r!.seq));
      expect((await everyTask(s, { kind: "a" })).map((r) => r.seq)).toEqual(
        every.filter((r) => r.kind === "a").map((r) => r.seq),
      );
      expect((await everyTask(s, { kind: "b", status: "succeeded" })).map((r) => r.seq)).toEqual(
        done.map((r) => r.seq).sort((x, y) => x - y),
      );
      expect(await everyTask(s, { status: "queued" })).toHaveLength(1203 - 501);
      expect(await everyTask(s, { status: "failed" })).toEqual([]);
    });

    it("everyDeadLetter: every open dead letter oldest first, through pages of 500; re-driven ones when asked", async () => {
      const s = await store();
      const pages = { n: 0 };
      const counted = {
        listDeadLetters: (q: DeadLetterListQuery) => {
          pages.n++;
          return s.listDeadLetters(q);
        },
      };
      expect(await everyDeadLetter(counted)).toEqual([]);
      expect(pages.n).toBe(1);
      const f1 = await failed(s, 1);
      const f2 = await failed(s, 2);
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          s.recordInvalid(`bad-${i}`, { i }, { errorClass: "validation", message: "no" }),
        ),
      );
      const f3 = await failed(s, 3);
      expect(await s.redriveTasks([f2])).toBe(1);
      pages.n = 0;
      const open = await everyDeadLetter(counted);
      expect(pages.n).toBe(4); // 1002 open: 500, 500, 2, then none
      expect(open).toHaveLength(1002);
      expect(open.map((d) => d.seq)).toEqual(open.map((d) => d.seq).sort((x, y) => x - y));
      expect([open[0]?.taskSeq, open.at(-1)?.taskSeq]).toEqual([f1, f3]);
      expect(new Set(open.slice(1, -1).map((d) => d.taskId))).toEqual(
        new Set(Array.from({ length: 1000 }, (_, i) => `bad-${i}`)),
      );
      expect(open.every((d) => d.redrivenAt === null)).toBe(true);
      const everything = await everyDeadLetter(s, { includeRedriven: true });
      expect(everything).toHaveLength(1003);
      expect(everything[1]).toMatchObject({ taskSeq: f2, taskId: "t-2", redrivenAt: expect.any(Number) });
      expect(everything.filter((d) => d.redrivenAt === null)).toEqual(open);
      expect(await everyDeadLetter(s, { includeRedriven: false })).toEqual(open);
    });

    it("redriveTasks: exactly the failed ones of these seqs, attempts reset, letters marked and kept; the rest skipped, untouched", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const f1 = await failed(s, 1);
      const f2 = await failed(s, 2);
      const f3 = await failed(s, 3, { priority: 5 });
      const ok = await succeeded(s, 4);
      const { seq: waiting } = (await s.claim(task(5))) as { seq: number };
      const before = await everyTask(s);
      expect(before.find((r) => r.seq === f1)?.leaseOwner).toBe(s.owner); // who ran it, kept when it failed
      c.advance(1000);
      expect(await s.redriveTasks([f1, ok, waiting, 999_999, f1])).toBe(1);
      expect(await s.get(f1)).toMatchObject({
        status: "queued",
        leaseOwner: null,
        attempts: 0,
        errorClass: null,
        errorMessage: null,
        nextRunAt: 1_001_000,
        version: 2,
      });
      for (const seq of [f2, f3, ok, waiting])
        expect(await s.get(seq)).toEqual(before.find((r) => r.seq === seq));
      expect((await everyDeadLetter(s)).map((d) => d.taskSeq)).toEqual([f2, f3]);
      expect(
        (await everyDeadLetter(s, { includeRedriven: true })).find((d) => d.taskSeq === f1)?.redrivenAt,
      ).toBe(1_001_000);
      expect(await s.redriveTasks([])).toBe(0);
      expect(await s.redriveTasks([f1])).toBe(0); // queued now: skipped
      // re-driven now: ranked from now by priority (t-3, five points up, first), after t-5 queued before
      expect(await s.redriveTasks([f2, f3])).toBe(2);
      expect(await everyDeadLetter(s)).toEqual([]);
      // the letters stay as the tasks' history, as they were written, marked re-driven
      expect(
        (await everyDeadLetter(s, { includeRedriven: true })).map((d) => [
          d.taskSeq,
          d.errorMessage,
          d.attempts,
          d.redrivenAt !== null,
        ]),
      ).toEqual([
        [f1, "bad 1", 1, true],
        [f2, "bad 2", 1, true],
        [f3, "bad 3", 1, true],
      ]);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-3", "t-5", "t-1", "t-2"]);
    });

    it("refuses bad arguments with ERR_INVALID_INPUT naming the argument", async () => {
      const s = await store();
      const bad: [() => Promise<unknown>, RegExp][] = [
        [() => s.statusCounts(0), /^cap must be an integer from 1 to 1000000, got 0$/],
        [() => s.statusCounts(1.5), /^cap /],
        [() => s.statusCounts(1_000_001), /^cap /],
        [() => s.statusCounts("10" as unknown as number), /^cap .*got "10"$/],
        [() => s.recentFinished(-1, 10), /^sinceMs /],
        [() => s.recentFinished(Number.NaN, 10), /^sinceMs /],
        [() => s.recentFinished(0, 10_001), /^sampleLimit must be an integer from 0 to 10000, got 10001$/],
        [() => s.recentFinished(0, -1), /^sampleLimit /],
        [() => s.listTasks({ limit: 0 }), /^limit must be an integer from 1 to 500, got 0$/],
        [() => s.listTasks({ limit: 501 }), /^limit /],
        [
          () => s.listTasks({ limit: 10, status: "done" as TaskStatus }),
          /^status must be one of queued, running, succeeded, failed, cancelled, got "done"$/,
        ],
        [() => s.listTasks({ limit: 10, kind: "no way" }), /^kind must be a short plain identifier/],
        [() => s.listTasks({ limit: 10, beforeSeq: 0 }), /^beforeSeq must be a positive integer, got 0$/],
        [() => s.listTasks({ limit: 10, beforeSeq: 1.5 }), /^beforeSeq /],
        [() => s.listTasks(null as unknown as TaskListQuery), /^the task list query must be an object/],
        [() => s.listDeadLetters({ limit: 0 }), /^limit /],
        [() => s.listDeadLetters({ limit: 10, kind: "no way" }), /^kind must be a short plain identifier/],
        [
          () => s.finishedHistory({ bucketMs: 50, buckets: 10, countCap: 10, sampleLimit: 1 }),
          /^bucketMs must be an integer from 100 to 3600000, got 50$/,
        ],
        [() => s.finishedHistory({ bucketMs: 1000, buckets: 0, countCap: 10, sampleLimit: 1 }), /^buckets /],
        [() => s.finishedHistory({ bucketMs: 1000, buckets: 10, countCap: 0, sampleLimit: 1 }), /^countCap /],
        [
          () => s.finishedHistory({ bucketMs: 1000, buckets: 1000, countCap: 10, sampleLimit: 11 }),
          /^buckets x sampleLimit must be at most 10000, got 1000 x 11$/,
        ],
        [() => s.listDeadLetters({ limit: 10, beforeSeq: -1 }), /^beforeSeq /],
        [
          () => s.listDeadLetters({ limit: 10, includeRedriven: "yes" as unknown as boolean }),
          /^includeRedriven must be a boolean/,
        ],
        [
          () => s.redriveTasks(Array.from({ length: 1001 }, (_, i) => i + 1)),
          /^taskSeqs must hold at most 1000 task seqs, got 1001$/,
        ],
        [() => s.redriveTasks([1, 0]), /^taskSeqs\[1\] must be a positive integer, got 0$/],
        [() => s.redriveTasks("1" as unknown as number[]), /^taskSeqs must be an array/],
      ];
      for (const [call, message] of bad)
        await expect(call(), String(message)).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: expect.stringMatching(message),
        });
      // a thousand is allowed
      expect(await s.redriveTasks(Array.from({ length: 1000 }, (_, i) => i + 1))).toBe(0);
    });
  });
}
