// Circuit breakers per kind (issue 34) through the library, on SQLite and on a real PostgreSQL:
// a worker whose kind fails while a flag file exists opens the kind's breaker (its hook says so),
// probes after the cool-down, and closes it (its hook again) once the flag is gone; every task then
// succeeds. Bad settings are one line naming the option. Waits are on events, bounded.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { type BreakerHookEvent, ConfigError } from "../src/index.js";
import { gatedFleet } from "./gated-fleet.js";

const { stores, kindOf, producer, worker } = gatedFleet("taskq_breaker", { concurrency: 1, pollMs: 20 });
const downstream = new URL("./fixtures/fleet/downstream.mjs", import.meta.url).pathname;

describe.each(stores)("circuit breakers on %s", (_name, storeOf) => {
  it("opens on the kind's failures, probes after the cool-down, closes when the downstream is back; the hooks say so", async () => {
    const store = storeOf();
    const kind = kindOf("mail");
    const dir = mkdtempSync(join(tmpdir(), "taskq-breaker-"));
    const [flag, events] = [join(dir, "down"), join(dir, "events")];
    writeFileSync(flag, "");
    const client = await producer(store);
    await client.setBreaker(kind, { failures: 2, cooldownMs: 50 });
    expect(await client.breakers()).toEqual([
      {
        kind,
        failures: 2,
        windowMs: 60_000,
        cooldownMs: 50,
        countErrors: "retryable",
        ratio: null,
        minAttempts: null,
        state: "closed",
        failuresInWindow: 0,
        attemptsInWindow: 0,
        openedAt: null,
        halfOpenAt: null,
        probeSeq: null,
      },
    ]);
    const opened: BreakerHookEvent[] = [];
    const closed: BreakerHookEvent[] = [];
    await worker({
      store,
      handlers: { [kind]: downstream },
      handlerOptions: { worker: "w", flag, events },
      prefetch: 0,
      attempts: 50,
      backoffBaseMs: 5,
      backoffMaxMs: 10,
      hooks: { breakerOpened: (e) => opened.push(e), breakerClosed: (e) => closed.push(e) },
    });
    const ids = (
      await client.enqueueMany(
        kind,
        [1, 2, 3, 4].map((n) => ({ n })),
      )
    ).map((t) => t.id);
    await vi.waitFor(() => expect(opened.length).toBeGreaterThanOrEqual(2), {
      timeout: 30_000,
      interval: 10,
    });
    expect(opened[0]).toEqual({ kind, at: expect.any(Number) });
    expect(closed).toEqual([]);
    rmSync(flag);
    for (const id of ids)
      expect(await client.result(id, { timeoutMs: 30_000 })).toMatchObject({ worker: "w" });
    expect(closed).toEqual([{ kind, at: expect.any(Number) }]);
    expect(await client.breakers()).toMatchObject([{ kind, state: "closed", failuresInWindow: 0 }]);
    expect((await client.limits()).find((l) => l.kind === kind)).toMatchObject({ heldBack: null });
    await client.setBreaker(kind, null);
    expect(await client.breakers()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses bad settings in one line naming the option", async () => {
    const client = await producer(storeOf());
    const kind = kindOf("mail");
    await expect(client.setBreaker(kind, { failures: 2, cooldown: 5 } as never)).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(client.setBreaker(kind, { failures: 2, cooldown: 5 } as never)).rejects.toMatchObject({
      option: "cooldown",
    });
    await expect(client.setBreaker(kind, { failures: 0 })).rejects.toMatchObject({
      code: "ERR_INVALID_INPUT",
      message: expect.stringMatching(/^failures must be an integer from 1 to 1000000, got 0$/),
    });
    await expect(
      client.setBreaker(kind, { failures: 1, countErrors: "some" as never }),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_INPUT",
      message: expect.stringMatching(/^countErrors must be/),
    });
    await expect(client.setBreaker("a b", { failures: 1 })).rejects.toBeInstanceOf(ConfigError);
    expect(await client.resetBreaker(kind)).toBe(false);
    expect(await client.breakers()).toEqual([]);
  });
});
