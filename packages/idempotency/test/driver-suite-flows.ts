// The store contract for workflows (issue 35, migration 018), run against every driver on its
// real backend: a child is due once every parent succeeded and is released once, whichever store
// ends its last parent; a failed or cancelled parent cancels its descendants with the reason,
// unless the edge runs anyway; parents finished at enqueue count at once; cycles and unknown ids
// are refused with nothing stored; a taken child carries its parents' results; a stale writer
// releases nothing.
import { describe, expect, it } from "vitest";
import {
  type ClaimResult,
  type FlowTaskInput,
  MAX_COUNT_CAP,
  statusTotals,
  type TaskStoreDriver,
} from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach } from "./driver-suite.js";

const node = (
  name: string,
  after: FlowTaskInput["after"] = undefined,
  extra: Partial<FlowTaskInput> = {},
) => ({
  id: `f-${name}`,
  idempotencyKey: `flow-${name}`,
  kind: "step",
  payload: { name },
  ...(after === undefined ? {} : { after }),
  ...extra,
});

const seqOf = (r: ClaimResult | undefined): number => {
  if (!r) throw new Error("no answer");
  return r.created ? r.seq : r.record.seq;
};

/** Takes what is due and succeeds it with its name as result; answers the names taken. */
async function runDue(s: TaskStoreDriver): Promise<string[]> {
  const taken = await s.takeNext(100, ["step"]);
  for (const t of taken) await s.succeed(t.seq, t.version, { result: JSON.stringify(`done ${t.id}`) });
  return taken.map((t) => t.id).sort();
}

