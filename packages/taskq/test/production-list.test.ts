// Issue 34's three features as a user combines them, on SQLite and on a real PostgreSQL: a kind
// whose handlers run in child processes (isolation), with a circuit breaker, its tasks enqueued
// with correlation ids, beside a kind on the main thread. While its downstream is down the
// handler ends its own process: each attempt fails as a retryable worker_crash, the breaker
// counts them and opens, holding the kind's backlog queued, while the worker goes on serving the
// other kind; once the downstream is back a probe closes the breaker and every task succeeds
// once, with its correlation id, none dead-lettered. Waits are on events and store state, bounded.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { BreakerHookEvent } from "../src/index.js";
import { gatedFleet } from "./gated-fleet.js";

const { stores, kindOf, producer, worker } = gatedFleet("taskq_production_list", { pollMs: 20 });
const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;

describe.each(stores)("isolation, breakers and correlation together on %s", (_name, storeOf) => {
  it("a process-isolated kind that crashes its process opens its breaker; the other kind runs on; all succeed once after", async () => {
    const store = storeOf();
    const [billing, mail] = [kindOf("billing"), kindOf("mail")];
    const dir = mkdtempSync(join(tmpdir(), "taskq-production-list-"));
    const flag = join(dir, "down");
    writeFileSync(flag, "");
    const client = await producer(store);
    await client.setBreaker(billing, { failures: 3, cooldownMs: 100 });
    const opened: BreakerHookEvent[] = [];
    const closed: BreakerHookEvent[] = [];
    await worker({
      store,
      handlers: { [billing]: fixture("exit-while-down"), [mail]: fixture("echo") },
      isolation: { [billing]: { in: "process", count: 1 } },
      handlerOptions: { flag },
      concurrency: 2,
      prefetch: 0,
      attempts: 100,
      backoffBaseMs: 5,
      backoffMaxMs: 20,
      hooks: { breakerOpened: (e) => opened.push(e), breakerClosed: (e) => closed.push(e) },
    });
    const billed = await client.enqueueMany(
      billing,
      Array.from({ length: 6 }, (_, i) => ({ n: i + 1 })),
      { correlationId: "order-4711" },
    );
    await vi.waitFor(() => expect(opened.length).toBeGreaterThanOrEqual(1), {
      timeout: 60_000,
      interval: 10,
    });

    // open: the worker still serves the other kind
    const mailed = await client.enqueueMany(
      mail,
      Array.from({ length: 5 }, (_, i) => ({ n: i + 1 })),
    );
    for (const { id } of mailed)
      expect(await client.result(id, { timeoutMs: 30_000 })).toMatchObject({ mainThread: true });
    // and the crashing kind's tasks wait in the queue, none dead-lettered
    const views = await Promise.all(billed.map(({ id }) => client.get(id)));
    expect(views.filter((v) => v?.status === "failed")).toEqual([]);

    rmSync(flag);
    const results = await Promise.all(billed.map(({ id }) => client.result(id, { timeoutMs: 60_000 })));
    expect(results.map((r) => (r as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const r of results) expect(r).toMatchObject({ correlationId: "order-4711" });
    // no handler ran on the worker's own process: each crash ended a child of its own
    expect(new Set(results.map((r) => (r as { pid: number }).pid)).has(process.pid)).toBe(false);
    expect(closed.length).toBeGreaterThanOrEqual(1);
    expect(await client.breakers()).toMatchObject([{ kind: billing, state: "closed" }]);

    // every attempt kept: each failed one a worker_crash that says what happened to the process
    let crashes = 0;
    for (const { id } of billed) {
      const view = await client.get(id);
      expect(view).toMatchObject({ status: "succeeded", correlationId: "order-4711" });
      for (const a of view?.attemptHistory.filter((a) => a.outcome !== "succeeded") ?? []) {
        crashes++;
        expect(a).toMatchObject({ outcome: "retried", errorClass: "worker_crash" });
        expect(a.errorMessage).toMatch(/exited with code 3/);
      }
    }
    // the breaker opened after its threshold of crashes, and held the rest back: the crashes are
    // the three that opened it, at most one more already running, and a failed probe per reopening
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(crashes).toBeLessThanOrEqual(4 + (opened.length - 1));
    rmSync(dir, { recursive: true, force: true });
  });
});
