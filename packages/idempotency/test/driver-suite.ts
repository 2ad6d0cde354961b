// The task store contract, run against every driver on its real backend (the driver-suite
// pattern): every behaviour here holds for SQLite and for PostgreSQL alike.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type ClaimInput,
  everyDeadLetter,
  everyTask,
  MAX_COUNT_CAP,
  StaleTransitionError,
  type StatusTotals,
  StoreError,
  statusTotals,
  type TaskStoreDriver,
  WORKER_STALE_MS,
} from "../src/index.js";

export const task = (n: number, extra: Partial<ClaimInput> = {}): ClaimInput => ({
  id: `t-${n}`,
  idempotencyKey: `img-${n}.ppm#thumb`,
  kind: "image",
  payload: { id: `t-${n}`, image_key: `img-${n}.ppm`, variant: "thumb" },
  ...extra,
});

export function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/**
 * Every task counted by status: statusCounts with the largest cap (above any test's store, so
 * exact), summed over the kinds. `queued` is the due ones, `scheduled` the queued ones due later.
 */
export async function totals(s: TaskStoreDriver): Promise<StatusTotals> {
  return statusTotals(await s.statusCounts(MAX_COUNT_CAP));
}

/** What a driver factory may be given. */
export interface MakeOptions {
  readonly now?: () => number;
  readonly leaseMs?: number;
  readonly owner?: string;
  readonly maxAttempts?: number;
  /** Open a second store on the same backend as the last one made (another process or node). */
  readonly sameAs?: TaskStoreDriver;
}

/** The stores a test opens through `make`, closed after each test (in a describe block). */
export function storesClosedAfterEach(
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): (options?: MakeOptions) => Promise<TaskStoreDriver> {
  const open: TaskStoreDriver[] = [];
  afterEach(async () => {
    const stores = open.splice(0).reverse();
    // PostgreSQL's state tables (migration 013) agree with the statuses after every test
    for (const s of stores) {
      const check = (s as { stateMismatches?: () => Promise<string[]> }).stateMismatches;
      if (!check) continue;
      const mismatches = await check.call(s).catch((error: { code?: string }) => {
        if (error.code === "ERR_CLOSED") return null;
        throw error;
      });
      if (mismatches === null) continue;
      expect(mismatches).toEqual([]);
      break;
    }
    for (const s of stores) await s.close();
  });
  return async (options?: MakeOptions) => {
    const s = await make(options);
    open.push(s);
    return s;
  };
}

