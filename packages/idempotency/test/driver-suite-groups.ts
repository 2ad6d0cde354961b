// The store contract for fair groups (issue 35, migration 019), run against every driver on its
// real backend: a task's group stored and read back; a kind with per-group limits taken in
// rotation between its groups (the head of each in turn, from where the last take ended) and
// within each group's cap, across two stores taking at once; tasks without a group and kinds
// without per-group limits taken exactly as before; 10,000 groups taken correctly; bad limits
// refused naming perGroup.concurrency; a store of the current release (schema 17) migrated.
import { describe, expect, it } from "vitest";
import type { TaskRecord, TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

/** A task of kind "job" in `group` (none: no group), numbered n. */
const job = (n: number, group?: string, extra: Record<string, unknown> = {}) =>
  task(n, { kind: "job", idempotencyKey: `job-${n}`, ...(group === undefined ? {} : { group }), ...extra });

/** How many tasks of each group are running now (every store). */
async function runningByGroup(s: TaskStoreDriver): Promise<Map<string, number>> {
  const by = new Map<string, number>();
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await s.listTasks({
      status: "running",
      kind: "job",
      limit: 500,
      ...(beforeSeq ? { beforeSeq } : {}),
    });
    for (const r of page) by.set(r.group ?? "-", (by.get(r.group ?? "-") ?? 0) + 1);
    if (page.length < 500) return by;
    beforeSeq = (page.at(-1) as TaskRecord).seq;
  }
}

