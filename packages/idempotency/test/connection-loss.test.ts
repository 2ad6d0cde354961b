// A connection of the store's lost while it holds it (pg_terminate_backend, as an administrator or
// a failover does): the process hears no error and every call completes, retried on a new
// connection. Issue 38: a limited take's transaction held a client no 'error' listener heard, and
// the lost connection's 'error' event was an uncaught exception that ended the worker.
import pg from "pg";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { PgTaskStore } from "../src/postgres.js";
import { task, totals } from "./driver-suite.js";

// The URL's application_name outranks the pool's own ("taskq"): it marks this file's connections
// apart from those of the test files running beside it.
const app = `taskq_connloss_${process.pid}`;
const url = `${inject("pgUrl")}?application_name=${app}`;
let schemas = 0;

let admin: pg.Client;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);
const open: PgTaskStore[] = [];

beforeEach(async () => {
  uncaught.length = 0;
  process.on("uncaughtException", onUncaught);
  admin = new pg.Client({ connectionString: inject("pgUrl") });
  await admin.connect();
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of open.splice(0)) await s.close();
  await admin.end();
  process.off("uncaughtException", onUncaught);
});

async function store(): Promise<PgTaskStore> {
  const s = await PgTaskStore.open({
    url,
    schema: `connloss_${process.pid}_${++schemas}`,
    reconnectTimeoutMs: 30_000,
  });
  open.push(s);
  return s;
}

/**
 * Terminates this file's connections (or the one of `pid`) and returns how many, once each has
 * exited (the server looks every 100 ms): what is sent on them next finds them lost.
 */
async function terminate(pid: number | null = null): Promise<number> {
  const { rows } = await admin.query(
    `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name = $1
       AND ($2::int IS NULL OR pid = $2)`,
    [app, pid],
  );
  return rows.length;
}

/**
 * After each `arm()`, the next statement `matches` picks (one only a checked-out client sends: a
 * transaction's, a migration's) is held until its connection is terminated, then sent on it: the
 * connection is lost while its holder awaits.
 */
function killBefore(matches: (text: string) => boolean) {
  const send = pg.Client.prototype.query;
  let armed = false;
  let kills = 0;
  vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { name?: string; text?: string };
    const text = typeof config === "string" ? config : `${config.name ?? ""} ${config.text ?? ""}`;
    if (!armed || !matches(text)) return (send as (...a: unknown[]) => unknown).apply(this, args) as never;
    armed = false;
    const pid = (this as unknown as { processID: number }).processID;
    return terminate(pid).then((n) => {
      kills += n;
      return (send as (...a: unknown[]) => unknown).apply(this, args);
    }) as never;
  });
  return {
    arm: () => {
      armed = true;
    },
    kills: () => kills,
  };
}

describe("PostgreSQL: a connection terminated while the store holds it", () => {
  it("a limited take's transaction, terminated before its lock: retried on a new connection, no uncaught error", async () => {
    const s = await store();
    await s.setKindLimits("image", { concurrency: 100 });
    await s.enqueueMany(Array.from({ length: 20 }, (_, n) => task(n)));
    const kill = killBefore((text) => text.includes("kind_limit_lock"));
    for (let round = 0; round < 10; round++) {
      kill.arm();
      const taken = await s.takeNext(2, ["image"], { perKind: { image: 2 } });
      expect(taken).toHaveLength(2);
      await Promise.all(taken.map((r) => s.succeed(r.seq, r.version)));
    }
    expect(kill.kills()).toBe(10);
    expect(uncaught).toEqual([]);
    expect(await totals(s)).toMatchObject({ succeeded: 20, queued: 0, scheduled: 0, running: 0 });
  });

  it("turns, limited takes and a waitForWork's LISTEN, every connection terminated between calls: each call completes", async () => {
    const s = await store();
    await s.setKindLimits("image", { concurrency: 100 });
    const kill = killBefore((text) => text.includes("kind_limit_lock"));
    await s.waitForWork(0); // listening from here on
    for (let round = 0; round < 5; round++) {
      // the LISTEN connection lost wakes the waiter (it may have missed a notification)
      const woke = s.waitForWork(600_000);
      expect(await terminate()).toBeGreaterThan(0);
      await woke;
      const started = await Promise.all(
        [0, 1].map((i) => s.claim(task(100 * round + i, { kind: "email", start: true }))),
      );
      await s.enqueueMany([task(100 * round + 2), task(100 * round + 3)]);
      await terminate();
      kill.arm();
      const taken = await s.takeNext(2, ["image"], { perKind: { image: 2 } });
      expect(taken).toHaveLength(2);
      await terminate();
      await Promise.all([
        ...started.map((c) => s.succeed((c as { seq: number }).seq, 0)),
        ...taken.map((r) => s.succeed(r.seq, r.version)),
      ]);
    }
    expect(kill.kills()).toBe(5);
    expect(uncaught).toEqual([]);
    expect(await totals(s)).toMatchObject({ succeeded: 20, queued: 0, scheduled: 0, running: 0 });
  });

  it("a migration terminated mid-transaction fails the open as unavailable, no uncaught error", async () => {
    const kill = killBefore((text) => text.includes("pg_advisory_xact_lock"));
    kill.arm();
    await expect(store()).rejects.toMatchObject({ code: "ERR_STORE_UNAVAILABLE" });
    expect(kill.kills()).toBe(1);
    expect(uncaught).toEqual([]);
  });
});
