import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type ClaimInput,
  type DeadLetter,
  MAX_COUNT_CAP,
  MAX_PAGE,
  SqliteSyncStore,
  SqliteTaskStore,
  StaleTransitionError,
  StoreError,
  type StoreStats,
  storeStatsOf,
} from "../src/index.js";
import { deadPid, tempDb } from "./helpers.js";

const task = (n: number, extra: Partial<ClaimInput> = {}): ClaimInput => ({
  id: `t-${n}`,
  idempotencyKey: `img-${n}.ppm#thumb`,
  kind: "image",
  payload: { id: `t-${n}`, image_key: `img-${n}.ppm`, variant: "thumb" },
  ...extra,
});

/** The store's counts as StoreStats (storeStatsOf): statusCounts with the largest cap, so exact. */
function countsOf(store: SqliteSyncStore): StoreStats {
  return storeStatsOf(store.statusCounts(MAX_COUNT_CAP));
}

/**
 * Every open dead letter (with `includeRedriven`, the re-driven ones too), oldest first:
 * listDeadLetters pages of MAX_PAGE (500), newest first, by keyset.
 */
function lettersOf(store: SqliteSyncStore, options: { includeRedriven?: boolean } = {}): DeadLetter[] {
  const letters: DeadLetter[] = [];
  for (let page = store.listDeadLetters({ ...options, limit: MAX_PAGE }); page.length > 0; ) {
    letters.push(...page);
    page = store.listDeadLetters({
      ...options,
      limit: MAX_PAGE,
      beforeSeq: Math.min(...page.map((d) => d.seq)),
    });
  }
  return letters.sort((a, b) => a.seq - b.seq);
}

/**
 * Re-drives the tasks of this task id, or (undefined) the failed tasks of a listTasks page of
 * MAX_PAGE (500): redriveTasks skips the ones not failed.
 */
function redriveOf(store: SqliteSyncStore, taskId?: string): number {
  const tasks =
    taskId === undefined ? store.listTasks({ status: "failed", limit: MAX_PAGE }) : store.getById(taskId);
  return store.redriveTasks(tasks.map((r) => r.seq));
}

