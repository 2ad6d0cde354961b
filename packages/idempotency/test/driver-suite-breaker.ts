// The store contract for circuit breakers per kind (issue 34), run against every driver on its
// real backend with an injected clock: a breaker opens on counted failures within its window,
// holds the kind's queued tasks untouched, lets one probe through across stores after its
// cool-down, closes on the probe's success and opens again on its failure.
import { describe, expect, it } from "vitest";
import { type BreakerEvent, everyTask, type TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

const transient = { errorClass: "transient", message: "the mail server is down", retryable: true };
const permanent = { errorClass: "permanent", message: "no such recipient", retryable: false };

/** The breaker of `kind` as kindLimits lists it. */
async function breakerOf(s: TaskStoreDriver, kind = "image") {
  return (await s.kindLimits()).find((l) => l.kind === kind)?.breaker ?? null;
}

/** The events `s` tells of from now on. */
function heard(s: TaskStoreDriver): BreakerEvent[] {
  const events: BreakerEvent[] = [];
  s.onBreakerChange((event) => events.push(event));
  return events;
}

/** Runs the breaker contract against the stores `make` opens. */
export function testBreakerContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, breakers: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("opens after N counted failures within its window (permanent ones not counted) and holds the kind's queued tasks untouched", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a" });
      const other = await store({ now: c.now, owner: "node-1:1:a", sameAs: first });
      const events = heard(first);
      await first.setBreaker("image", { failures: 2, windowMs: 10_000, cooldownMs: 5_000 });
      await first.enqueueMany([1, 2, 3, 4, 5, 6].map((n) => task(n)));
      const [a, b, d, e] = await first.takeNext(4);
      await first.retry(a!.seq, a!.version, transient, 60_000);
      await first.fail(b!.seq, b!.version, permanent); // permanent: not counted
      expect(await breakerOf(other)).toMatchObject({ state: "closed", failuresInWindow: 1, openedAt: null });
      // the window ends: the next counted failure starts a new one
      c.advance(10_000);
      await first.retry(d!.seq, d!.version, { errorClass: "timeout", message: "hung" }, 60_000);
      expect(await breakerOf(other)).toMatchObject({ state: "closed", failuresInWindow: 1 });
      expect(events).toEqual([]);
      // a retryable error on a last attempt (fail) counts: the second in the window opens it
      await first.fail(e!.seq, e!.version, { ...transient, retryable: true });
      expect(events).toEqual([{ kind: "image", state: "opened", at: 1_010_000 }]);
      await first.enqueueMany([task(7, { kind: "other" })]);
      // every store's takes pass the kind by; its queued tasks keep their attempts
      expect((await other.takeNext(10)).map((t) => t.id)).toEqual(["t-7"]);
      expect(await first.takeNext(10)).toEqual([]);
      const queued = await everyTask(first, { kind: "image", status: "queued" });
      expect(queued.map((t) => [t.id, t.attempts])).toEqual([
        ["t-1", 1],
        ["t-3", 1],
        ["t-5", 0],
        ["t-6", 0],
      ]);
      expect((await first.kindLimits()).find((l) => l.kind === "image")).toMatchObject({
        concurrency: null,
        rate: null,
        paused: false,
        heldBack: "breaker",
        openAgainAt: 1_015_000,
        breaker: {
          failures: 2,
          windowMs: 10_000,
          cooldownMs: 5_000,
          countErrors: "retryable",
          state: "open",
          openedAt: 1_010_000,
          halfOpenAt: 1_015_000,
          probeSeq: null,
        },
      });
      // an idle worker sleeps until the cool-down ends, not forever
      expect(await other.nextDueIn(["image"])).toBe(5_000);
    });

    it("after the cool-down one probe goes through across stores; its failure opens it again, its success closes it", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a", leaseMs: 20_000 });
      const other = await store({ now: c.now, owner: "node-1:1:a", leaseMs: 20_000, sameAs: first });
      const events = [...[first, other].map(heard)];
      await first.setBreaker("image", { failures: 1, cooldownMs: 1_000 });
      await first.enqueueMany([1, 2, 3, 4].map((n) => task(n)));
      const [one] = await first.takeNext(1);
      await first.retry(one!.seq, one!.version, transient, 0);
      expect(events[0]).toEqual([{ kind: "image", state: "opened", at: 1_000_000 }]);
      expect(await other.takeNext(10)).toEqual([]);
      c.advance(1_000);
      expect(await breakerOf(first)).toMatchObject({ state: "half-open", probeSeq: null, halfOpenAt: null });
      // half-open: exactly one probe, whichever store asks, however many it asks for
      const [probe] = await other.takeNext(10);
      expect(probe).toBeDefined();
      expect(await first.takeNext(10)).toEqual([]);
      expect(await other.takeNext(10)).toEqual([]);
      expect(await breakerOf(first)).toMatchObject({ state: "half-open", probeSeq: probe!.seq });
      // the probe fails: open again for another cool-down, heard by the store whose turn did it
      await other.retry(probe!.seq, probe!.version, transient, 0);
      expect(events[1]).toEqual([{ kind: "image", state: "opened", at: 1_001_000 }]);
      expect(await breakerOf(first)).toMatchObject({ state: "open", openedAt: 1_001_000, probeSeq: null });
      expect(await first.takeNext(10)).toEqual([]);
      c.advance(1_000);
      const [second] = await first.takeNext(10);
      expect(await other.takeNext(10)).toEqual([]);
      // the probe succeeds: closed, its count starts again, and every task of the kind may run
      await first.succeed(second!.seq, second!.version);
      expect(events[0]?.at(-1)).toEqual({ kind: "image", state: "closed", at: 1_002_000 });
      expect(await breakerOf(other)).toMatchObject({ state: "closed", failuresInWindow: 0, openedAt: null });
      expect(await other.takeNext(10)).toHaveLength(3);
      const tasks = await everyTask(first, { kind: "image" });
      // no task was failed by the breaker: one succeeded, three run, none dead-lettered
      expect(tasks.map((t) => t.status).sort()).toEqual(["running", "running", "running", "succeeded"]);
    });

    it("failures ended at once by several stores are counted one after the other: exactly one opens it", async () => {
      const c = clock();
      const stores = [await store({ now: c.now, owner: "node-0:1:a" })];
      for (let i = 1; i < 4; i++)
        stores.push(await store({ now: c.now, owner: `node-${i}:1:a`, sameAs: stores[0] }));
      const events = stores.map(heard);
      await stores[0]!.setBreaker("image", { failures: 3, cooldownMs: 1_000 });
      await stores[0]!.enqueueMany([1, 2, 3, 4, 5].map((n) => task(n)));
      const taken = await Promise.all(stores.map((s) => s.takeNext(1)));
      await Promise.all(
        stores.map((s, i) => s.retry(taken[i]![0]!.seq, taken[i]![0]!.version, transient, 0)),
      );
      expect(events.flat()).toEqual([{ kind: "image", state: "opened", at: 1_000_000 }]);
      expect(await breakerOf(stores[0]!)).toMatchObject({ state: "open", failuresInWindow: 0 });
      expect((await everyTask(stores[0]!, { kind: "image" })).map((t) => t.attempts).sort()).toEqual([
        0, 1, 1, 1, 1,
      ]);
    });

    it("a probe whose worker died does not wedge the breaker: past its lease and cool-down another goes through", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a", leaseMs: 5_000 });
      const other = await store({ now: c.now, owner: "node-1:1:a", leaseMs: 5_000, sameAs: first });
      await first.setBreaker("image", { failures: 1, cooldownMs: 1_000 });
      await first.enqueueMany([1, 2].map((n) => task(n)));
      const [one] = await first.takeNext(1);
      await first.retry(one!.seq, one!.version, transient, 60_000);
      c.advance(1_000);
      const [probe] = await first.takeNext(10); // first's worker dies with it
      expect(probe?.id).toBe("t-2");
      c.advance(4_999);
      expect(await other.takeNext(10)).toEqual([]);
      c.advance(2);
      const [next] = await other.takeNext(10);
      expect(next?.id).toBe("t-2"); // its lease expired: back in the queue, and the next probe
      expect(await breakerOf(first)).toMatchObject({ state: "half-open", probeSeq: next!.seq });
      // the stale probe's late success is refused (its version is old) and closes nothing
      await expect(first.succeed(probe!.seq, probe!.version)).rejects.toMatchObject({
        code: "ERR_STALE_TRANSITION",
      });
      expect(await breakerOf(first)).toMatchObject({ state: "half-open" });
      // a probe's uncounted failure says nothing of the downstream: it frees the probe slot
      await other.fail(next!.seq, next!.version, permanent);
      expect(await breakerOf(first)).toMatchObject({ state: "half-open", probeSeq: null });
    });

    it("a probe holds its slot while its lease is renewed, however long it runs; its success then closes the breaker", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a", leaseMs: 5_000 });
      const other = await store({ now: c.now, owner: "node-1:1:a", leaseMs: 5_000, sameAs: first });
      const events = heard(first);
      await first.setBreaker("image", { failures: 1, cooldownMs: 1_000 });
      await first.enqueueMany([1, 2, 3, 4].map((n) => task(n)));
      const [one] = await first.takeNext(1);
      await first.retry(one!.seq, one!.version, transient, 60_000);
      c.advance(1_000);
      const [probe] = await first.takeNext(10);
      expect(probe?.id).toBe("t-2");
      // the probe outlives the cool-down and its first lease many times over: its worker renews
      // the lease, and no second probe goes through
      for (let i = 0; i < 5; i++) {
        c.advance(4_000);
        expect(await first.renewLeases()).toBe(1);
        expect(await other.takeNext(10)).toEqual([]);
        expect(await breakerOf(other)).toMatchObject({ state: "half-open", probeSeq: probe!.seq });
      }
      expect((await other.kindLimits()).find((l) => l.kind === "image")?.openAgainAt).toBe(c.now() + 5_000);
      // its success is still the breaker's probe: it closes it
      await first.succeed(probe!.seq, probe!.version);
      expect(events).toEqual([
        { kind: "image", state: "opened", at: 1_000_000 },
        { kind: "image", state: "closed", at: c.now() },
      ]);
      expect(await other.takeNext(10)).toHaveLength(2);
    });

    it("a probe whose lease is no longer renewed frees its slot when the lease expires", async () => {
      const c = clock();
      const first = await store({ now: c.now, owner: "node-0:1:a", leaseMs: 5_000 });
      const other = await store({ now: c.now, owner: "node-1:1:a", leaseMs: 5_000, sameAs: first });
      await first.setBreaker("image", { failures: 1, cooldownMs: 1_000 });
      await first.enqueueMany([1, 2, 3].map((n) => task(n)));
      const [one] = await first.takeNext(1);
      await first.retry(one!.seq, one!.version, transient, 60_000);
      c.advance(1_000);
      const [probe] = await first.takeNext(10);
      c.advance(4_000);
      expect(await first.renewLeases()).toBe(1); // its lease now ends at 1_010_000
      c.advance(4_999); // then its worker dies
      expect(await other.takeNext(10)).toEqual([]);
      c.advance(2);
      const [next] = await other.takeNext(10);
      expect(next?.seq).toBe(probe!.seq); // back in the queue, and the next probe
      expect(await breakerOf(first)).toMatchObject({ state: "half-open", probeSeq: next!.seq });
      expect(await first.takeNext(10)).toEqual([]);
    });

    it("a success never opens a breaker, even one that brings the window to its minimum attempts at the ratio", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const other = await store({ now: c.now, sameAs: s });
      const events = heard(s);
      await s.setBreaker("image", { failures: 100, ratio: 0.5, minAttempts: 4, cooldownMs: 1_000 });
      await s.enqueueMany([1, 2, 3, 4, 5].map((n) => task(n)));
      const [a, b, d, e] = await s.takeNext(4);
      await s.retry(a!.seq, a!.version, transient, 60_000);
      await s.retry(b!.seq, b!.version, transient, 60_000);
      await s.succeed(d!.seq, d!.version);
      // 2 failures of 4 attempts: the ratio, with enough attempts, but the 4th was a success
      await s.succeed(e!.seq, e!.version);
      expect(await breakerOf(other)).toMatchObject({
        state: "closed",
        failuresInWindow: 2,
        attemptsInWindow: 4,
      });
      expect(events).toEqual([]);
      // the next counted failure opens it: 3 of 5
      const [f] = await other.takeNext(1);
      await other.retry(f!.seq, f!.version, transient, 60_000);
      expect(await breakerOf(s)).toMatchObject({ state: "open", failuresInWindow: 0 });
    });

    it("with a ratio it also opens when that share of the window's ended attempts failed, once there are enough", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const other = await store({ now: c.now, sameAs: s });
      await s.setBreaker("image", { failures: 100, ratio: 0.5, minAttempts: 4, cooldownMs: 1_000 });
      await s.enqueueMany([1, 2, 3, 4, 5, 6, 7, 8].map((n) => task(n)));
      const [a, b, d, e, f] = await s.takeNext(5);
      await s.succeed(a!.seq, a!.version);
      await s.succeed(b!.seq, b!.version);
      await s.retry(d!.seq, d!.version, transient, 0);
      expect(await breakerOf(other)).toMatchObject({
        state: "closed",
        ratio: 0.5,
        minAttempts: 4,
        failuresInWindow: 1,
        attemptsInWindow: 3,
      });
      // 2 of 4: the ratio, and enough attempts
      await s.retry(e!.seq, e!.version, transient, 0);
      expect(await breakerOf(other)).toMatchObject({ state: "open", openedAt: 1_000_000 });
      expect(await other.takeNext(10)).toEqual([]);
      await s.succeed(f!.seq, f!.version); // a success while open changes nothing
      expect(await breakerOf(other)).toMatchObject({ state: "open" });
      c.advance(1_000);
      const [probe] = await other.takeNext(10);
      await other.succeed(probe!.seq, probe!.version);
      expect(await breakerOf(s)).toMatchObject({ state: "closed", failuresInWindow: 0, attemptsInWindow: 0 });
      // a new window: the old attempts are gone
      c.advance(60_000);
      const [g] = await s.takeNext(1);
      await s.retry(g!.seq, g!.version, transient, 0);
      expect(await breakerOf(s)).toMatchObject({ state: "closed", failuresInWindow: 1, attemptsInWindow: 1 });
      for (const [options, option] of [
        [{ failures: 2, ratio: 1.5 }, "ratio"],
        [{ failures: 2, ratio: 0 }, "ratio"],
        [{ failures: 2, minAttempts: 3 }, "minAttempts"],
        [{ failures: 2, ratio: 0.5, minAttempts: 0 }, "minAttempts"],
      ] as const)
        await expect(s.setBreaker("image", options as never)).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: expect.stringContaining(option),
        });
    });

    it("reset closes it; set again it keeps its state; limits removed keep it; removed, its tasks run; bad options name the option", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      await s.setBreaker("image", { failures: 1, cooldownMs: 60_000, countErrors: ["smtp"] });
      await s.enqueueMany([1, 2, 3].map((n) => task(n)));
      const [one] = await s.takeNext(1);
      await s.retry(one!.seq, one!.version, transient, 0); // not a class it counts
      expect(await breakerOf(s)).toMatchObject({ state: "closed", countErrors: ["smtp"] });
      const [two] = await s.takeNext(1);
      await s.retry(two!.seq, two!.version, { errorClass: "smtp", message: "421" }, 0);
      expect(await breakerOf(s)).toMatchObject({ state: "open" });
      await s.setBreaker("image", { failures: 3, cooldownMs: 60_000, countErrors: "all" });
      expect(await breakerOf(s)).toMatchObject({ state: "open", failures: 3, countErrors: "all" });
      await s.setKindLimits("image", { concurrency: 5 });
      await s.setKindLimits("image", null);
      expect(await breakerOf(s)).toMatchObject({ state: "open" });
      expect(await s.takeNext(10)).toEqual([]);
      expect(await s.resetBreaker("image")).toBe(true);
      expect(await s.resetBreaker("image")).toBe(false);
      expect(await breakerOf(s)).toMatchObject({ state: "closed", failuresInWindow: 0 });
      const taken = await s.takeNext(1);
      await s.retry(taken[0]!.seq, taken[0]!.version, permanent, 0); // "all": counted
      expect(await breakerOf(s)).toMatchObject({ state: "closed", failuresInWindow: 1 });
      await s.setBreaker("image", null);
      expect(await s.kindLimits()).toEqual([]); // the row held nothing else
      expect(await s.takeNext(10)).toHaveLength(3);
      const bad = [
        [{ failures: 0 }, "failures"],
        [{ failures: 2, windowMs: -1 }, "windowMs"],
        [{ failures: 2, cooldownMs: 1.5 }, "cooldownMs"],
        [{ failures: 2, countErrors: [] }, "countErrors"],
      ] as const;
      for (const [options, option] of bad)
        await expect(s.setBreaker("image", options as never)).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
          message: expect.stringContaining(option),
        });
      // a pause and a breaker share the row: each removed leaves the other
      await s.setBreaker("image", { failures: 1 });
      await s.setKindPaused("image", true);
      await s.setBreaker("image", null);
      expect(await s.kindLimits()).toMatchObject([{ kind: "image", paused: true, breaker: null }]);
      await s.setBreaker("image", { failures: 1 });
      await s.setKindPaused("image", false);
      expect(await s.kindLimits()).toMatchObject([
        { kind: "image", paused: false, breaker: { state: "closed" } },
      ]);
    });
  });
}
