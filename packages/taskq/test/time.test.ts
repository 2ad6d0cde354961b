// Time (issue 22) through the library: cron expressions and their occurrences across a
// daylight-saving change, the scheduler service (exactly-once with three schedulers racing, the
// missed-occurrence policy) on an injected store clock, and delayed and prioritised tasks from
// `connect` to `createWorker` on SQLite and on a real PostgreSQL. Waits are on events.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { everyTask, SqliteTaskStore } from "@taskq/idempotency";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { occurrenceToFire, parseCron } from "../src/cron.js";
import {
  type Client,
  ConfigError,
  connect,
  createWorker,
  ScheduleNotFoundError,
  type TaskEvent,
} from "../src/index.js";
import { occurrenceKey, schedulerService } from "../src/maintenance/scheduler.js";
import { freshDatabase } from "./fresh-database.js";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;
const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("cron expressions", () => {
  it("five fields, or six with seconds first", () => {
    const everyTwoSeconds = parseCron("*/2 * * * * *");
    expect(iso(everyTwoSeconds.next(at("2026-01-01T00:00:00.500Z")))).toBe("2026-01-01T00:00:02.000Z");
    const hourly = parseCron("15 * * * *");
    expect(iso(hourly.next(at("2026-01-01T00:15:00Z")))).toBe("2026-01-01T01:15:00.000Z");
    expect(iso(hourly.previous(at("2026-01-01T01:15:00Z")))).toBe("2026-01-01T01:15:00.000Z");
  });

  it("refuses a bad expression or time zone in one line naming it", () => {
    const cases: [string, string | null, RegExp][] = [
      ["61 * * * *", null, /^cron "61 \* \* \* \*" is not a cron expression.*minute: 61$/],
      ["* * * *", null, /is not a cron expression of five fields.*it has 4 fields$/],
      ["0 0 1 1 * 2030 x", null, /it has 7 fields$/],
      ["every day", null, /^cron "every day" is not a cron expression/],
      ["0 3 * * *", "Mars/Base", /^timezone "Mars\/Base" is not a time zone/],
    ];
    for (const [cron, timezone, message] of cases) {
      let error: unknown;
      try {
        parseCron(cron, timezone);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("\n");
    }
  });

  it("keeps local time across a daylight-saving change, once a day", () => {
    // Europe/Berlin: 2026-03-29 02:00 → 03:00 (02:30 does not exist), 2026-10-25 03:00 → 02:00
    const daily = parseCron("30 2 * * *", "Europe/Berlin");
    const spring: (string | null)[] = [];
    for (let t = at("2026-03-27T12:00:00Z"), i = 0; i < 4; i++) {
      t = daily.next(t) as number;
      spring.push(iso(t));
    }
    expect(spring).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:30:00.000Z", // the missing 02:30 runs at 03:30 CEST, once
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
      "2026-03-31T00:30:00.000Z",
    ]);
    const autumn: (string | null)[] = [];
    for (let t = at("2026-10-24T12:00:00Z"), i = 0; i < 3; i++) {
      t = daily.next(t) as number;
      autumn.push(iso(t));
    }
    // 02:30 happens twice on 2026-10-25: it runs once
    expect(autumn).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  it("missed occurrences: the latest is fired once, the others skipped and counted", () => {
    const minutely = parseCron("* * * * *");
    const due = at("2026-01-01T00:01:00Z");
    expect(occurrenceToFire(minutely, due, at("2026-01-01T00:01:00Z"))).toEqual({
      fire: due,
      next: at("2026-01-01T00:02:00Z"),
      skipped: 0,
    });
    expect(occurrenceToFire(minutely, due, at("2026-01-01T00:05:30Z"))).toEqual({
      fire: at("2026-01-01T00:05:00Z"),
      next: at("2026-01-01T00:06:00Z"),
      skipped: 4,
    });
  });
});

describe("the scheduler service (an injected store clock)", () => {
  const opened = (path: string, now: () => number, owner: string) => {
    const store = SqliteTaskStore.open({ path, now, owner });
    closers.push(() => store.close());
    return store;
  };
  const clockAt = (start: number) => {
    let t = start;
    return { now: () => t, set: (ms: number) => (t = ms) };
  };
  const pass = (service: ReturnType<typeof schedulerService>) => service.run(new AbortController().signal);

  it("three schedulers racing enqueue each occurrence exactly once, across a daylight-saving change", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "taskq-sched-")), "tasks.db");
    const c = clockAt(at("2026-03-27T12:00:00Z"));
    const stores = ["a", "b", "c"].map((n) => opened(path, c.now, `node-${n}:1:x`));
    const client = await connect({ store: path });
    closers.push(() => client.close());
    // the client reads the store's clock from its own store object: put it through one of ours
    const first = stores[0] as SqliteTaskStore;
    await first.putSchedule({
      name: "nightly",
      cron: "30 2 * * *",
      timezone: "Europe/Berlin",
      kind: "report",
      payload: { what: "sales" },
      options: { priority: 2 },
      nextRunAt: parseCron("30 2 * * *", "Europe/Berlin").next(c.now()) as number,
    });
    const services = stores.map((s) => schedulerService(s));
    const fired: number[] = [];
    for (const day of ["2026-03-28", "2026-03-29", "2026-03-30"]) {
      c.set(at(`${day}T06:00:00Z`));
      fired.push((await Promise.all(services.map(pass))).reduce((a, b) => a + b, 0));
      // a second round on the same day finds nothing due
      expect((await Promise.all(services.map(pass))).reduce((a, b) => a + b, 0)).toBe(0);
    }
    expect(fired).toEqual([1, 1, 1]);
    const tasks = await everyTask(first);
    expect(tasks.map((t) => t.idempotencyKey)).toEqual([
      occurrenceKey("nightly", at("2026-03-28T01:30:00Z")),
      occurrenceKey("nightly", at("2026-03-29T01:30:00Z")),
      occurrenceKey("nightly", at("2026-03-30T00:30:00Z")),
    ]);
    expect(tasks.every((t) => t.kind === "report" && t.priority === 2)).toBe(true);
    expect(
      (await client.schedules()).map((s) => [
        s.name,
        iso(s.nextRunAt.getTime()),
        iso(s.lastRunAt?.getTime() ?? null),
      ]),
    ).toEqual([["nightly", "2026-03-31T00:30:00.000Z", "2026-03-30T00:30:00.000Z"]]);
  });

  it("after a time with no scheduler running, enqueues the latest missed occurrence once", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "taskq-sched-")), "tasks.db");
    const c = clockAt(at("2026-01-01T00:00:30Z"));
    const store = opened(path, c.now, "node-a:1:x");
    await store.putSchedule({
      name: "minutely",
      cron: "* * * * *",
      timezone: null,
      kind: "tick",
      payload: {},
      options: {},
      nextRunAt: at("2026-01-01T00:01:00Z"),
    });
    c.set(at("2026-01-01T00:10:15Z")); // nine occurrences passed while nothing ran
    expect(await pass(schedulerService(store))).toBe(1);
    expect((await everyTask(store)).map((t) => [t.idempotencyKey, iso(t.nextRunAt)])).toEqual([
      [occurrenceKey("minutely", at("2026-01-01T00:10:00Z")), "2026-01-01T00:10:00.000Z"],
    ]);
    expect((await store.getSchedule("minutely"))?.nextRunAt).toBe(at("2026-01-01T00:11:00Z"));
  });
});

