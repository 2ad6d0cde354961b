// Issue 35's features as a user combines them, on SQLite and on a real PostgreSQL:
// - a workflow whose steps report progress and log lines (the handler on a thread): each step's
//   progress and log are kept with it, and the last step reads its parents' results;
// - a circuit breaker on a grouped kind (per-group cap 1): one group's failures open the kind's
//   breaker; while it is open only its probes start, whatever the group; once it closes every
//   group's tasks run, never two of one group at once.
// Waits are on events (results, hooks), bounded; no sleeps.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { BreakerHookEvent } from "../src/index.js";
import { events, maxPerGroup, reset } from "./fixtures/together.mjs";
import { gatedFleet } from "./gated-fleet.js";

const together = new URL("./fixtures/together.mjs", import.meta.url).pathname;
const { stores, kindOf, producer, worker } = gatedFleet("taskq_together", { pollMs: 20 });
beforeEach(() => reset());

describe.each(stores)("features together on %s", (_name, storeOf) => {
  it("a workflow's steps report progress and log lines on a thread; the last reads both parents", async () => {
    const store = storeOf();
    const kind = kindOf("step");
    const client = await producer(store);
    await worker({ store, handlers: { [kind]: together }, threads: 1 });
    const flow = await client.enqueueFlow({
      tasks: {
        a: { kind, payload: { name: "a" } },
        b: { kind, payload: { name: "b" }, after: ["a"] },
        c: { kind, payload: { name: "c" }, after: ["a"] },
        d: { kind, payload: { name: "d" }, after: ["b", "c"] },
      },
    });
    expect(await client.result(flow.d!.id, { timeoutMs: 30_000 })).toEqual({
      name: "d",
      parents: ["b", "c"],
    });
    for (const [name, parents, after] of [
      ["a", 0, "nothing"],
      ["b", 1, "a"],
      ["c", 1, "a"],
      ["d", 2, "b,c"],
    ] as const) {
      const id = flow[name]!.id;
      const task = await client.get(id);
      expect(task).toMatchObject({ status: "succeeded", progress: { step: name, parents } });
      expect((await client.logs(id)).lines.map((l) => l.line)).toEqual([`${name} after ${after}`]);
    }
    // a progress watch of a finished step ends at once with its last value
    const seen: unknown[] = [];
    for await (const value of client.progress(flow.d!.id)) seen.push(value);
    expect(seen.at(-1)).toEqual({ step: "d", parents: 2 });
  });

  it("a breaker on a grouped kind: one group's failures open it for every group, only probes start while it is open, each group's cap holds", async () => {
    const store = storeOf();
    const kind = kindOf("sync");
    const dir = mkdtempSync(join(tmpdir(), "taskq-together-"));
    const flag = join(dir, "down");
    writeFileSync(flag, "");
    const client = await producer(store);
    await client.setLimits(kind, { perGroup: { concurrency: 1 } });
    await client.setBreaker(kind, { failures: 2, cooldownMs: 50 });
    const opened: BreakerHookEvent[] = [];
    await worker({
      store,
      handlers: { [kind]: together },
      handlerOptions: { flag },
      concurrency: 4,
      prefetch: 0,
      attempts: 50,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      hooks: {
        breakerOpened: (e) => {
          opened.push(e);
          events.push("opened");
        },
        breakerClosed: () => events.push("closed"),
      },
    });
    // the downstream is down: the first group's tasks fail and open the breaker
    const failing = await client.enqueueMany(
      kind,
      [1, 2].map((n) => ({ name: `a${n}`, group: "a" })),
      { group: "a" },
    );
    await vi.waitFor(() => expect(opened.length).toBeGreaterThanOrEqual(1), {
      timeout: 30_000,
      interval: 10,
    });
    // enqueued while it is open: the other groups' tasks wait for it like the first group's
    const others: string[] = [];
    for (const group of ["b", "c"])
      for (const e of await client.enqueueMany(
        kind,
        [1, 2, 3].map((n) => ({ name: `${group}${n}`, group })),
        { group },
      ))
        others.push(e.id);
    // the probes fail until the downstream is back (a second opening proves a probe ran and failed)
    await vi.waitFor(() => expect(opened.length).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
      interval: 10,
    });
    rmSync(flag);
    for (const e of failing)
      expect(await client.result(e.id, { timeoutMs: 30_000 })).toMatchObject({ parents: [] });
    for (const id of others)
      expect(await client.result(id, { timeoutMs: 30_000 })).toMatchObject({ parents: [] });

    // between the first opening and the closing, each opening let one probe start, no more
    const first = events.indexOf("opened");
    const closedAt = events.indexOf("closed");
    expect(closedAt).toBeGreaterThan(first);
    const startsWhileOpen = events.slice(first, closedAt).filter((e) => e.startsWith("start ")).length;
    const openings = events.slice(first, closedAt).filter((e) => e === "opened").length;
    expect(startsWhileOpen).toBeLessThanOrEqual(openings);
    // the per-group cap held throughout, and every group ran
    expect(Object.fromEntries(maxPerGroup)).toEqual({ a: 1, b: 1, c: 1 });
    rmSync(dir, { recursive: true, force: true });
  });
});