export function testGroupsContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
  /** A store made by the current release (schema 17) holding a queued, a running and a succeeded task, opened by this code. */
  releaseStore: () => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, fair groups: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("stores a task's group and reads it back; none is null; a duplicate keeps the first's", async () => {
      const s = await store();
      await s.claim(job(1, "tenant-42"));
      await s.claim(job(2));
      await s.enqueueMany([job(3, "tenant-7"), job(4)]);
      await s.claim(job(5, "tenant-9", { start: true }));
      const byId = async (id: string) => (await s.getById(id))[0];
      expect((await byId("t-1"))?.group).toBe("tenant-42");
      expect((await byId("t-2"))?.group).toBeNull();
      expect((await byId("t-3"))?.group).toBe("tenant-7");
      expect((await byId("t-4"))?.group).toBeNull();
      expect((await byId("t-5"))?.group).toBe("tenant-9");
      expect(await s.claim(job(1, "other"))).toMatchObject({
        created: false,
        record: { group: "tenant-42" },
      });
      // a kind without per-group limits: a take in queue order, exactly as without groups
      const taken = await s.takeNext(10);
      expect(taken.map((t) => [t.id, t.group])).toEqual([
        ["t-1", "tenant-42"],
        ["t-2", null],
        ["t-3", "tenant-7"],
        ["t-4", null],
      ]);
    });

    it("listTasks by group: newest first, in keyset pages, with a status and a kind too", async () => {
      const s = await store();
      await s.enqueueMany([job(1, "a"), job(2, "b"), job(3, "a"), job(4), job(5, "a")]);
      await s.claim(task(6, { group: "a" }));
      const ids = async (q: Parameters<TaskStoreDriver["listTasks"]>[0]) =>
        (await s.listTasks(q)).map((t) => t.id);
      expect(await ids({ group: "a", limit: 10 })).toEqual(["t-6", "t-5", "t-3", "t-1"]);
      const first = await s.listTasks({ group: "a", limit: 2 });
      expect(await ids({ group: "a", limit: 2, beforeSeq: (first.at(-1) as TaskRecord).seq })).toEqual([
        "t-3",
        "t-1",
      ]);
      expect(await ids({ group: "a", kind: "job", limit: 10 })).toEqual(["t-5", "t-3", "t-1"]);
      await s.takeNext(1, ["job"]);
      expect(await ids({ group: "a", status: "running", limit: 10 })).toEqual(["t-1"]);
      expect(await ids({ group: "nobody", limit: 10 })).toEqual([]);
      await expect(s.listTasks({ group: "", limit: 10 })).rejects.toThrow(/^group must be a string/);
    });

    it("refuses bad per-group limits in one line naming perGroup.concurrency, storing nothing", async () => {
      const s = await store();
      for (const bad of [0, -1, 1.5, Number.NaN, "2"]) {
        const err = await Promise.resolve()
          .then(() => s.setKindLimits("job", { perGroup: { concurrency: bad as number } }))
          .then(
            () => null,
            (e: Error & { code?: string }) => e,
          );
        expect(err?.code).toBe("ERR_INVALID_INPUT");
        expect(err?.message).toMatch(/^perGroup\.concurrency must be a positive integer, got /);
        expect(err?.message).not.toContain("\n");
      }
      expect(await s.kindLimits()).toEqual([]);
      await expect(s.claim(job(1, ""))).rejects.toThrow(/^group must be a string of 1 to 100 characters/);
      await expect(s.claim(job(2, "a\u0000b"))).rejects.toThrow(
        /group .* must not contain control characters/,
      );
      expect(await s.getById("t-1")).toEqual([]);
      // set, shown, and removed with the other limits
      await s.setKindLimits("job", { perGroup: { concurrency: 3 } });
      expect(await s.kindLimits()).toEqual([
        expect.objectContaining({ kind: "job", concurrency: null, perGroup: { concurrency: 3 } }),
      ]);
      await s.setKindLimits("job", { concurrency: 10, perGroup: { concurrency: 2 } });
      expect((await s.kindLimits())[0]).toMatchObject({ concurrency: 10, perGroup: { concurrency: 2 } });
      await s.setKindLimits("job", null);
      expect(await s.kindLimits()).toEqual([]);
    });

    it("a grouped kind's take rotates between its groups, the head of each in turn, from where the last ended", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 100 } });
      // a big backlog first, then two small groups
      await s.enqueueMany(Array.from({ length: 30 }, (_, i) => job(i, "big")));
      await s.enqueueMany([job(100, "b"), job(101, "b"), job(102, "b"), job(200, "c"), job(201, "c")]);
      const first = await s.takeNext(6);
      expect(first.map((t) => t.group).sort()).toEqual(["b", "b", "big", "big", "c", "c"]);
      // priority within a group: its queue order (oldest first here)
      expect(first.filter((t) => t.group === "big").map((t) => t.id)).toEqual(["t-0", "t-1"]);
      expect(first.filter((t) => t.group === "b").map((t) => t.id)).toEqual(["t-100", "t-101"]);
      // what is left: one of b, then big's; nothing is taken twice
      const second = await s.takeNext(4);
      expect(second.map((t) => t.group).sort()).toEqual(["b", "big", "big", "big"]);
      const seen = new Set([...first, ...second].map((t) => t.id));
      expect(seen.size).toBe(10);
      // a higher priority within a group goes first
      await s.claim(job(300, "c", { priority: 5 }));
      await s.claim(job(301, "c"));
      const third = await s.takeNext(2);
      expect(third.map((t) => t.id).sort()).toEqual(["t-300", "t-5"]);
    });

    it("caps each group's running tasks, and keeps the count right through finish, retry, release, reclaim and cancel", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 1000 });
      await s.setKindLimits("job", { perGroup: { concurrency: 2 } });
      await s.enqueueMany([
        ...Array.from({ length: 10 }, (_, i) => job(i, "a")),
        ...Array.from({ length: 10 }, (_, i) => job(10 + i, "b")),
        job(99),
      ]);
      const taken = await s.takeNext(20);
      expect(taken.map((t) => t.group ?? "-").sort()).toEqual(["-", "a", "a", "b", "b"]);
      expect(await s.takeNext(20)).toEqual([]);
      const ofGroup = (g: string) => taken.filter((t) => t.group === g);
      const [a1, a2] = ofGroup("a") as [TaskRecord, TaskRecord];
      const [b1, b2] = ofGroup("b") as [TaskRecord, TaskRecord];
      // a success frees one slot of its group, not of the other
      await s.succeed(a1.seq, a1.version);
      expect((await s.takeNext(20)).map((t) => t.group)).toEqual(["a"]);
      // a retry frees the slot; the retried task is queued again in its group, due after its backoff
      await s.retry(b1.seq, b1.version, { errorClass: "transient", message: "x" }, 500);
      expect((await s.takeNext(20)).map((t) => t.group)).toEqual(["b"]);
      // a release too
      await s.release(a2.seq, a2.version);
      const again = await s.takeNext(20);
      expect(again.map((t) => t.group)).toEqual(["a"]);
      // a cancel of a running task ends it: its slot frees once its worker ends it
      await s.cancel(b2.seq);
      const b2now = (await s.get(b2.seq)) as TaskRecord;
      await s.cancelRunning(b2now.seq, b2now.version);
      c.advance(600); // b1's backoff over
      expect((await s.takeNext(20)).map((t) => t.group)).toEqual(["b"]);
      expect(await runningByGroup(s)).toEqual(
        new Map([
          ["-", 1],
          ["a", 2],
          ["b", 2],
        ]),
      );
      // every lease expires: reclaimed to the queue, the slots free again
      c.advance(2000);
      const afterReclaim = await s.takeNext(20);
      expect(afterReclaim.map((t) => t.group ?? "-").sort()).toEqual(["-", "a", "a", "b", "b"]);
      expect(await runningByGroup(s)).toEqual(
        new Map([
          ["-", 1],
          ["a", 2],
          ["b", 2],
        ]),
      );
    });

    it("a workflow's child in a grouped kind keeps its group when its parent releases it, and is held to its cap", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      await s.enqueueFlow([job(1, "g"), { ...job(2, "g"), after: [{ parent: 0 }] }, job(3, "h")]);
      const taken = await s.takeNext(10);
      expect(taken.map((t) => t.id).sort()).toEqual(["t-1", "t-3"]);
      const first = taken.find((t) => t.id === "t-1") as TaskRecord;
      await s.succeed(first.seq, first.version);
      // released into group g (its ready row carries it on PostgreSQL), whose one slot is free again
      const [released] = await s.takeNext(10);
      expect(released).toMatchObject({ id: "t-2", group: "g", waitingFor: 0 });
      await s.claim(job(4, "g"));
      expect(await s.takeNext(10)).toEqual([]); // g is at its cap of 1, h too
    });

    it("holds the per-group cap with two stores taking at once", async () => {
      const first = await store();
      const second = await store({ sameAs: first });
      await first.setKindLimits("job", { perGroup: { concurrency: 3 } });
      const groups = ["g1", "g2", "g3", "g4"];
      await first.enqueueMany(Array.from({ length: 200 }, (_, i) => job(i, groups[i % 4])));
      const taken: TaskRecord[] = [];
      // many takes at once from both stores; then finishes free slots and more takes race
      for (let round = 0; round < 3; round++) {
        const batches = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? first : second).takeNext(5)),
        );
        for (const b of batches) taken.push(...b);
        const running = await runningByGroup(first);
        for (const g of groups) expect(running.get(g) ?? 0).toBeLessThanOrEqual(3);
        expect([...running.values()].reduce((a, b) => a + b, 0)).toBe(12);
        // finish one of each group
        for (const g of groups) {
          const r = taken.find((t) => t.group === g && !t.finishedAt && t.status === "running");
          if (r) {
            await first.succeed(r.seq, r.version);
            taken.splice(taken.indexOf(r), 1);
          }
        }
      }
      expect(new Set(taken.map((t) => t.seq)).size).toBe(taken.length);
    });

    it("tasks without a group in a grouped kind are taken too, uncapped by perGroup", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      await s.enqueueMany([job(1, "a"), job(2, "a"), job(3), job(4), job(5)]);
      const taken = await s.takeNext(10);
      expect(taken.map((t) => t.id).sort()).toEqual(["t-1", "t-3", "t-4", "t-5"]);
    });

    it("a take serving a grouped kind with a backlog and another kind takes both: neither starves", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1000 } });
      // the grouped kind's backlog first, over a few groups, then the other kind's tasks
      await s.enqueueMany(Array.from({ length: 60 }, (_, i) => job(i, `g${i % 3}`)));
      await s.enqueueMany(Array.from({ length: 6 }, (_, i) => task(100 + i)));
      await s.claim(task(200, { priority: 10 }));
      for (const kinds of [["job", "image"], undefined]) {
        const taken = await s.takeNext(6, kinds);
        expect(taken).toHaveLength(6);
        const images = taken.filter((t) => t.kind === "image");
        expect(images.length).toBeGreaterThanOrEqual(2);
        expect(taken.length - images.length).toBeGreaterThanOrEqual(2);
        if (kinds !== undefined) expect(images[0]?.id).toBe("t-200"); // the high priority first
      }
      // the other kind's tasks all taken: the grouped kind gets the whole take, and the reverse
      const rest = await s.takeNext(10, ["job", "image"]);
      expect(rest).toHaveLength(10);
      const left = rest.filter((t) => t.kind === "image").length;
      expect(left).toBeLessThanOrEqual(7);
      const drained = await s.takeNext(10, ["job", "image"]);
      expect(drained.filter((t) => t.kind === "job")).toHaveLength(10);
      // a take of one alternates between the two sides
      await s.enqueueMany(Array.from({ length: 4 }, (_, i) => task(300 + i)));
      const ones = [];
      for (let i = 0; i < 4; i++) ones.push(...(await s.takeNext(1, ["job", "image"])));
      expect(ones.map((t) => t.kind).sort()).toEqual(["image", "image", "job", "job"]);
    });

    it("a take of one finds a group with room past groups at their cap, after the cursor's wrap", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      await s.enqueueMany([job(1, "a"), job(2, "a"), job(3, "b"), job(4, "b"), job(5, "c"), job(6, "c")]);
      expect((await s.takeNext(3)).map((t) => t.group).sort()).toEqual(["a", "b", "c"]);
      // the cursor is at c; a, b and c are at their cap; bb (between them in the order) is free
      await s.claim(job(7, "bb"));
      expect((await s.takeNext(1)).map((t) => t.id)).toEqual(["t-7"]);
      await s.claim(job(8, "d"));
      await s.claim(job(9, "aa"));
      expect((await s.takeNext(1)).map((t) => t.id)).toEqual(["t-8"]);
      expect((await s.takeNext(1)).map((t) => t.id)).toEqual(["t-9"]);
      expect(await s.takeNext(1)).toEqual([]);
    });

    it("a take walks past groups of many tasks on both sides of the cursor, counting each one's running tasks", async () => {
      // PostgreSQL reads each side of the cursor as one chunk of 2 x (limit + 1) entries first:
      // here a group fills the chunk, so the walk goes on past it one group at a time
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      await s.enqueueMany(Array.from({ length: 40 }, (_, i) => job(i, "a")));
      await s.claim(job(100, "m"));
      await s.enqueueMany(Array.from({ length: 40 }, (_, i) => job(200 + i, "z")));
      expect((await s.takeNext(2)).map((t) => t.id)).toEqual(["t-0", "t-100"]);
      // after the cursor (m): z; up to it: a and m at their cap (a's chunk is all a)
      const second = await s.takeNext(2);
      expect(second.map((t) => t.id)).toEqual(["t-200"]);
      expect(await s.takeNext(5)).toEqual([]);
      await s.succeed((second[0] as TaskRecord).seq, (second[0] as TaskRecord).version);
      expect((await s.takeNext(5)).map((t) => t.id)).toEqual(["t-201"]);
    });

    it("a group whose first task in queue order is not due yet gives its first due task", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 3_600_000 });
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      // t-1 ranks first in its group (its priority is worth hours of waiting) but runs in a minute
      await s.claim(job(1, "a", { priority: 10, delayMs: 60_000 }));
      await s.enqueueMany([job(2, "a"), job(3, "b"), job(4, "c")]);
      const first = await s.takeNext(3);
      expect(first.map((t) => t.id).sort()).toEqual(["t-2", "t-3", "t-4"]);
      c.advance(60_000);
      // due now, but its group is at its cap until t-2 finishes
      expect(await s.takeNext(3)).toEqual([]);
      const t2 = first.find((t) => t.id === "t-2") as TaskRecord;
      await s.succeed(t2.seq, t2.version);
      expect((await s.takeNext(3)).map((t) => t.id)).toEqual(["t-1"]);
    });

    it("a group whose first 40 tasks in queue order are not due yet gives its first due task", async () => {
      // SQLite reads a chunk of 2 x the take + 16 entries: here all of them not due, and the due
      // one after them is read by a probe of its own
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 3_600_000 });
      await s.setKindLimits("job", { perGroup: { concurrency: 5 } });
      await s.enqueueMany(
        Array.from({ length: 40 }, (_, i) => job(i, "a", { priority: 10, delayMs: 60_000 })),
      );
      await s.enqueueMany([job(100, "a"), job(101, "b")]);
      expect((await s.takeNext(1)).map((t) => t.id)).toEqual(["t-100"]);
      expect((await s.takeNext(5)).map((t) => t.id)).toEqual(["t-101"]);
      c.advance(60_000);
      expect((await s.takeNext(10)).map((t) => t.id)).toEqual(["t-0", "t-1", "t-2", "t-3"]);
    });

    it("a grouped kind's due task without a group and of a negative priority is taken at once", async () => {
      const c = clock();
      const s = await store({ now: c.now, leaseMs: 3_600_000 });
      await s.setKindLimits("job", { perGroup: { concurrency: 5 } });
      await s.claim(job(1, undefined, { priority: -5 }));
      await s.claim(job(2, "a", { priority: -5 }));
      expect((await s.takeNext(10)).map((t) => t.id).sort()).toEqual(["t-1", "t-2"]);
    });

    it("takes correctly with 10,000 groups: each take draws from as many groups, no group twice until all had a turn", async () => {
      const s = await store();
      await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
      const G = 10_000;
      for (let i = 0; i < G; i += 2000)
        await s.enqueueMany(
          Array.from({ length: 2000 }, (_, j) => job(i + j, `g${String(i + j).padStart(5, "0")}`)),
        );
      // and a backlog in one group, enqueued first? (after: the rotation is by group, not age)
      await s.enqueueMany(Array.from({ length: 50 }, (_, j) => job(G + j, "g00000")));
      const seen = new Set<string>();
      let takes = 0;
      for (;;) {
        const batch = await s.takeNext(250);
        takes++;
        if (batch.length === 0) break;
        for (const t of batch) {
          // cap 1 and nothing finished: a group is never taken twice
          expect(seen.has(t.group as string)).toBe(false);
          seen.add(t.group as string);
        }
        expect(takes).toBeLessThanOrEqual(G / 250 + 1);
      }
      expect(seen.size).toBe(G);
      expect(takes).toBe(G / 250 + 1);
    });

    it("a store of the current release (schema 17) migrates, its tasks untouched, and takes as before", async () => {
      const s = await releaseStore();
      const before = (await s.getById("rel-q"))[0];
      expect(before).toMatchObject({ status: "queued", group: null });
      expect((await s.getById("rel-r"))[0]).toMatchObject({ status: "running", group: null });
      expect((await s.getById("rel-s"))[0]).toMatchObject({ status: "succeeded", group: null, result: "7" });
      const taken = await s.takeNext(10, ["rel"]);
      expect(taken.map((t) => t.id)).toEqual(["rel-q"]);
      await s.setKindLimits("rel", { perGroup: { concurrency: 1 } });
      await s.claim({ id: "n1", idempotencyKey: "n1", kind: "rel", payload: {}, group: "x" });
      await s.claim({ id: "n2", idempotencyKey: "n2", kind: "rel", payload: {}, group: "x" });
      expect((await s.takeNext(10, ["rel"])).map((t) => t.id)).toEqual(["n1"]);
      await s.close();
    });
  });
}
