// The store contract for time (issue 22), run against every driver on its real backend with an
// injected clock: delayed tasks, priorities and their aging, recurring schedules fired exactly
// once by racing schedulers.
import { describe, expect, it } from "vitest";
import { everyTask, PRIORITY_AGING_MS, type ScheduleInput, type TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

const schedule = (over: Partial<ScheduleInput> = {}): ScheduleInput => ({
  name: "nightly",
  cron: "0 3 * * *",
  timezone: null,
  kind: "report",
  payload: { what: "sales" },
  options: {},
  nextRunAt: 1_000_000 + 60_000,
  ...over,
});

/** Runs the time contract against the stores `make` opens. */
export function testTimeContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, time: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("a delayed task starts no earlier than its time (runAt or delayMs by the store's clock)", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1, { delayMs: 5000 }), task(2, { runAt: 1_000_000 + 2000 }), task(3)]);
      const records = await everyTask(s);
      expect(records.map((r) => [r.id, r.status, r.nextRunAt])).toEqual([
        ["t-1", "queued", 1_005_000],
        ["t-2", "queued", 1_002_000],
        ["t-3", "queued", 1_000_000],
      ]);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-3"]);
      expect(await s.nextDueIn()).toBe(2000);
      expect(await s.nextDueIn(["image"])).toBe(2000);
      expect(await s.nextDueIn(["other"])).toBeNull();
      c.advance(1999);
      expect(await s.takeNext(10)).toEqual([]);
      expect(await s.nextDueIn()).toBe(1);
      c.advance(1);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-2"]);
      c.advance(2999);
      expect(await s.takeNext(10)).toEqual([]);
      c.advance(1);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-1"]);
      expect(await s.nextDueIn()).toBeNull();
    });

    it("a delayed task is cancellable until it starts", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const [claim] = await s.enqueueMany([task(1, { delayMs: 60_000 })]);
      const { outcome } = await s.cancel((claim as { seq: number }).seq);
      expect(outcome).toBe("cancelled");
      c.advance(60_000);
      expect(await s.takeNext(10)).toEqual([]);
    });

    it("refuses bad timing in one line naming it; nothing is written", async () => {
      const s = await store();
      const bad: [Partial<Parameters<typeof task>[1]>, string][] = [
        [{ priority: 1.5 }, "priority must be an integer"],
        [{ runAt: -1 }, "runAt must be a time"],
        [{ delayMs: -5 }, "delayMs must be an integer >= 0"],
        [{ runAt: 5, delayMs: 5 }, "give runAt or delayMs, not both"],
        [{ start: true, delayMs: 5 }, "cannot have a runAt or delayMs"],
      ];
      for (const [extra, message] of bad)
        await expect(s.claim(task(1, extra))).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: expect.stringContaining(message),
        });
      expect(await everyTask(s)).toEqual([]);
    });

    it("takes larger priority first, then earlier run time, then submission order", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([
        task(1),
        task(2, { priority: 5 }),
        task(3, { priority: -1 }),
        task(4, { priority: 5 }),
        task(5),
      ]);
      c.advance(10);
      await s.enqueueMany([task(6, { priority: 5 })]);
      const taken = await s.takeNext(10);
      expect(taken.map((r) => r.id)).toEqual(["t-2", "t-4", "t-6", "t-1", "t-5", "t-3"]);
      expect(taken.map((r) => r.priority)).toEqual([5, 5, 5, 0, 0, -1]);
    });

    it("keeps submission order among tasks of one rank, whatever their keys: in one enqueueMany, and in the calls of one turn", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany(
        ["m", "z", "a", "q", "b"].map((k, i) => task(i + 1, { idempotencyKey: `key-${k}` })),
      );
      // claims made in one event-loop turn (one statement on PostgreSQL)
      await Promise.all(["y", "c", "x"].map((k, i) => s.claim(task(10 + i, { idempotencyKey: `key-${k}` }))));
      const taken = await s.takeNext(10);
      expect(taken.map((r) => r.id)).toEqual(["t-1", "t-2", "t-3", "t-4", "t-5", "t-10", "t-11", "t-12"]);
    });

    it("a key twice in one enqueueMany: the first call is stored and answered created, the later one a duplicate of it", async () => {
      const s = await store();
      // pairs far apart, more than a small sort keeps stable by chance
      const claims = Array.from({ length: 40 }, (_, i) =>
        task(i + 1, { idempotencyKey: `key-${i % 20}`, payload: { call: i + 1 } }),
      );
      const results = await s.enqueueMany(claims);
      results.forEach((r, i) => {
        if (i < 20) expect(r).toMatchObject({ created: true });
        else
          expect(r).toMatchObject({
            created: false,
            record: { id: `t-${i - 19}`, payload: { call: i - 19 } },
          });
      });
      const stored = await everyTask(s);
      expect(stored.map((r) => [r.id, r.payload])).toEqual(
        Array.from({ length: 20 }, (_, i) => [`t-${i + 1}`, { call: i + 1 }]),
      );
    });

    it("ages: a task that has waited an hour per point of difference goes before newer higher ones", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1, { priority: 0 })]);
      // a steady stream of priority 1, one a minute: each taken before t-1 for the first hour
      for (let minute = 1; minute <= 59; minute++) {
        c.advance(60_000);
        await s.enqueueMany([task(100 + minute, { priority: 1 })]);
        const [next] = await s.takeNext(1);
        expect(next?.id).toBe(`t-${100 + minute}`);
        await s.succeed(next!.seq, next!.version);
      }
      // past an hour of waiting, the low one outranks a new priority-1 task
      c.advance(PRIORITY_AGING_MS - 59 * 60_000 + 1);
      await s.enqueueMany([task(200, { priority: 1 })]);
      expect((await s.takeNext(1)).map((r) => r.id)).toEqual(["t-1"]);
      expect((await s.takeNext(1)).map((r) => r.id)).toEqual(["t-200"]);
    });

    it("keeps a retried task's priority in its rank", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1, { priority: 3 }), task(2)]);
      const [high] = await s.takeNext(1);
      expect(high?.id).toBe("t-1");
      await s.retry(high!.seq, high!.version, { errorClass: "transient", message: "x" }, 100);
      c.advance(100);
      expect((await s.takeNext(10)).map((r) => r.id)).toEqual(["t-1", "t-2"]);
    });

    it("stores schedules: put, get, list, pause and resume, remove", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      expect(await s.now()).toBe(1_000_000);
      const put = await s.putSchedule(schedule());
      expect(put).toMatchObject({
        name: "nightly",
        cron: "0 3 * * *",
        timezone: null,
        kind: "report",
        payload: { what: "sales" },
        options: {},
        paused: false,
        nextRunAt: 1_060_000,
        lastRunAt: null,
      });
      await s.putSchedule(schedule({ name: "hourly", cron: "0 * * * *", options: { priority: 2 } }));
      expect((await s.schedules()).map((r) => r.name)).toEqual(["hourly", "nightly"]);
      expect(await s.setSchedulePaused("nightly", true)).toMatchObject({
        paused: true,
        nextRunAt: 1_060_000,
      });
      c.advance(60_000);
      expect((await s.dueSchedules(10)).due.map((r) => r.name)).toEqual(["hourly"]);
      expect(await s.setSchedulePaused("nightly", false, 2_000_000)).toMatchObject({
        paused: false,
        nextRunAt: 2_000_000,
      });
      expect(await s.setSchedulePaused("absent", true)).toBeUndefined();
      expect(await s.removeSchedule("hourly")).toBe(true);
      expect(await s.removeSchedule("hourly")).toBe(false);
      expect(await s.getSchedule("hourly")).toBeUndefined();
      // a put over an existing one replaces it, unpaused
      await s.setSchedulePaused("nightly", true);
      expect(await s.putSchedule(schedule({ cron: "0 4 * * *", nextRunAt: 3_000_000 }))).toMatchObject({
        cron: "0 4 * * *",
        paused: false,
        nextRunAt: 3_000_000,
      });
      await expect(s.putSchedule(schedule({ name: "has space" }))).rejects.toMatchObject({
        code: "ERR_INVALID_INPUT",
      });
    });

    it("fires each occurrence exactly once with three schedulers racing", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const stores = [first];
      for (let n = 1; n < 3; n++)
        stores.push(await store({ now: c.now, owner: `node-${n}:1:a`, sameAs: first }));
      await first.putSchedule(schedule({ nextRunAt: 1_001_000, options: { priority: 4 } }));
      for (let occurrence = 0; occurrence < 5; occurrence++) {
        c.advance(1000);
        const due = await Promise.all(stores.map((s) => s.dueSchedules(10)));
        const fired = await Promise.all(
          stores.map((s, i) => {
            const d = due[i]!.due[0]!;
            return s.fireSchedule({
              name: d.name,
              expected: d.nextRunAt,
              firedAt: d.nextRunAt,
              nextRunAt: d.nextRunAt + 1000,
              task: {
                id: `occ-${occurrence}-${i}`,
                idempotencyKey: `schedule:nightly@${d.nextRunAt}`,
                kind: d.kind,
                payload: d.payload,
                ...d.options,
              },
            });
          }),
        );
        expect(fired.filter((f) => f.advanced)).toEqual([{ advanced: true, created: true }]);
      }
      const tasks = await everyTask(first);
      expect(tasks.map((t) => t.idempotencyKey)).toEqual(
        [1, 2, 3, 4, 5].map((n) => `schedule:nightly@${1_000_000 + n * 1000}`),
      );
      expect(tasks.every((t) => t.kind === "report" && t.priority === 4 && t.status === "queued")).toBe(true);
      expect(tasks.map((t) => t.nextRunAt)).toEqual([1, 2, 3, 4, 5].map((n) => 1_000_000 + n * 1000));
      expect(await first.getSchedule("nightly")).toMatchObject({
        nextRunAt: 1_006_000,
        lastRunAt: 1_005_000,
      });
    });

    it("a firing whose occurrence was enqueued before is not enqueued twice", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.putSchedule(schedule({ nextRunAt: 1_000_000 }));
      const firing = (expected: number, id: string) => ({
        name: "nightly",
        expected,
        firedAt: 1_000_000,
        nextRunAt: expected + 1000,
        task: { id, idempotencyKey: "schedule:nightly@1000000", kind: "report", payload: {} },
      });
      expect(await s.fireSchedule(firing(1_000_000, "a"))).toEqual({ advanced: true, created: true });
      // the schedule was re-put at the same occurrence (removed and added again): the key dedupes
      await s.putSchedule(schedule({ nextRunAt: 1_001_000 }));
      expect(await s.fireSchedule(firing(1_001_000, "b"))).toEqual({ advanced: true, created: false });
      expect((await everyTask(s)).map((t) => t.id)).toEqual(["a"]);
      // a stale firing (the schedule moved on) changes nothing
      expect(await s.fireSchedule(firing(1_000_000, "c"))).toEqual({ advanced: false, created: false });
    });

    it("a kind's concurrency holds across stores racing: held-back tasks stay queued, untouched", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const stores = [first];
      for (let n = 1; n < 3; n++)
        stores.push(await store({ now: c.now, owner: `node-${n}:1:a`, sameAs: first }));
      await first.setKindLimits("image", { concurrency: 2 });
      expect(await first.kindLimits()).toMatchObject([{ heldBack: null, openAgainAt: null }]);
      await first.enqueueMany([1, 2, 3, 4, 5].map((n) => task(n)).concat([task(6, { kind: "other" })]));
      const taken = (await Promise.all(stores.map((s) => s.takeNext(10)))).flat();
      expect(taken.filter((t) => t.kind === "image")).toHaveLength(2);
      expect(taken.filter((t) => t.kind === "other")).toHaveLength(1);
      expect(await first.kindLimits()).toEqual([
        {
          kind: "image",
          concurrency: 2,
          rate: null,
          perGroup: null,
          running: 2,
          paused: false,
          pausedAt: null,
          breaker: null,
          startsInWindow: 0,
          heldBack: "concurrency",
          openAgainAt: null,
        },
      ]);
      const waiting = await everyTask(first, { status: "queued" });
      expect(waiting.map((t) => t.attempts)).toEqual([0, 0, 0]);
      expect(await first.nextDueIn(["image"])).toBeNull(); // full: a finish frees it, not the clock
      const done = taken.find((t) => t.kind === "image")!;
      await first.succeed(done.seq, done.version);
      expect((await Promise.all(stores.map((s) => s.takeNext(10)))).flat()).toHaveLength(1);
      await first.setKindLimits("image", null);
      expect(await first.kindLimits()).toEqual([]);
      expect(await first.takeNext(10)).toHaveLength(2);
    });

    it("a limit set by one store binds the next take of another that read none a moment before", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const other = await store({ now: c.now, owner: "node-1:1:a", sameAs: first });
      // the other store has just looked and seen no limits (a store reads them at most every second)
      await first.enqueueMany([task(0, { kind: "other" })]);
      expect(await other.takeNext(10)).toHaveLength(1);
      await first.setKindLimits("image", { concurrency: 1 });
      await first.enqueueMany([1, 2, 3, 4].map((n) => task(n)));
      expect((await other.takeNext(10)).map((t) => t.id)).toEqual(["t-1"]);
      expect(await other.takeNext(10)).toEqual([]);
      expect(await first.takeNext(10)).toEqual([]);
      // a limit raised binds as soon
      await first.setKindLimits("image", { concurrency: 3 });
      expect(await other.takeNext(10)).toHaveLength(2);
    });

    it("a finished task of a kind with a concurrency limit wakes the stores waiting for work", async () => {
      const first = await store({ owner: "node-0:1:a" });
      const other = await store({ owner: "node-1:1:a", sameAs: first });
      await first.setKindLimits("image", { concurrency: 1 });
      await first.enqueueMany([1, 2].map((n) => task(n)));
      const [running] = await first.takeNext(10);
      // SQLite wakes the waiters of the store object that committed the finish; PostgreSQL every
      // store's, by a notification: a wait of an hour ends when the slot frees
      const waiter = first.dialect === "sqlite" ? first : other;
      // a PostgreSQL store's first wait starts listening and returns at once (it may have missed
      // a notification before); a take forgets what it heard
      if (waiter === other) await other.waitForWork(3_600_000);
      expect(await other.takeNext(10)).toEqual([]);
      const waiting = waiter.waitForWork(3_600_000);
      await first.succeed(running!.seq, running!.version);
      await waiting;
      expect((await waiter.takeNext(10)).map((t) => t.id)).toEqual(["t-2"]);
    });

    it("a paused kind is taken by no store: queued tasks wait untouched, running ones finish, a resume wakes the waiting", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const other = await store({ now: c.now, owner: "node-1:1:a", sameAs: first });
      await first.enqueueMany([1, 2, 3].map((n) => task(n)));
      const [running] = await first.takeNext(1);
      expect(await first.setKindPaused("image", true)).toBe(true);
      expect(await other.setKindPaused("image", true)).toBe(false); // already paused: its time is kept
      await first.enqueueMany([task(4), task(5, { kind: "other" })]);
      // every store's next take passes the paused kind's tasks by, however many it asks for
      expect((await other.takeNext(10)).map((t) => t.id)).toEqual(["t-5"]);
      expect(await first.takeNext(10)).toEqual([]);
      expect(await first.kindLimits()).toEqual([
        {
          kind: "image",
          concurrency: null,
          rate: null,
          perGroup: null,
          paused: true,
          pausedAt: 1_000_000,
          breaker: null,
          running: 1,
          startsInWindow: 0,
          heldBack: "paused",
          openAgainAt: null,
        },
      ]);
      expect(await first.nextDueIn(["image"])).toBeNull(); // a resume frees it, not the clock
      // the task running when the kind was paused finishes
      await first.succeed(running!.seq, running!.version);
      expect(await first.takeNext(10)).toEqual([]);
      // limits set and removed while paused leave the pause alone
      await first.setKindLimits("image", { concurrency: 2 });
      await first.setKindLimits("image", null);
      expect(await first.kindLimits()).toMatchObject([{ kind: "image", concurrency: null, paused: true }]);
      const waiting = await everyTask(first, { status: "queued" });
      expect(waiting.map((t) => [t.id, t.attempts])).toEqual([
        ["t-2", 0],
        ["t-3", 0],
        ["t-4", 0],
      ]);
      // SQLite wakes the waiters of the store object that committed the resume; PostgreSQL every
      // store's, by a notification (a first wait starts listening and returns at once)
      const waiter = first.dialect === "sqlite" ? first : other;
      if (waiter === other) await other.waitForWork(3_600_000);
      const woken = waiter.waitForWork(3_600_000);
      expect(await first.setKindPaused("image", false)).toBe(true);
      await woken;
      expect(await first.kindLimits()).toEqual([]); // the row held nothing else
      expect(await first.setKindPaused("image", false)).toBe(false);
      expect((await waiter.takeNext(10)).map((t) => t.id)).toEqual(["t-2", "t-3", "t-4"]);
    });

    it("a pause set by one store binds the next take of another that read no limits a moment before; limits outlive a resume", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const other = await store({ now: c.now, owner: "node-1:1:a", sameAs: first });
      await first.enqueueMany([task(0, { kind: "other" })]);
      expect(await other.takeNext(10)).toHaveLength(1); // it has just read that no kind has limits
      await first.setKindLimits("image", { concurrency: 1 });
      await first.setKindPaused("image", true);
      await first.enqueueMany([1, 2].map((n) => task(n)));
      expect(await other.takeNext(10)).toEqual([]);
      await first.setKindPaused("image", false);
      expect(await first.kindLimits()).toMatchObject([
        { kind: "image", concurrency: 1, paused: false, pausedAt: null },
      ]);
      expect((await other.takeNext(10)).map((t) => t.id)).toEqual(["t-1"]); // its limit still binds
      await expect(first.setKindPaused("", true)).rejects.toMatchObject({ code: "ERR_INVALID_INPUT" });
    });

    it("a kind's rate: at most N starts per window; the next window opens on time", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.setKindLimits("image", { rate: { limit: 3, intervalMs: 1000 } });
      await s.enqueueMany([1, 2, 3, 4, 5, 6, 7].map((n) => task(n)));
      expect(await s.takeNext(10)).toHaveLength(3);
      expect(await s.takeNext(10)).toHaveLength(0);
      expect(await s.kindLimits()).toMatchObject([
        {
          kind: "image",
          rate: { limit: 3, intervalMs: 1000 },
          startsInWindow: 3,
          heldBack: "rate",
          openAgainAt: 1_001_000,
        },
      ]);
      expect(await s.nextDueIn()).toBe(1000);
      c.advance(999);
      expect(await s.takeNext(10)).toHaveLength(0);
      c.advance(1);
      expect((await s.takeNext(10)).map((t) => t.id)).toEqual(["t-4", "t-5", "t-6"]);
      c.advance(1000);
      expect(await s.takeNext(10)).toHaveLength(1);
      // not held back: no time to wait for (it was the time of the read, already past)
      expect(await s.kindLimits()).toMatchObject([{ startsInWindow: 1, heldBack: null, openAgainAt: null }]);
    });

    it("caps kinds per take (a worker's own per-kind limit), and refuses bad limits", async () => {
      const s = await store();
      await s.enqueueMany([1, 2, 3].map((n) => task(n)).concat([task(4, { kind: "other" })]));
      const taken = await s.takeNext(10, undefined, { perKind: { image: 1 } });
      expect(taken.map((t) => t.kind).sort()).toEqual(["image", "other"]);
      expect(await s.takeNext(10, ["image"], { perKind: { image: 0 } })).toEqual([]);
      for (const [limits, message] of [
        [{ concurrency: 0 }, "concurrency must be a positive integer"],
        [{ rate: { limit: 1, intervalMs: 0 } }, "rate.intervalMs must be a positive integer"],
        [{}, "limits need concurrency, rate or perGroup"],
      ] as const)
        await expect(s.setKindLimits("image", limits)).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: expect.stringContaining(message),
        });
    });
  });
}