/** This file's own database on the test run's PostgreSQL server. */
let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_time");
});

describe.each([
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-time-")), "tasks.db")],
  ["PostgreSQL", () => pgStore],
] as [string, () => string][])("time through connect and createWorker on %s", (_name, storeOf) => {
  const kindOf = (name: string) => `${name}_${randomUUID().slice(0, 8)}`;
  async function producer(store: string): Promise<Client> {
    const client = await connect({ store });
    closers.push(() => client.close());
    return client;
  }

  it("a delayed task shows as scheduled with its time, and a worker takes it when due without polling", async () => {
    const store = storeOf();
    const kind = kindOf("later");
    const client = await producer(store);
    // scheduled is judged when read: an hour's delay stays scheduled however slow the machine
    // (a short one may fall due before the read on a loaded one)
    const later = await client.enqueue(kind, { n: 0 }, { delayMs: 3_600_000, priority: 3 });
    const info = await client.get(later.id);
    expect(info).toMatchObject({ status: "queued", scheduled: true, priority: 3 });
    expect(info!.runAt.getTime()).toBeGreaterThan(info!.createdAt.getTime());
    const enqueued = await client.enqueue(kind, { n: 1 }, { delayMs: 300, priority: 3 });
    // a poll interval longer than the test's timeout: only the due time wakes the worker
    const w = await createWorker({
      store,
      handlers: { [kind]: fixture("whoami") },
      threads: 0,
      pollMs: 600_000,
    });
    closers.push(() => w.close());
    expect(await client.result(enqueued.id)).toMatchObject({ kind, payload: { n: 1 } });
    const done = await client.get(enqueued.id);
    expect(done!.startedAt!.getTime()).toBeGreaterThanOrEqual(done!.runAt.getTime());
  });

  it("runs larger priority first among ready tasks (one slot)", async () => {
    const store = storeOf();
    const kind = kindOf("prio");
    const client = await producer(store);
    const ids: string[] = [];
    for (const p of [0, 5, -2, 9]) ids.push((await client.enqueue(kind, { p }, { priority: p })).id);
    const seen: number[] = [];
    const w = await createWorker({
      store,
      handlers: { [kind]: fixture("whoami") },
      threads: 0,
      concurrency: 1,
      pollMs: 20,
      hooks: {
        started: (e) => seen.push(ids.indexOf(e.id)),
      },
    });
    closers.push(() => w.close());
    for (const id of ids) await client.result(id);
    // enqueued as priorities 0, 5, -2, 9: run 9, 5, 0, -2
    expect(seen).toEqual([3, 1, 0, 2]);
  });

  it("refuses bad timing and bad schedules in one line naming the option", async () => {
    const client = await producer(storeOf());
    const kind = kindOf("bad");
    await expect(client.enqueue(kind, {}, { delayMs: -1 })).rejects.toThrow(
      "delayMs must be an integer >= 0, got -1",
    );
    await expect(client.enqueue(kind, {}, { runAt: new Date("nope") })).rejects.toThrow(
      "runAt must be a Date or epoch ms, got an invalid Date",
    );
    await expect(client.enqueue(kind, {}, { runAt: 1, delayMs: 1 })).rejects.toThrow(
      "give runAt or delayMs, not both",
    );
    await expect(client.enqueue(kind, {}, { priority: 0.5 })).rejects.toThrow("priority must be an integer");
    await expect(client.schedule("s1", { cron: "99 * * * *", kind })).rejects.toThrow(
      /^cron "99 \* \* \* \*"/,
    );
    await expect(
      client.schedule("s1", { cron: "* * * * *", kind, timezone: "Nowhere/City" }),
    ).rejects.toThrow('timezone "Nowhere/City" is not a time zone');
    await expect(client.schedule("has space", { cron: "* * * * *", kind })).rejects.toThrow(
      "schedule name must be a short plain identifier",
    );
    await expect(client.schedule("s1", { cron: "* * * * *", kind, cadence: 1 } as never)).rejects.toThrow(
      "unknown",
    );
    await expect(client.pauseSchedule(`absent_${randomUUID().slice(0, 8)}`)).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
  });

  it("a schedule every second enqueues its occurrences, which a worker runs; pause stops it", async () => {
    const store = storeOf();
    const kind = kindOf("tick");
    const name = kindOf("ticker");
    const client = await producer(store);
    const info = await client.schedule(name, { cron: "* * * * * *", kind, payload: { tick: true } });
    expect(info).toMatchObject({ name, kind, paused: false, lastRunAt: null, timezone: null });
    const ran: TaskEvent[] = [];
    let twoRan: () => void = () => undefined;
    const two = new Promise<void>((resolve) => (twoRan = resolve));
    const w = await createWorker({
      store,
      handlers: { [kind]: fixture("whoami") },
      threads: 0,
      pollMs: 50,
      hooks: {
        succeeded: (e) => {
          ran.push(e);
          if (ran.length === 2) twoRan();
        },
      },
    });
    closers.push(() => w.close());
    await two;
    const paused = await client.pauseSchedule(name);
    expect(paused.paused).toBe(true);
    expect((await client.schedules()).find((s) => s.name === name)?.lastRunAt).toBeInstanceOf(Date);
    const keys = await Promise.all(ran.map(async (e) => (await client.get(e.id))?.key));
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(new RegExp(`^schedule:${name}@\\d{4}-`));
    const resumed = await client.resumeSchedule(name);
    expect(resumed.paused).toBe(false);
    expect(await client.unschedule(name)).toBe(true);
    expect(await client.unschedule(name)).toBe(false);
  });
});