const open: SqliteSyncStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe.each([
  ["in memory", () => ":memory:"],
  ["on a file", tempDb],
])("SqliteSyncStore %s", (_name, path) => {
  function make(options: Partial<ConstructorParameters<typeof SqliteSyncStore>[0]> = {}) {
    const store = new SqliteSyncStore({ path: path(), ...options });
    open.push(store);
    return store;
  }

  it("claims a new key once; a second claim is a duplicate that shows the record", () => {
    const store = make();
    const first = store.claim(task(1));
    expect(first).toEqual({ created: true, seq: 1, version: 0, status: "queued", attempts: 0 });
    const second = store.claim(task(1, { id: "other-id" }));
    expect(second.created).toBe(false);
    if (!second.created)
      expect(second.record).toMatchObject({ id: "t-1", status: "queued", attempts: 0, maxAttempts: 3 });
  });

  it("claims with start straight into running, leased, one attempt counted; a duplicate is answered as usual", () => {
    const c = clock();
    const store = make({ now: c.now, leaseMs: 5000 });
    const claimed = store.claim(task(1, { start: true }));
    expect(claimed).toEqual({ created: true, seq: 1, version: 0, status: "running", attempts: 1 });
    expect(store.get(1)).toMatchObject({
      status: "running",
      attempts: 1,
      startedAt: 1_000_000,
      leaseOwner: store.owner,
      leaseExpiresAt: 1_005_000,
    });
    // it is running: start refuses it, succeed takes it
    expect(() => store.start(1, 0)).toThrow(StaleTransitionError);
    const dup = store.claim(task(1, { start: true }));
    expect(dup.created === false && dup.record).toMatchObject({ status: "running", attempts: 1 });
    expect(store.succeed(1, 0, { outputKey: "thumb/img-1.ppm" })).toBe(1);
    expect(countsOf(store)).toMatchObject({ running: 0, succeeded: 1, queued: 0 });
  });

  it("walks queued → running → succeeded; a duplicate then carries the cached output", () => {
    const c = clock();
    const store = make({ now: c.now });
    const { seq, version } = store.claim(task(1)) as { seq: number; version: number };
    c.advance(10);
    const started = store.start(seq, version);
    expect(started).toEqual({ seq, version: 1, attempts: 1 });
    expect(store.get(seq)).toMatchObject({
      status: "running",
      startedAt: 1_000_010,
      leaseOwner: store.owner,
    });
    c.advance(5);
    expect(store.succeed(seq, started.version, { outputKey: "thumb/img-1.ppm", etag: "abc" })).toBe(2);
    expect(store.get(seq)).toMatchObject({
      status: "succeeded",
      finishedAt: 1_000_015,
      leaseOwner: store.owner, // who ran it
      leaseExpiresAt: null,
      version: 2,
    });
    const dup = store.claim(task(1));
    expect(dup.created === false && dup.record).toMatchObject({
      status: "succeeded",
      outputKey: "thumb/img-1.ppm",
      etag: "abc",
    });
  });

  it("retry puts the task back with attempts counted and a next run time; failure dead-letters it", () => {
    const c = clock();
    const store = make({ now: c.now });
    const { seq, version } = store.claim(task(1)) as { seq: number; version: number };
    let v = store.start(seq, version).version;
    v = store.retry(seq, v, { errorClass: "transient", message: "slow down" }, 250);
    expect(store.get(seq)).toMatchObject({
      status: "queued",
      attempts: 1,
      nextRunAt: 1_000_250,
      errorClass: "transient",
    });
    const again = store.start(seq, v);
    expect(again.attempts).toBe(2);
    store.fail(seq, again.version, { errorClass: "permanent", message: "corrupt image" });
    expect(store.get(seq)).toMatchObject({ status: "failed", attempts: 2, errorMessage: "corrupt image" });
    expect(lettersOf(store)).toEqual([
      expect.objectContaining({
        taskSeq: seq,
        taskId: "t-1",
        errorClass: "permanent",
        errorMessage: "corrupt image",
        attempts: 2,
      }),
    ]);
    const dup = store.claim(task(1));
    expect(dup.created === false && dup.record.status).toBe("failed");
  });

  it("refuses stale transitions and applies nothing", () => {
    const store = make();
    const { seq, version } = store.claim(task(1)) as { seq: number; version: number };
    const started = store.start(seq, version);
    expect(() => store.start(seq, version)).toThrow(StaleTransitionError);
    expect(() => store.succeed(seq, version, {})).toThrow(
      /refused stale transition running → succeeded of task #1/,
    );
    store.succeed(seq, started.version, { outputKey: "a" });
    expect(() => store.fail(seq, started.version, { errorClass: "x", message: "late writer" })).toThrow(
      StaleTransitionError,
    );
    expect(() =>
      store.retry(seq, started.version + 1, { errorClass: "x", message: "wrong state" }, 0),
    ).toThrow(StaleTransitionError);
    expect(store.get(seq)).toMatchObject({
      status: "succeeded",
      outputKey: "a",
      version: 2,
      errorMessage: null,
    });
    expect(lettersOf(store)).toEqual([]);
  });

  it("takeNext hands out due tasks by next run time then creation, leased to this owner", () => {
    const c = clock();
    const store = make({ now: c.now });
    for (let n = 1; n <= 4; n++) store.claim(task(n));
    const [first] = store.takeNext(1);
    expect(first?.id).toBe("t-1");
    store.retry(first!.seq, first!.version, { errorClass: "transient", message: "x" }, 1000);
    expect(store.takeNext(10).map((r) => r.id)).toEqual(["t-2", "t-3", "t-4"]);
    expect(store.takeNext(10)).toEqual([]);
    c.advance(1000);
    const [retried] = store.takeNext(10);
    expect(retried).toMatchObject({ id: "t-1", status: "running", attempts: 2, leaseOwner: store.owner });
  });

  it("re-drives one or all dead letters, keeping their history", () => {
    const store = make();
    for (const n of [1, 2]) {
      const { seq, version } = store.claim(task(n)) as { seq: number; version: number };
      const s = store.start(seq, version);
      store.fail(seq, s.version, { errorClass: "permanent", message: `bad ${n}` });
    }
    expect(redriveOf(store, "t-1")).toBe(1);
    expect(store.getById("t-1")[0]).toMatchObject({ status: "queued", attempts: 0, errorClass: null });
    expect(lettersOf(store).map((d) => d.taskId)).toEqual(["t-2"]);
    expect(redriveOf(store)).toBe(1);
    expect(lettersOf(store)).toEqual([]);
    expect(lettersOf(store, { includeRedriven: true }).map((d) => [d.taskId, d.redrivenAt !== null])).toEqual(
      [
        ["t-1", true],
        ["t-2", true],
      ],
    );
  });

  it("keeps an invalid task as a dead letter with its reason", () => {
    const store = make();
    store.recordInvalid(
      "bad-1",
      { id: "bad-1", variant: "sepia" },
      { errorClass: "validation", message: 'field "variant"' },
    );
    expect(lettersOf(store)).toEqual([
      expect.objectContaining({
        taskSeq: null,
        taskId: "bad-1",
        payload: { id: "bad-1", variant: "sepia" },
        errorClass: "validation",
      }),
    ]);
    expect(redriveOf(store, "bad-1")).toBe(0);
  });

  it("reports counts by status, the oldest queued age and open dead letters", () => {
    const c = clock();
    const store = make({ now: c.now });
    store.claim(task(1));
    c.advance(100);
    const { seq, version } = store.claim(task(2)) as { seq: number; version: number };
    store.claim(task(3));
    const s = store.start(seq, version);
    c.advance(400);
    store.succeed(seq, s.version);
    expect(countsOf(store)).toEqual({
      queued: 2,
      running: 0,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
      scheduled: 0,
      total: 3,
      deadLetters: 0,
      oldestQueuedAgeMs: 500,
    });
    expect(store.succeededSince(1_000_400)).toBe(1);
    expect(store.succeededSince(1_000_501)).toBe(0);
  });

  it.each([
    [{ idempotencyKey: "k".repeat(1025) }, "idempotencyKey is longer than 1024 characters"],
    [{ idempotencyKey: 42 as unknown as string }, "idempotencyKey must be a string, got number"],
    [{ idempotencyKey: "" }, "idempotencyKey must not be empty"],
    [{ payload: { n: 1n } }, "payload is not JSON-serialisable"],
    [
      {
        payload: (() => {
          const a: Record<string, unknown> = {};
          a["self"] = a;
          return a;
        })(),
      },
      "payload is not JSON-serialisable",
    ],
    [{ payload: () => 1 }, "payload is not JSON-serialisable (undefined or a function)"],
    [{ maxAttempts: 0 }, "maxAttempts must be an integer from 1 to 100, got 0"],
  ])("bad input %# is refused with a clear error and writes nothing", (extra, message) => {
    const store = make();
    let error: unknown;
    try {
      store.claim(task(1, extra as Partial<ClaimInput>));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "ERR_INVALID_INPUT", retryable: false });
    expect((error as Error).message).toContain(message);
    expect(countsOf(store).total).toBe(0);
  });
});