export function testFlowsContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, workflows: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("runs a diamond in order: D is due once B and C succeeded, and reads both results", async () => {
      const s = await store();
      const answers = await s.enqueueFlow([
        node("a"),
        node("b", [{ parent: 0 }]),
        node("c", [{ parent: 0 }]),
        node("d", [{ parent: 1 }, { parent: 2 }]),
      ]);
      expect(answers.every((a) => a.created)).toBe(true);
      const d = seqOf(answers[3]);
      expect(await s.get(d)).toMatchObject({ status: "queued", waitingFor: 2 });
      expect(await s.get(seqOf(answers[0]))).toMatchObject({ waitingFor: null, hasChildren: true });
      // a waiting task is neither due nor scheduled (PostgreSQL: no ready row; SQLite: beyond any time)
      expect(statusTotals(await s.statusCounts(MAX_COUNT_CAP))).toMatchObject({ queued: 1, scheduled: 0 });
      expect(await s.nextDueIn(["step"])).toBe(0);
      expect(await runDue(s)).toEqual(["f-a"]);
      const [b, c] = await s.takeNext(10, ["step"]);
      expect([b?.id, c?.id]).toEqual(["f-b", "f-c"]);
      expect(b?.parents?.map((p) => [p.id, p.status, p.result])).toEqual([
        ["f-a", "succeeded", '"done f-a"'],
      ]);
      await s.succeed(b!.seq, b!.version, { result: '"B"' });
      expect(await s.get(d)).toMatchObject({ status: "queued", waitingFor: 1 });
      expect(await s.takeNext(10, ["step"])).toEqual([]);
      await s.succeed(c!.seq, c!.version, { result: '"C"' });
      const [taken] = await s.takeNext(10, ["step"]);
      expect(taken).toMatchObject({ id: "f-d", waitingFor: 0 });
      expect(taken?.parents?.map((p) => [p.id, p.kind, p.status, p.result])).toEqual([
        ["f-b", "step", "succeeded", '"B"'],
        ["f-c", "step", "succeeded", '"C"'],
      ]);
      const links = await s.taskLinks(seqOf(answers[0]));
      expect(links.children.map((l) => l.id)).toEqual(["f-b", "f-c"]);
      expect(links.parents).toEqual([]);
      // a task without parents is taken without any
      await s.claim(node("plain"));
      const [plain] = await s.takeNext(10, ["step"]);
      expect(plain?.parents).toBeUndefined();
    });

    it("a failed parent cancels its descendants with the reason; a run-anyway edge runs its child", async () => {
      const s = await store();
      const answers = await s.enqueueFlow([
        node("a", undefined, { maxAttempts: 1 }),
        node("b", [{ parent: 0 }]),
        node("c", [{ parent: 1 }]),
        node("cleanup", [{ parent: 0, runAnyway: true }]),
      ]);
      const [a] = await s.takeNext(10, ["step"]);
      await s.fail(a!.seq, a!.version, { errorClass: "permanent", message: "boom" });
      expect(await s.get(seqOf(answers[1]))).toMatchObject({
        status: "cancelled",
        errorClass: "parent_failed",
        errorMessage: "parent f-a failed",
      });
      expect(await s.get(seqOf(answers[2]))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-b cancelled",
      });
      const [cleanup] = await s.takeNext(10, ["step"]);
      expect(cleanup?.id).toBe("f-cleanup");
      expect(cleanup?.parents?.map((p) => [p.id, p.status, p.runAnyway])).toEqual([["f-a", "failed", true]]);
    });

    it("a cancelled parent cancels a waiting child; cancelling a waiting child cascades to its own", async () => {
      const s = await store();
      const answers = await s.enqueueFlow([
        node("a"),
        node("b", [{ parent: 0 }]),
        node("c", [{ parent: 1 }]),
      ]);
      expect((await s.cancel(seqOf(answers[1]))).outcome).toBe("cancelled");
      expect(await s.get(seqOf(answers[2]))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-b cancelled",
      });
      expect(await runDue(s)).toEqual(["f-a"]);
      expect(await s.takeNext(10, ["step"])).toEqual([]);
    });

    it("enqueue after existing tasks: a succeeded parent counts at once, a failed one cancels at once unless run anyway", async () => {
      const s = await store();
      await s.claim(node("ok"));
      await s.claim(node("bad", undefined, { maxAttempts: 1 }));
      await s.claim(node("slow"));
      const taken = await s.takeNext(2, ["step"]);
      await s.succeed(taken[0]!.seq, taken[0]!.version, { result: "1" });
      await s.fail(taken[1]!.seq, taken[1]!.version, { errorClass: "permanent", message: "no" });
      const [after] = await s.enqueueFlow([node("x", [{ parent: "f-ok" }])]);
      expect(await s.get(seqOf(after))).toMatchObject({ status: "queued", waitingFor: 0 });
      const [cancelled] = await s.enqueueFlow([node("y", [{ parent: "f-ok" }, { parent: "f-bad" }])]);
      expect(await s.get(seqOf(cancelled))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-bad failed",
      });
      const [anyway] = await s.enqueueFlow([
        node("z", [{ parent: "f-bad", runAnyway: true }, { parent: "f-slow" }]),
      ]);
      expect(await s.get(seqOf(anyway))).toMatchObject({ status: "queued", waitingFor: 1 });
      expect((await s.takeNext(10, ["step"])).map((t) => t.id).sort()).toEqual(["f-slow", "f-x"]);
    });

    it("a child cancelled at enqueue counts as done for its run-anyway child, which still waits for its other parent", async () => {
      const s = await store();
      await s.claim(node("bad", undefined, { maxAttempts: 1 }));
      const [bad] = await s.takeNext(1, ["step"]);
      await s.fail(bad!.seq, bad!.version, { errorClass: "permanent", message: "no" });
      // "bad" is a duplicate key: the failed task, so C is cancelled at once
      const answers = await s.enqueueFlow([
        node("bad"),
        node("c", [{ parent: 0 }]),
        node("s"),
        node("g", [{ parent: 1, runAnyway: true }, { parent: 2 }]),
      ]);
      expect(answers[0]?.created).toBe(false);
      expect(await s.get(seqOf(answers[1]))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-bad failed",
      });
      expect(await s.get(seqOf(answers[3]))).toMatchObject({ status: "queued", waitingFor: 1 });
      expect(await runDue(s)).toEqual(["f-s"]);
      const [g] = await s.takeNext(10, ["step"]);
      expect(g?.id).toBe("f-g");
      expect(g?.parents?.map((p) => [p.id, p.status])).toEqual([
        ["f-c", "cancelled"],
        ["f-s", "succeeded"],
      ]);
    });

    it("a kind whose only queued tasks wait for parents has nothing due; a waiting child runs at its enqueue time until released", async () => {
      const s = await store();
      const answers = await s.enqueueFlow([
        node("a"),
        { ...node("b", [{ parent: 0 }]), kind: "later" },
        { ...node("c", [{ parent: 0 }]), kind: "later" },
        { ...node("d", [{ parent: 2 }]), kind: "later" },
      ]);
      expect(await s.nextDueIn(["later"])).toBeNull();
      const b = await s.get(seqOf(answers[1]));
      expect(b?.nextRunAt).toBe(b?.createdAt);
      // cancelled while waiting, and by the cascade: still the enqueue time
      expect((await s.cancel(seqOf(answers[2]))).outcome).toBe("cancelled");
      for (const answer of [answers[2], answers[3]]) {
        const t = await s.get(seqOf(answer));
        expect(t).toMatchObject({ status: "cancelled", nextRunAt: t?.createdAt });
      }
      expect(await s.nextDueIn(["later"])).toBeNull();
      expect(await runDue(s)).toEqual(["f-a"]);
      expect(await s.nextDueIn(["later"])).toBe(0);
      const released = await s.get(seqOf(answers[1]));
      expect(released?.nextRunAt).toBeGreaterThanOrEqual(released?.createdAt as number);
      expect(released?.nextRunAt).toBeLessThan(Date.now() + 3_600_000);
    });

    it("a parent ended by a reclaim, a release after a cancel request or a retry to queued: children follow only its end", async () => {
      const c = clock(Date.now() + 60_000);
      const s = await store({ now: c.now, leaseMs: 1000 });
      const answers = await s.enqueueFlow([
        node("lost", undefined, { maxAttempts: 1 }),
        node("lost-child", [{ parent: 0 }]),
        node("held"),
        node("held-child", [{ parent: 2 }]),
        node("again"),
        node("again-child", [{ parent: 4, runAnyway: true }]),
      ]);
      const taken = await s.takeNext(3, ["step"]);
      const by = (id: string) => taken.find((t) => t.id === id)!;
      expect(taken.map((t) => t.id).sort()).toEqual(["f-again", "f-held", "f-lost"]);
      // a retry queues "again": its run-anyway child still waits
      await s.retry(by("f-again").seq, by("f-again").version, { errorClass: "x", message: "later" }, 0);
      expect(await s.get(seqOf(answers[5]))).toMatchObject({ status: "queued", waitingFor: 1 });
      // a cancel asked for while "held" runs, then its worker hands it back: cancelled, so is its child
      expect((await s.cancel(by("f-held").seq)).outcome).toBe("requested");
      await s.release(by("f-held").seq, by("f-held").version);
      expect(await s.get(seqOf(answers[3]))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-held cancelled",
      });
      // "lost" expires on its last attempt: failed by the reclaim, its child cancelled
      c.advance(2000);
      expect(await s.recover()).toBe(1);
      expect(await s.get(seqOf(answers[1]))).toMatchObject({
        status: "cancelled",
        errorMessage: "parent f-lost failed",
      });
      expect(await s.get(seqOf(answers[5]))).toMatchObject({ status: "queued", waitingFor: 1 });
    });

    it("refuses a cycle, an unknown parent id and after with start or a delay, storing nothing", async () => {
      const s = await store();
      const refused = async (tasks: FlowTaskInput[], message: RegExp) => {
        await expect(s.enqueueFlow(tasks)).rejects.toMatchObject({ code: "ERR_INVALID_INPUT", message });
      };
      await refused([node("a", [{ parent: 1 }]), node("b", [{ parent: 0 }])], /cycle/);
      await refused(
        [node("a"), node("b", [{ parent: "no-such-task" }])],
        /^after: no task with id no-such-task$/,
      );
      await refused(
        [node("a"), node("b", [{ parent: 0 }], { delayMs: 5 })],
        /not with start, runAt or delayMs/,
      );
      await refused([node("a"), node("b", [{ parent: 0 }, { parent: 0 }])], /twice/);
      await refused([node("a", [{ parent: 0 }])], /itself/);
      await refused([], /^tasks must hold at least one task$/);
      for (const id of ["f-a", "f-b"]) expect(await s.getById(id)).toEqual([]);
    });

    it("a fan-in of 1,000 parents finished by two stores at once releases its child exactly once", async () => {
      const s1 = await store();
      const s2 = await store({ sameAs: s1 });
      const parents = Array.from({ length: 1000 }, (_, i) => node(`p${i}`));
      await s1.enqueueMany(parents);
      const [child] = await s1.enqueueFlow([
        {
          ...node(
            "sum",
            parents.map((p) => ({ parent: p.id })),
          ),
          kind: "sum",
        },
      ]);
      expect(await s1.get(seqOf(child))).toMatchObject({ waitingFor: 1000 });
      const finish = async (s: TaskStoreDriver) => {
        for (;;) {
          const taken = await s.takeNext(50, ["step"]);
          if (taken.length === 0) return;
          await Promise.all(
            taken.map((t) => s.succeed(t.seq, t.version, { result: String(t.payload && 1) })),
          );
        }
      };
      await Promise.all([finish(s1), finish(s2)]);
      const got = await s1.get(seqOf(child));
      expect(got).toMatchObject({ status: "queued", waitingFor: 0 });
      const [taken, other] = await Promise.all([s2.takeNext(10, ["sum"]), s1.takeNext(10, ["sum"])]);
      expect([...taken, ...other].map((t) => t.id)).toEqual(["f-sum"]);
      expect([...taken, ...other][0]?.parents).toHaveLength(1000);
    });

    it("a stale writer's success releases nothing", async () => {
      const s = await store({ leaseMs: 60_000 });
      const answers = await s.enqueueFlow([node("a"), node("b", [{ parent: 0 }])]);
      const [a] = await s.takeNext(1, ["step"]);
      await expect(s.succeed(a!.seq, a!.version + 5)).rejects.toMatchObject({ code: "ERR_STALE_TRANSITION" });
      expect(await s.get(seqOf(answers[1]))).toMatchObject({ status: "queued", waitingFor: 1 });
      expect(await s.takeNext(10, ["step"])).toEqual([]);
    });

    it("retention deletes a finished task's edges: a seq used again (SQLite reuses the largest) has none", async () => {
      // ahead of the database's clock, which the PostgreSQL trigger's release uses
      const c = clock(Date.now() + 60_000);
      const s = await store({ now: c.now });
      const answers = await s.enqueueFlow([node("a"), node("b", [{ parent: 0 }])]);
      expect(await runDue(s)).toEqual(["f-a"]);
      expect(await runDue(s)).toEqual(["f-b"]);
      c.advance(10);
      expect(await s.prune({ olderThanMs: 1 })).toBe(2);
      const first = await s.claim(node("new-1"));
      const second = await s.claim(node("new-2"));
      expect((await s.taskLinks(seqOf(first))).children).toEqual([]);
      expect((await s.taskLinks(seqOf(second))).parents).toEqual([]);
      expect((await s.taskLinks(seqOf(answers[0]))).children).toEqual([]);
    });

    it("a duplicate key in a flow is the existing task: it gets no new edges", async () => {
      const s = await store();
      await s.claim(node("b"));
      const answers = await s.enqueueFlow([node("a"), node("b", [{ parent: 0 }])]);
      expect(answers[1]?.created).toBe(false);
      expect((await s.taskLinks(seqOf(answers[0]))).children).toEqual([]);
      expect((await s.takeNext(10, ["step"])).map((t) => t.id).sort()).toEqual(["f-a", "f-b"]);
    });
  });
}
