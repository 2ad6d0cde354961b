// The store contract for a task's attempts (issue 36), run against every driver on its real
// backend with an injected clock: each attempt that ends other than in success is kept, in the
// statement (or transaction) that ends it, with its start, end, error and worker; the attempt that
// succeeds is the task row's own; retention takes them with their task.
import { describe, expect, it } from "vitest";
import { MAX_STACK, type TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

/** Runs the attempts contract against the stores `make` opens. */
export function testAttemptsContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, attempts: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("keeps every attempt that ends other than in success, with its times, error, stack and worker", async () => {
      const c = clock();
      const s = await store({ now: c.now, owner: "node-a:1:x" });
      await s.enqueueMany([task(1)]);
      const [first] = await s.takeNext(1);
      c.advance(250);
      const stack = `Error: smtp down\n    at send (mail.js:1:1)\n${"    at deep (x.js:1:1)\n".repeat(400)}`;
      await s.retry(first!.seq, first!.version, { errorClass: "transient", message: "smtp down", stack }, 0);
      c.advance(10);
      const [second] = await s.takeNext(1);
      c.advance(40);
      await s.retry(second!.seq, second!.version, { errorClass: "timeout", message: "too slow" }, 0);
      // nothing is kept for the attempt that succeeds: the task row holds it
      const [third] = await s.takeNext(1);
      c.advance(5);
      await s.succeed(third!.seq, third!.version, { result: "ok" });
      const kept = await s.attempts(first!.seq);
      expect(kept.map(({ seq: _seq, errorStack: _stack, ...a }) => a)).toEqual([
        {
          taskSeq: first!.seq,
          attempt: 1,
          startedAt: 1_000_000,
          finishedAt: 1_000_250,
          outcome: "retried",
          errorClass: "transient",
          errorMessage: "smtp down",
          worker: "node-a:1:x",
        },
        {
          taskSeq: first!.seq,
          attempt: 2,
          startedAt: 1_000_260,
          finishedAt: 1_000_300,
          outcome: "retried",
          errorClass: "timeout",
          errorMessage: "too slow",
          worker: "node-a:1:x",
        },
      ]);
      // the stack is kept bounded, and said to be cut
      expect(kept[0]?.errorStack?.length).toBeLessThanOrEqual(MAX_STACK);
      expect(kept[0]?.errorStack).toMatch(/^Error: smtp down\n {4}at send \(mail\.js:1:1\)\n/);
      expect(kept[0]?.errorStack?.endsWith("… (cut)")).toBe(true);
      expect(kept[1]?.errorStack).toBeNull();
      expect(kept[0]!.seq).toBeLessThan(kept[1]!.seq);
      expect(await s.attempts(987_654)).toEqual([]);
    });

    it("a failed attempt, a released one, a cancelled one and a lost one are kept as such", async () => {
      const c = clock();
      const s = await store({ now: c.now, owner: "node-a:1:x", leaseMs: 1000 });
      const other = await store({ now: c.now, owner: "node-b:1:y", sameAs: s, leaseMs: 1000 });
      await s.enqueueMany([1, 2, 3, 4].map((n) => task(n)));
      const [t1, t2, t3] = await s.takeNext(3);
      // another worker takes the fourth and stops without finishing it: its lease runs out
      const [t4] = await other.takeNext(1);
      await s.fail(t1!.seq, t1!.version, { errorClass: "permanent", message: "bad input" });
      await s.release(t2!.seq, t2!.version);
      const asked = await other.cancel(t3!.seq);
      expect(asked.outcome).toBe("requested");
      await s.cancelRunning!(t3!.seq, t3!.version);
      c.advance(1001);
      expect(await s.recover()).toBeGreaterThanOrEqual(1);
      const outcomes = async (seq: number) =>
        (await s.attempts(seq)).map((a) => [a.attempt, a.outcome, a.errorClass, a.worker]);
      expect(await outcomes(t1!.seq)).toEqual([[1, "failed", "permanent", "node-a:1:x"]]);
      expect(await outcomes(t2!.seq)).toEqual([[1, "released", null, "node-a:1:x"]]);
      expect(await outcomes(t3!.seq)).toEqual([[1, "cancelled", "cancelled", "node-a:1:x"]]);
      expect(await outcomes(t4!.seq)).toEqual([[1, "lost", "lease_expired", "node-b:1:y"]]);
      // a stale transition keeps nothing (its guard failed)
      await expect(s.retry(t4!.seq, t4!.version, { errorClass: "x", message: "late" }, 0)).rejects.toThrow();
      expect(await s.attempts(t4!.seq)).toHaveLength(1);
    });

    it("retention and the dead letters' purge take a task's attempts with it", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.enqueueMany([task(1), task(2)]);
      const [a, b] = await s.takeNext(2);
      await s.retry(a!.seq, a!.version, { errorClass: "transient", message: "once" }, 0);
      await s.fail(b!.seq, b!.version, { errorClass: "permanent", message: "never" });
      const [again] = await s.takeNext(1);
      await s.succeed(again!.seq, again!.version, {});
      c.advance(10_000);
      expect(await s.prune({ olderThanMs: 1000 })).toBe(1);
      expect(await s.attempts(a!.seq)).toEqual([]);
      expect(await s.attempts(b!.seq)).toHaveLength(1);
      expect(await s.purgeDeadLetters(1000)).toBe(1);
      expect(await s.attempts(b!.seq)).toEqual([]);
    });
  });
}