describe("crash recovery and leases (file)", () => {
  it("a task left running by a dead process goes back to queued when a store opens", () => {
    const path = tempDb();
    const crashed = new SqliteSyncStore({ path, owner: `${hostname()}:${deadPid()}:x` });
    const { seq, version } = crashed.claim(task(1)) as { seq: number; version: number };
    crashed.start(seq, version);
    crashed.claim(task(2));
    crashed.claim(task(3, { start: true }));
    crashed.close(); // the process "died" without completing
    const next = new SqliteSyncStore({ path });
    open.push(next);
    expect(next.recoveredOnOpen).toBe(2);
    expect(next.get(seq)).toMatchObject({ status: "queued", attempts: 1, leaseOwner: null });
    expect(next.takeNext(5).map((r) => r.id)).toEqual(["t-1", "t-2", "t-3"]);
  });

  it("a live owner's running task is not stolen until its lease expires; heartbeats extend it", () => {
    const path = tempDb();
    const c = clock();
    const a = new SqliteSyncStore({ path, now: c.now, leaseMs: 1000, owner: "other-host:1:a" });
    const b = new SqliteSyncStore({ path, now: c.now, leaseMs: 1000, owner: "other-host:2:b" });
    open.push(a, b);
    a.claim(task(1));
    const [taken] = a.takeNext(1);
    expect(b.recover()).toBe(0);
    expect(b.takeNext(1)).toEqual([]);
    c.advance(900);
    expect(a.renewLeases()).toBe(1);
    c.advance(900);
    expect(b.takeNext(1)).toEqual([]);
    c.advance(200);
    const [stolen] = b.takeNext(1);
    expect(stolen).toMatchObject({ seq: taken?.seq, leaseOwner: "other-host:2:b", attempts: 2 });
    expect(() => a.succeed(taken!.seq, taken!.version, {})).toThrow(StaleTransitionError);
  });
});

describe("background checkpoints (file)", () => {
  it("a worker thread copies committed pages into the database file; close removes the WAL", async () => {
    const path = tempDb();
    const store = new SqliteSyncStore({ path, checkpoint: "background" });
    open.push(store);
    const before = statSync(path).size;
    store.transaction(() => {
      for (let n = 0; n < 2000; n++) store.claim(task(n));
    });
    // the writer checkpoints nothing itself (wal_autocheckpoint = 0): the file grows only when
    // the checkpointer thread has run
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before), { timeout: 10_000 });
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = new SqliteSyncStore({ path, recover: false });
    open.push(reopened);
    expect(countsOf(reopened)).toMatchObject({ queued: 2000 });
  });

  it("names a bad checkpoint option", () => {
    expect(() => new SqliteSyncStore({ path: ":memory:", checkpoint: "never" as "auto" })).toThrow(
      'checkpoint must be "auto" or "background", got never',
    );
  });
});

describe("SqliteTaskStore", () => {
  it("commits concurrent calls in few transactions and rejects a stale call alone", async () => {
    const store = new SqliteSyncStore({ path: tempDb() });
    open.push(store);
    const batched = new SqliteTaskStore(store);
    const claims = await Promise.all(Array.from({ length: 200 }, (_, n) => batched.claim(task(n))));
    expect(claims.every((c) => c.created)).toBe(true);
    expect(batched.batches).toBeLessThanOrEqual(2);
    const first = claims[0] as { seq: number; version: number };
    const results = await Promise.allSettled([
      batched.start(first.seq, first.version),
      batched.start(first.seq, first.version),
      batched.claim(task(999)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleTransitionError);
    expect(countsOf(store)).toMatchObject({ total: 201, running: 1 });
  });

  it("names a bad option", () => {
    const store = new SqliteSyncStore({ path: ":memory:" });
    open.push(store);
    expect(() => new SqliteTaskStore(store, { maxBatch: 0 })).toThrow(
      "maxBatch must be a positive integer, got 0",
    );
  });
});