/** Runs the contract against the stores `make` opens (each on a fresh, empty backend unless `sameAs`). */
export function testDriver(name: string, make: (options?: MakeOptions) => Promise<TaskStoreDriver>): void {
  describe(`task store contract: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("claims a new key once; a second claim is a duplicate that shows the record", async () => {
      const s = await store();
      const first = await s.claim(task(1));
      expect(first).toMatchObject({ created: true, version: 0, status: "queued", attempts: 0 });
      const second = await s.claim(task(1, { id: "other-id" }));
      expect(second.created).toBe(false);
      if (!second.created)
        expect(second.record).toMatchObject({ id: "t-1", status: "queued", attempts: 0, maxAttempts: 3 });
    });

    it("answers a batch of new claims, queued and started mixed, each with its own stored task", async () => {
      const s = await store();
      const inputs = [task(1), task(2, { start: true }), task(3), task(4, { start: true }), task(5)];
      const answers = await s.enqueueMany(inputs);
      for (const [n, answer] of answers.entries()) {
        expect(answer.created).toBe(true);
        const stored = await s.get((answer as { seq: number }).seq);
        const started = inputs[n]?.start === true;
        expect(stored).toMatchObject({
          id: inputs[n]?.id,
          idempotencyKey: inputs[n]?.idempotencyKey,
          status: started ? "running" : "queued",
          attempts: started ? 1 : 0,
          version: 0,
        });
        expect(answer).toEqual({
          created: true,
          seq: stored?.seq,
          version: 0,
          status: stored?.status,
          attempts: stored?.attempts,
        });
      }
    });

    it("answers each created claim with the stored task's seq, version, status and attempts, a duplicate between them too", async () => {
      const s = await store();
      const answers = await s.enqueueMany([
        task(1),
        task(2, { start: true }),
        task(1, { id: "dup" }),
        task(3, { start: true }),
        task(4),
      ]);
      expect(answers.map((a) => a.created)).toEqual([true, true, false, true, true]);
      for (const answer of answers) {
        if (!answer.created) continue;
        const stored = await s.get(answer.seq);
        expect(answer).toEqual({
          created: true,
          seq: stored?.seq,
          version: stored?.version,
          status: stored?.status,
          attempts: stored?.attempts,
        });
      }
      expect(answers.filter((a) => a.created).map((a) => (a as { status: string }).status)).toEqual([
        "queued",
        "running",
        "running",
        "queued",
      ]);
    });

    it("scopes idempotency keys by kind: the same key under two kinds is two tasks", async () => {
      const s = await store();
      const a = await s.claim(task(1, { kind: "a" }));
      const b = await s.claim(task(1, { kind: "b" }));
      expect(a.created && b.created).toBe(true);
      const dup = await s.claim(task(1, { kind: "b", id: "again" }));
      expect(dup.created === false && dup.record).toMatchObject({ kind: "b", id: "t-1" });
      const many = await s.enqueueMany([
        task(2, { kind: "a" }),
        task(2, { kind: "b" }),
        task(1, { kind: "a" }),
      ]);
      expect(many.map((r) => r.created)).toEqual([true, true, false]);
      expect((await s.getByKey("a", "img-1.ppm#thumb"))?.seq).toBe((a as { seq: number }).seq);
      expect((await s.getByKey("b", "img-1.ppm#thumb"))?.seq).toBe((b as { seq: number }).seq);
      expect(await s.getByKey("c", "img-1.ppm#thumb")).toBeUndefined();
      expect((await everyTask(s)).map((r) => `${r.kind}:${r.idempotencyKey}`)).toEqual([
        "a:img-1.ppm#thumb",
        "b:img-1.ppm#thumb",
        "a:img-2.ppm#thumb",
        "b:img-2.ppm#thumb",
      ]);
    });

    it("refuses a kind that is not a short plain identifier, naming it; nothing is written", async () => {
      const s = await store();
      for (const kind of ["", "9lives", "has space", "a/b", "x".repeat(65), "é"]) {
        await expect(s.claim(task(1, { kind }))).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: `kind must be a short plain identifier (letters, digits, _ . -; up to 64), got ${JSON.stringify(kind)}`,
        });
      }
      await expect(s.claim(task(1, { kind: 7 as unknown as string }))).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
      });
      await expect(s.enqueueMany([task(2), task(3, { kind: "no way" })])).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
      });
      for (const kind of ["a", "_x", "Image.v2", "http_request", "a-b", "x".repeat(64)])
        expect((await s.claim(task(4, { kind }))).created).toBe(true);
      expect((await totals(s)).total).toBe(6);
    });

    it("takes only the kinds asked for, in queue order across kinds; without kinds, every kind", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const other = await store({ now: c.now, sameAs: s });
      // queue order: next_run_at, then seq; a retried task comes back later
      for (const [n, kind] of [
        [1, "a"],
        [2, "b"],
        [3, "a"],
        [4, "c"],
        [5, "b"],
        [6, "a"],
      ] as const) {
        await s.claim(task(n, { kind }));
        c.advance(1);
      }
      const a = await s.takeNext(10, ["a"]);
      expect(a.map((r) => r.id)).toEqual(["t-1", "t-3", "t-6"]);
      expect(a.every((r) => r.kind === "a" && r.status === "running")).toBe(true);
      // a store serving [a] never takes b or c, even with nothing else queued
      expect(await other.takeNext(10, ["a"])).toEqual([]);
      // two kinds, limit across them: the first two in queue order
      expect((await other.takeNext(2, ["c", "b"])).map((r) => r.id)).toEqual(["t-2", "t-4"]);
      expect((await s.takeNext(10, ["b", "nobody"])).map((r) => r.id)).toEqual(["t-5"]);
      expect(await s.takeNext(10)).toEqual([]);
      // every kind, in queue order
      for (const [n, kind] of [
        [7, "z"],
        [8, "a"],
        [9, "m"],
      ] as const) {
        await s.claim(task(n, { kind }));
        c.advance(1);
      }
      expect((await s.takeNext(2)).map((r) => r.id)).toEqual(["t-7", "t-8"]);
      expect((await s.takeNext(5)).map((r) => r.kind)).toEqual(["m"]);
      // not due yet: not taken
      await s.claim(task(10, { kind: "a" }));
      const [ten] = await s.takeNext(1, ["a"]);
      await s.retry(ten!.seq, ten!.version, { errorClass: "transient", message: "later" }, 1000);
      expect(await s.takeNext(5, ["a"])).toEqual([]);
      c.advance(1000);
      expect((await s.takeNext(5, ["a"])).map((r) => r.id)).toEqual(["t-10"]);
    });

    it("refuses kinds that are empty or not kinds", async () => {
      const s = await store();
      await expect(s.takeNext(1, [])).rejects.toMatchObject({ code: "ERR_INVALID_INPUT" });
      await expect(s.takeNext(1, ["bad kind"])).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
        message: expect.stringContaining('"bad kind"'),
      });
    });

    it("claims with start straight into running, leased, one attempt counted", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 5000 });
      const claimed = await s.claim(task(1, { start: true }));
      expect(claimed).toMatchObject({ created: true, version: 0, status: "running", attempts: 1 });
      const seq = (claimed as { seq: number }).seq;
      expect(await s.get(seq)).toMatchObject({
        status: "running",
        attempts: 1,
        startedAt: 1_000_000,
        leaseOwner: s.owner,
        leaseExpiresAt: 1_005_000,
      });
      await expect(s.start(seq, 0)).rejects.toBeInstanceOf(StaleTransitionError);
      const dup = await s.claim(task(1, { start: true }));
      expect(dup.created === false && dup.record).toMatchObject({ status: "running", attempts: 1 });
      expect(await s.succeed(seq, 0, { outputKey: "thumb/img-1.ppm" })).toBe(1);
      expect(await totals(s)).toMatchObject({ running: 0, succeeded: 1, queued: 0, scheduled: 0 });
    });

    it("walks queued → running → succeeded; a duplicate then carries the stored output", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const { seq, version } = (await s.claim(task(1))) as { seq: number; version: number };
      c.advance(10);
      const started = await s.start(seq, version);
      expect(started).toEqual({ seq, version: 1, attempts: 1 });
      expect(await s.get(seq)).toMatchObject({
        status: "running",
        startedAt: 1_000_010,
        leaseOwner: s.owner,
      });
      c.advance(5);
      expect(
        await s.succeed(seq, started.version, { outputKey: "thumb/img-1.ppm", etag: "abc", result: "42" }),
      ).toBe(2);
      expect(await s.get(seq)).toMatchObject({
        status: "succeeded",
        finishedAt: 1_000_015,
        leaseOwner: s.owner, // who ran it
        leaseExpiresAt: null,
        version: 2,
      });
      const dup = await s.claim(task(1));
      expect(dup.created === false && dup.record).toMatchObject({
        status: "succeeded",
        outputKey: "thumb/img-1.ppm",
        etag: "abc",
        result: "42",
      });
      expect((await s.getByKey("image", "img-1.ppm#thumb"))?.seq).toBe(seq);
      expect((await s.getById("t-1")).map((r) => r.seq)).toEqual([seq]);
    });

    it("retry puts the task back with a next run time; failure dead-letters it", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const { seq, version } = (await s.claim(task(1))) as { seq: number; version: number };
      let v = (await s.start(seq, version)).version;
      v = await s.retry(seq, v, { errorClass: "transient", message: "slow down" }, 250);
      expect(await s.get(seq)).toMatchObject({
        status: "queued",
        attempts: 1,
        nextRunAt: 1_000_250,
        errorClass: "transient",
      });
      const again = await s.start(seq, v);
      expect(again.attempts).toBe(2);
      await s.fail(seq, again.version, { errorClass: "permanent", message: "corrupt image" });
      expect(await s.get(seq)).toMatchObject({
        status: "failed",
        attempts: 2,
        errorMessage: "corrupt image",
      });
      expect(await everyDeadLetter(s)).toEqual([
        expect.objectContaining({
          taskSeq: seq,
          taskId: "t-1",
          errorClass: "permanent",
          errorMessage: "corrupt image",
          attempts: 2,
        }),
      ]);
      const dup = await s.claim(task(1));
      expect(dup.created === false && dup.record.status).toBe("failed");
    });

    it("refuses stale transitions and applies nothing", async () => {
      const s = await store();
      const { seq, version } = (await s.claim(task(1))) as { seq: number; version: number };
      const started = await s.start(seq, version);
      await expect(s.start(seq, version)).rejects.toBeInstanceOf(StaleTransitionError);
      await expect(s.succeed(seq, version, {})).rejects.toThrow(
        /refused stale transition running → succeeded of task #/,
      );
      await s.succeed(seq, started.version, { outputKey: "a" });
      await expect(
        s.fail(seq, started.version, { errorClass: "x", message: "late writer" }),
      ).rejects.toBeInstanceOf(StaleTransitionError);
      await expect(s.release(seq, started.version + 1)).rejects.toBeInstanceOf(StaleTransitionError);
      expect(await s.get(seq)).toMatchObject({
        status: "succeeded",
        outputKey: "a",
        version: 2,
        errorMessage: null,
      });
      expect(await everyDeadLetter(s)).toEqual([]);
    });

    it("takeNext hands out due tasks by next run time then creation, leased to this owner", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([1, 2, 3, 4].map((n) => task(n)));
      const [first] = await s.takeNext(1);
      expect(first?.id).toBe("t-1");
      await s.retry(first!.seq, first!.version, { errorClass: "transient", message: "x" }, 1000);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-2", "t-3", "t-4"]);
      expect(await s.takeNext(10)).toEqual([]);
      c.advance(1000);
      const [retried] = await s.takeNext(10);
      expect(retried).toMatchObject({ id: "t-1", status: "running", attempts: 2, leaseOwner: s.owner });
    });

    it("takeNext returns the tasks it takes in queue order: next run time, then creation", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([1, 2, 3, 4, 5].map((n) => task(n)));
      const taken = await s.takeNext(5);
      expect(taken.map((r) => r.id)).toEqual(["t-1", "t-2", "t-3", "t-4", "t-5"]);
      // retried with delays that put them out of creation order
      const delays: Record<string, number> = { "t-1": 300, "t-2": 100, "t-3": 200, "t-4": 100, "t-5": 50 };
      for (const r of taken)
        await s.retry(r.seq, r.version, { errorClass: "transient", message: "x" }, delays[r.id] as number);
      c.advance(300);
      const again = await s.takeNext(10);
      expect(again.map((r) => r.id)).toEqual(["t-5", "t-2", "t-4", "t-3", "t-1"]);
      expect(again.map((r) => r.nextRunAt)).toEqual([1_000_050, 1_000_100, 1_000_100, 1_000_200, 1_000_300]);
    });

    it("enqueueMany stores all or nothing: one bad task refuses the whole call", async () => {
      const s = await store();
      await expect(s.enqueueMany([task(1), task(2, { idempotencyKey: "" })])).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
      });
      expect((await totals(s)).total).toBe(0);
      const results = await s.enqueueMany([task(1), task(2), task(1, { id: "again" })]);
      expect(results.map((r) => r.created)).toEqual([true, true, false]);
      const counted = await totals(s);
      expect(counted.queued + counted.scheduled).toBe(2);
    });

    it("keeps an invalid task as a dead letter with its reason", async () => {
      const s = await store();
      await s.recordInvalid(
        "bad-1",
        { id: "bad-1", variant: "sepia" },
        { errorClass: "validation", message: 'field "variant"' },
      );
      expect(await everyDeadLetter(s)).toEqual([
        expect.objectContaining({
          taskSeq: null,
          taskId: "bad-1",
          payload: { id: "bad-1", variant: "sepia" },
          errorClass: "validation",
        }),
      ]);
      // no task to re-drive: `taskq dlq retry bad-1` finds none by its id
      expect(await s.redriveTasks((await s.getById("bad-1")).map((r) => r.seq))).toBe(0);
    });

    it("reports counts by status, the oldest queued age, throughput and lease holders", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 1000 });
      const zero = { queued: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
      const empty = await s.statusCounts(MAX_COUNT_CAP);
      expect(statusTotals(empty)).toEqual({ ...zero, total: 0 });
      expect(empty).toMatchObject({
        capped: [],
        deadLetters: 0,
        deadLettersCapped: false,
        oldestDueAgeMs: null,
      });
      await s.claim(task(1));
      c.advance(100);
      const { seq, version } = (await s.claim(task(2))) as { seq: number; version: number };
      await s.claim(task(3));
      const st = await s.start(seq, version);
      expect(await s.leaseHolders()).toEqual([{ owner: s.owner, running: 1, leaseExpiresAt: 1_001_100 }]);
      c.advance(400);
      await s.succeed(seq, st.version);
      const counts = await s.statusCounts(MAX_COUNT_CAP);
      // both queued tasks are due (none scheduled for later)
      expect(statusTotals(counts)).toEqual({ ...zero, queued: 2, succeeded: 1, total: 3 });
      expect(counts).toMatchObject({
        capped: [],
        deadLetters: 0,
        deadLettersCapped: false,
        oldestDueAgeMs: 500,
      });
      // succeeded in the last 1 ms, then none in the last 99 ms, by the store's clock
      expect((await s.recentFinished((await s.now()) - 1, 0)).succeeded).toBe(1);
      c.advance(100);
      expect((await s.recentFinished((await s.now()) - 99, 0)).succeeded).toBe(0);
      expect(await s.leaseHolders()).toEqual([]);
      expect((await everyTask(s)).map((r) => r.id)).toEqual(["t-1", "t-2", "t-3"]);
    });

    it.each([
      [{ idempotencyKey: "k".repeat(1025) }, "idempotencyKey is longer than 1024 characters"],
      [{ idempotencyKey: 42 as unknown as string }, "idempotencyKey must be a string, got number"],
      [{ payload: { n: 1n } }, "payload is not JSON-serialisable"],
      [{ payload: () => 1 }, "payload is not JSON-serialisable (undefined or a function)"],
      [{ maxAttempts: 0 }, "maxAttempts must be an integer from 1 to 100, got 0"],
    ])("bad input %# is refused with a clear error and writes nothing", async (extra, message) => {
      const s = await store();
      const error = await s.claim(task(1, extra as Partial<ClaimInput>)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: "ERR_INVALID_INPUT", retryable: false });
      expect((error as Error).message).toContain(message);
      expect((await totals(s)).total).toBe(0);
    });

    it("commits concurrent calls in few batches and rejects a stale call alone", async () => {
      const s = await store();
      s.resetCounters();
      const claims = await Promise.all(Array.from({ length: 200 }, (_, n) => s.claim(task(n))));
      expect(claims.every((c) => c.created)).toBe(true);
      expect(s.counters()).toMatchObject({ operations: 200 });
      expect(s.counters().batches).toBeLessThanOrEqual(2);
      const first = claims[0] as { seq: number; version: number };
      const results = await Promise.allSettled([
        s.start(first.seq, first.version),
        s.start(first.seq, first.version),
        s.claim(task(999)),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "fulfilled", "rejected"]);
      expect(
        results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason),
      ).toEqual([expect.any(StaleTransitionError)]);
      expect(await totals(s)).toMatchObject({ total: 201, running: 1 });
    });

    it("flush waits for every call made so far to commit; startHeartbeat renews this owner's leases on a timer", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 300 });
      const other = await store({ sameAs: s, now: c.now });
      const claimed = s.claim(task(1, { start: true })); // not awaited: flush is what waits
      await s.flush();
      expect((await other.getById("t-1"))[0]?.status).toBe("running");
      const { seq } = (await claimed) as { seq: number };
      expect((await other.get(seq))?.leaseExpiresAt).toBe(1_000_300);
      c.advance(1000);
      s.startHeartbeat(); // every leaseMs / 3 by the timers, by the store's clock
      await vi.waitFor(async () => expect((await other.get(seq))?.leaseExpiresAt).toBe(1_001_300), {
        timeout: 10_000,
        interval: 20,
      });
    });

    it("a live owner's task is not taken until its lease expires; heartbeats extend it; the old owner is fenced", async () => {
      const c = clock();
      const a = await store({ now: c.now, leaseMs: 1000, owner: "other-host:1:a" });
      const b = await store({ now: c.now, leaseMs: 1000, owner: "other-host:2:b", sameAs: a });
      await a.enqueueMany([task(1)]);
      const [taken] = await a.takeNext(1);
      expect(await b.recover()).toBe(0);
      expect(await b.takeNext(1)).toEqual([]);
      c.advance(900);
      expect(await a.renewLeases()).toBe(1);
      c.advance(900);
      expect(await b.takeNext(1)).toEqual([]);
      c.advance(200);
      const [stolen] = await b.takeNext(1);
      expect(stolen).toMatchObject({ seq: taken?.seq, leaseOwner: "other-host:2:b", attempts: 2 });
      // the paused owner wakes up and reports: the version guard refuses it
      await expect(a.succeed(taken!.seq, taken!.version, { outputKey: "late" })).rejects.toBeInstanceOf(
        StaleTransitionError,
      );
      await b.succeed(stolen!.seq, stolen!.version, { outputKey: "b" });
      expect(await b.get(stolen!.seq)).toMatchObject({ status: "succeeded", outputKey: "b" });
    });

    it("two stores racing on the same keys: each key is created once, each task taken once", async () => {
      const a = await store();
      const b = await store({ sameAs: a });
      const keys = Array.from({ length: 100 }, (_, n) => task(n));
      const [ra, rb] = await Promise.all([
        Promise.all(keys.map((k) => a.claim(k))),
        Promise.all(keys.map((k) => b.claim(k))),
      ]);
      keys.forEach((_, i) => {
        expect(Number(ra[i]?.created) + Number(rb[i]?.created)).toBe(1);
      });
      const taken: number[] = [];
      for (;;) {
        const [ta, tb] = await Promise.all([a.takeNext(7), b.takeNext(7)]);
        if (ta.length + tb.length === 0) break;
        taken.push(...ta.map((r) => r.seq), ...tb.map((r) => r.seq));
      }
      expect(taken.length).toBe(100);
      expect(new Set(taken).size).toBe(100);
    });

    it("prune removes only succeeded tasks past the window: inside it a key dedupes, after it the key runs again", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const done = async (n: number) => {
        const claimed = (await s.claim(task(n, { start: true }))) as { seq: number };
        await s.succeed(claimed.seq, 0, { result: `r${n}` });
      };
      await done(1);
      await done(2);
      // a failed task with its open dead letter, a queued one, a running one, and a succeeded
      // task with a re-driven letter in its history
      const f = (await s.claim(task(3, { start: true }))) as { seq: number };
      await s.fail(f.seq, 0, { errorClass: "permanent", message: "no" });
      await s.claim(task(4));
      await s.claim(task(5, { start: true }));
      const h = (await s.claim(task(6, { start: true }))) as { seq: number };
      await s.fail(h.seq, 0, { errorClass: "permanent", message: "first try" });
      expect(await s.redriveTasks([h.seq])).toBe(1);
      const taken = await s.takeNext(5);
      expect(taken.map((r) => r.id)).toEqual(["t-4", "t-6"]);
      const six = taken[1] as { seq: number; version: number };
      await s.succeed(six.seq, six.version, { result: "r6" });
      c.advance(999);
      expect(await s.prune({ olderThanMs: 1000 })).toBe(0);
      const dup = await s.claim(task(1));
      expect(dup.created === false && dup.record.result).toBe("r1"); // inside the window: deduped
      c.advance(2);
      expect(await s.prune({ olderThanMs: 1000, limit: 2 })).toBe(2);
      expect(await s.prune({ olderThanMs: 1000, limit: 2 })).toBe(1);
      expect(await s.prune({ olderThanMs: 1000 })).toBe(0);
      expect((await everyTask(s)).map((r) => [r.id, r.status])).toEqual([
        ["t-3", "failed"],
        ["t-4", "running"],
        ["t-5", "running"],
      ]);
      expect((await everyDeadLetter(s)).map((d) => d.taskId)).toEqual(["t-3"]);
      expect((await s.claim(task(1))).created).toBe(true); // after the window: runs again
    });

    it("prune running alongside claims loses nothing", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const first = await Promise.all(
        Array.from({ length: 300 }, (_, n) => s.claim(task(n, { start: true }))),
      );
      await Promise.all(first.map((r) => s.succeed((r as { seq: number }).seq, 0)));
      c.advance(10);
      const [claims, pruned] = await Promise.all([
        Promise.all(Array.from({ length: 300 }, (_, n) => s.claim(task(1000 + n)))),
        (async () => {
          let total = 0;
          for (let n = -1; n !== 0; total += n) n = await s.prune({ olderThanMs: 5, limit: 50 });
          return total;
        })(),
      ]);
      expect(pruned).toBe(300);
      expect(claims.every((r) => r.created)).toBe(true);
      const counted = await totals(s);
      expect(counted).toMatchObject({ succeeded: 0, total: 300 });
      expect(counted.queued + counted.scheduled).toBe(300);
    });

    it("dlq purge removes old dead letters and their failed tasks; the key may run again", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      for (const n of [1, 2]) {
        const r = (await s.claim(task(n, { start: true }))) as { seq: number };
        await s.fail(r.seq, 0, { errorClass: "permanent", message: `bad ${n}` });
        c.advance(100);
      }
      await s.recordInvalid("bad-line", { x: 1 }, { errorClass: "validation", message: "bad" });
      expect(await s.purgeDeadLetters(150)).toBe(1); // t-1's, written 200 ms ago
      expect((await everyDeadLetter(s)).map((d) => d.taskId)).toEqual(["t-2", "bad-line"]);
      expect((await everyTask(s)).map((r) => r.id)).toEqual(["t-2"]);
      expect((await s.claim(task(1))).created).toBe(true);
      await expect(s.prune({ olderThanMs: -1 })).rejects.toThrow("olderThanMs must be >= 0, got -1");
    });

    it("names its dialect", async () => {
      const s = await store();
      expect(["sqlite", "postgres"]).toContain(s.dialect);
    });

    it("tryRunMaintenance: of many stores racing on one backend, one runs a job per interval", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const stores = [first];
      for (let n = 1; n < 5; n++)
        stores.push(await store({ now: c.now, owner: `node-${n}:1:a`, sameAs: first }));
      const race = () => Promise.all(stores.map((s) => s.tryRunMaintenance("retention", 1000)));
      expect((await race()).filter(Boolean)).toHaveLength(1);
      c.advance(999);
      expect((await race()).filter(Boolean)).toHaveLength(0);
      c.advance(1);
      expect((await race()).filter(Boolean)).toHaveLength(1);
      // another job has its own interval
      expect(await first.tryRunMaintenance("dead-letters", 60_000)).toBe(true);
      expect(await first.tryRunMaintenance("dead-letters", 60_000)).toBe(false);
      await expect(first.tryRunMaintenance("", 1000)).rejects.toMatchObject({ code: "ERR_INVALID_INPUT" });
      await expect(first.tryRunMaintenance("x", 0)).rejects.toThrow(
        "everyMs must be a positive integer, got 0",
      );
    });

    it("keeps a registry of workers: reported with the store's clock, listed, removed", async () => {
      const c = clock();
      const a = await store({ now: c.now, owner: "node-a:1:a" });
      const b = await store({ now: c.now, owner: "node-b:2:b", sameAs: a });
      expect(await a.workers()).toEqual([]);
      await a.reportWorker({ threads: 4, slots: 16, executing: 3, leased: 5, kinds: ["image"] });
      c.advance(100);
      // child processes (kinds isolated in processes) are kept when it has any
      await b.reportWorker({ threads: 2, processes: 3, slots: 8, executing: 0, leased: 0 });
      c.advance(100);
      await a.reportWorker({
        threads: 4,
        processes: 0,
        slots: 16,
        executing: 1,
        leased: 2,
        kinds: ["image"],
      });
      expect(await b.workers()).toEqual([
        {
          owner: "node-a:1:a",
          startedAt: 1_000_000,
          heartbeatAt: 1_000_200,
          info: { threads: 4, slots: 16, executing: 1, leased: 2, kinds: ["image"] },
        },
        {
          owner: "node-b:2:b",
          startedAt: 1_000_100,
          heartbeatAt: 1_000_100,
          info: { threads: 2, processes: 3, slots: 8, executing: 0, leased: 0 },
        },
      ]);
      await a.removeWorker();
      expect((await b.workers()).map((m) => m.owner)).toEqual(["node-b:2:b"]);
    });

    it("a retry or a release of a task whose cancel was asked for ends it cancelled: it never runs again", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1), task(2)]);
      const [a, b] = await s.takeNext(2);
      for (const t of [a!, b!]) expect((await s.cancel(t.seq)).outcome).toBe("requested");
      // the worker had not heard of the cancels: its attempt failed (retryable), or it closed
      await s.retry(a!.seq, a!.version, { errorClass: "flaky", message: "try again" }, 0);
      await s.release(b!.seq, b!.version);
      expect(await s.get(a!.seq)).toMatchObject({ status: "cancelled", finishedAt: 1_000_000 });
      expect(await s.get(b!.seq)).toMatchObject({ status: "cancelled", finishedAt: 1_000_000 });
      c.advance(1000);
      expect(await s.takeNext(10)).toEqual([]);
    });

    it("a reclaimed task: queued again, cancelled if a cancel was asked for, failed at its last attempt", async () => {
      const c = clock();
      const dead = await store({ now: c.now, owner: "node-a:1:a", leaseMs: 1000 });
      const live = await store({ now: c.now, owner: "node-b:2:b", leaseMs: 1000, sameAs: dead });
      await dead.enqueueMany([task(1), task(2), task(3, { maxAttempts: 1 })]);
      const taken = await dead.takeNext(3);
      expect(taken.map((t) => t.id)).toEqual(["t-1", "t-2", "t-3"]);
      expect((await live.cancel(taken[1]!.seq)).outcome).toBe("requested");
      c.advance(1001); // the dead owner's leases run out; the next take reclaims them
      expect((await live.takeNext(10)).map((t) => [t.id, t.attempts])).toEqual([["t-1", 2]]);
      expect(await live.get(taken[1]!.seq)).toMatchObject({ status: "cancelled", finishedAt: 1_001_001 });
      expect(await live.get(taken[2]!.seq)).toMatchObject({
        status: "failed",
        attempts: 1,
        maxAttempts: 1,
        errorClass: "lease_expired",
        leaseOwner: "node-a:1:a",
      });
      expect((await everyDeadLetter(live)).map((d) => [d.taskId, d.errorClass, d.attempts])).toEqual([
        ["t-3", "lease_expired", 1],
      ]);
    });

    it("forgets a worker killed without closing once it is stale and its leases are reclaimed", async () => {
      const c = clock();
      const dead = await store({ now: c.now, owner: "node-a:1:a", leaseMs: 30_000 });
      const live = await store({ now: c.now, owner: "node-b:2:b", leaseMs: 30_000, sameAs: dead });
      await dead.enqueueMany([task(1)]);
      await dead.reportWorker({ threads: 1, slots: 1, executing: 1, leased: 1 });
      expect(await dead.takeNext(1)).toHaveLength(1);
      // silent past WORKER_STALE_MS but still holding a lease: kept (every view shows it stale)
      c.advance(WORKER_STALE_MS + 1);
      await live.reportWorker({ threads: 1, slots: 1, executing: 0, leased: 0 });
      expect((await live.workers()).map((m) => m.owner)).toEqual(["node-a:1:a", "node-b:2:b"]);
      // its lease runs out and another store reclaims the task: the next report removes its row
      c.advance(30_000);
      expect((await live.takeNext(1)).map((r) => r.leaseOwner)).toEqual(["node-b:2:b"]);
      await live.reportWorker({ threads: 1, slots: 1, executing: 1, leased: 1 });
      expect((await live.workers()).map((m) => m.owner)).toEqual(["node-b:2:b"]);
    });

    it("cancels a queued task at once: cancelled, finished, never taken; again: finished", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const { seq } = (await s.claim(task(1))) as { seq: number };
      await s.claim(task(2));
      c.advance(10);
      const cancelled = await s.cancel(seq);
      expect(cancelled).toMatchObject({
        outcome: "cancelled",
        record: { seq, status: "cancelled", version: 1, finishedAt: 1_000_010, cancelRequestedAt: null },
      });
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-2"]);
      expect(await s.takeNext(10)).toEqual([]);
      expect(await s.cancel(seq)).toMatchObject({
        outcome: "finished",
        record: { status: "cancelled", version: 1 },
      });
      expect(await totals(s)).toMatchObject({ queued: 0, scheduled: 0, running: 1, cancelled: 1, total: 2 });
      // a duplicate of a cancelled task shows it, cancelled
      const dup = await s.claim(task(1));
      expect(dup.created === false && dup.record.status).toBe("cancelled");
      await expect(s.cancel(9999)).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    });

    it("cancels a running task by request: its worker is told, then ends it with cancelRunning", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const other = await store({ now: c.now, sameAs: s });
      await s.claim(task(1));
      await s.claim(task(2));
      const [one, two] = await s.takeNext(2);
      const heard = new Promise<number>((resolve) => s.onCancelRequested(resolve));
      if ("listening" in s) await (s as { listening(): Promise<void> }).listening();
      c.advance(5);
      // asked from the same store (SQLite tells only its own listeners) or another node (PostgreSQL)
      const asker = s.dialect === "postgres" ? other : s;
      const requested = await asker.cancel(one!.seq);
      expect(requested).toMatchObject({
        outcome: "requested",
        record: { status: "running", version: one!.version, cancelRequestedAt: 1_000_005 },
      });
      expect(await heard).toBe(one!.seq);
      expect(await s.cancelRequested([one!.seq, two!.seq])).toEqual([one!.seq]);
      expect(await s.cancelRequested([])).toEqual([]);
      // asked twice: still requested, the first time kept
      expect((await asker.cancel(one!.seq)).record.cancelRequestedAt).toBe(1_000_005);
      expect(await s.cancelRunning(one!.seq, one!.version)).toBe(one!.version + 1);
      expect(await s.get(one!.seq)).toMatchObject({
        status: "cancelled",
        leaseOwner: s.owner, // who ran it
        leaseExpiresAt: null,
        finishedAt: 1_000_005,
      });
      await expect(s.cancelRunning(one!.seq, one!.version)).rejects.toBeInstanceOf(StaleTransitionError);
      await expect(s.cancelRunning(two!.seq, two!.version + 1)).rejects.toBeInstanceOf(StaleTransitionError);
      expect(await s.cancelRequested([one!.seq, two!.seq])).toEqual([]);
      expect(await totals(s)).toMatchObject({ running: 1, cancelled: 1 });
    });

    it("leaves a finished task alone: outcome finished, the record as it was", async () => {
      const s = await store();
      const { seq } = (await s.claim(task(1, { start: true }))) as { seq: number };
      await s.succeed(seq, 0, { result: "42" });
      expect(await s.cancel(seq)).toMatchObject({
        outcome: "finished",
        record: { status: "succeeded", result: "42", version: 1, cancelRequestedAt: null },
      });
      const f = (await s.claim(task(2, { start: true }))) as { seq: number };
      await s.fail(f.seq, 0, { errorClass: "permanent", message: "no" });
      expect((await s.cancel(f.seq)).outcome).toBe("finished");
      expect(await totals(s)).toMatchObject({ succeeded: 1, failed: 1, cancelled: 0 });
    });

    it("a cancel racing a start: exactly one wins, the version guard refuses the other", async () => {
      for (let n = 0; n < 6; n++) {
        const s = await store();
        const other = await store({ sameAs: s });
        const { seq, version } = (await s.claim(task(n))) as { seq: number; version: number };
        const [started, cancelled] = await Promise.allSettled([s.start(seq, version), other.cancel(seq)]);
        const outcome = cancelled.status === "fulfilled" ? cancelled.value.outcome : "rejected";
        if (started.status === "fulfilled") {
          expect(outcome).toBe("requested");
          expect(await s.get(seq)).toMatchObject({ status: "running", version: version + 1 });
        } else {
          expect(started.reason).toBeInstanceOf(StaleTransitionError);
          expect(outcome).toBe("cancelled");
          expect(await s.get(seq)).toMatchObject({ status: "cancelled", version: version + 1 });
        }
        expect(await s.takeNext(1)).toEqual([]);
      }
    });

    it("a cancel racing a finish: the finish stands, the cancel is finished or requested too late", async () => {
      for (let n = 0; n < 6; n++) {
        const s = await store();
        const other = await store({ sameAs: s });
        const { seq } = (await s.claim(task(n, { start: true }))) as { seq: number };
        const [succeeded, cancelled] = await Promise.allSettled([s.succeed(seq, 0), other.cancel(seq)]);
        expect(succeeded.status).toBe("fulfilled");
        expect(cancelled.status === "fulfilled" && ["finished", "requested"]).toContain(
          cancelled.status === "fulfilled" && cancelled.value.outcome,
        );
        expect(await s.get(seq)).toMatchObject({ status: "succeeded", version: 1 });
        // the worker that would end it finds it moved on
        await expect(s.cancelRunning(seq, 0)).rejects.toBeInstanceOf(StaleTransitionError);
        expect((await s.cancel(seq)).outcome).toBe("finished");
      }
    });

    it("waitForChange wakes on a finish (PostgreSQL: made by another store object), at once on abort", async () => {
      const s = await store();
      const finisher = s.dialect === "postgres" ? await store({ sameAs: s }) : s;
      await s.waitForChange(0); // listening from here on (PostgreSQL)
      const a = (await finisher.claim(task(1, { start: true }))) as { seq: number };
      const b = (await finisher.claim(task(2, { start: true }))) as { seq: number };
      const c = (await finisher.claim(task(3))) as { seq: number };
      for (const finish of [
        () => finisher.succeed(a.seq, 0),
        () => finisher.fail(b.seq, 0, { errorClass: "permanent", message: "no" }),
        () => finisher.cancel(c.seq),
      ]) {
        // far past the test's timeout: only the finish can end the wait
        const woken = s.waitForChange(600_000);
        await finish();
        await woken;
      }
      const aborted = new AbortController();
      const waiting = s.waitForChange(600_000, aborted.signal);
      aborted.abort();
      await waiting;
      await s.waitForChange(600_000, aborted.signal); // already aborted: at once
    });

    it("close commits what is pending; a closed store refuses calls", async () => {
      const s = await store();
      const pending = s.claim(task(1));
      await s.close();
      expect((await pending).created).toBe(true);
      await expect(s.claim(task(2))).rejects.toMatchObject({ code: "ERR_CLOSED" });
    });
  });
}
