// The producer (`connect`) and workers (`createWorker`) on one store, on SQLite and on a real
// PostgreSQL: kinds routed to the workers that have their handlers, results and cancels by id,
// duplicates by kind, hooks. Waits are on events (a hook, a result), never on the clock.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteTaskStore } from "@taskq/idempotency";
import pg from "pg";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { clientOf } from "../src/client.js";
import {
  type Client,
  ConfigError,
  connect,
  createWorker,
  type PgQueryable,
  TaskCancelledError,
  type TaskEvent,
  TaskFailedError,
  TaskNotFoundError,
  TaskStateError,
  type Worker,
} from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function producer(store: string): Promise<Client> {
  const client = await connect({ store });
  closers.push(() => client.close());
  return client;
}

async function worker(options: Parameters<typeof createWorker>[0]): Promise<Worker> {
  const w = await createWorker({ threads: 0, pollMs: 20, backoffBaseMs: 0, backoffMaxMs: 0, ...options });
  closers.push(() => w.close());
  return w;
}

/** A latch: resolves when `count` events have been seen. */
function latch<T>(count = 1) {
  const seen: T[] = [];
  let release: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    seen,
    done,
    push(value: T) {
      seen.push(value);
      if (seen.length === count) release();
    },
  };
}

/** This file's own database on the test run's PostgreSQL server. */
let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_client");
});

const stores: [string, () => string][] = [
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-client-")), "tasks.db")],
  ["PostgreSQL", () => pgStore],
];

describe.each(stores)("producer and workers on %s", (_name, storeOf) => {
  // kinds unique to each test: the PostgreSQL store is shared by the whole run
  const kindOf = (name: string) => `${name}_${randomUUID().slice(0, 8)}`;

  it("enqueue answers with an id at once; workers take only their kinds; results come back by id", async () => {
    const store = storeOf();
    const [a, b, c] = [kindOf("a"), kindOf("b"), kindOf("c")];
    const client = await producer(store);
    const w1 = await worker({
      store,
      handlers: { [a]: fixture("whoami"), [b]: fixture("whoami") },
      handlerOptions: { worker: 1 },
    });
    const w2 = await worker({ store, handlers: { [c]: fixture("whoami") }, handlerOptions: { worker: 2 } });
    expect([...w1.kinds].sort()).toEqual([a, b].sort());
    expect(w2.kinds).toEqual([c]);
    const enqueued = await Promise.all([a, b, c, a, c].map((kind, n) => client.enqueue(kind, { n })));
    for (const e of enqueued) expect(e).toMatchObject({ status: "queued", duplicate: false });
    const results = await Promise.all(enqueued.map((e) => client.result(e.id)));
    expect(results).toEqual([
      { kind: a, worker: 1, payload: { n: 0 } },
      { kind: b, worker: 1, payload: { n: 1 } },
      { kind: c, worker: 2, payload: { n: 2 } },
      { kind: a, worker: 1, payload: { n: 3 } },
      { kind: c, worker: 2, payload: { n: 4 } },
    ]);
    const info = await client.get(enqueued[2]?.id as string);
    expect(info).toMatchObject({
      kind: c,
      status: "succeeded",
      attempts: 1,
      result: results[2],
      error: null,
    });
    expect(info?.finishedAt).toBeInstanceOf(Date);
  });

  it("the key is scoped by kind; a duplicate answers with the existing task's id, which get finds", async () => {
    const store = storeOf();
    const [a, b] = [kindOf("a"), kindOf("b")];
    const client = await producer(store);
    const first = await client.enqueue(a, { n: 10 });
    const again = await client.enqueue(a, { n: 10 }, { id: "another-id" });
    const otherKind = await client.enqueue(b, { n: 10 });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(otherKind).toMatchObject({ kind: b, duplicate: false, key: first.key });
    expect(otherKind.id).not.toBe(first.id);
    expect(await client.get(again.id)).toMatchObject({ kind: a, status: "queued" });
    // no worker for these kinds: they wait, queued, and that is not an error
    const many = await client.enqueueMany(b, [{ n: 1 }, { n: 2 }, { n: 10 }]);
    expect(many.map((e) => e.duplicate)).toEqual([false, false, true]);
  });

  it("enqueueMany takes each task's own key, id and attempts (perTask); a duplicate in the call answers with the first's id", async () => {
    const client = await producer(storeOf());
    const kind = kindOf("each");
    const many = await client.enqueueMany(kind, [{ n: 1 }, { n: 2 }, { n: 3 }], {
      maxAttempts: 2,
      perTask: [{ key: "k1", id: "own-1" }, undefined, { key: "k1", id: "own-3", maxAttempts: 5 }],
    });
    expect(many.map((e) => [e.id, e.key, e.duplicate])).toEqual([
      ["own-1", "k1", false],
      [expect.stringMatching(/^task-/), expect.stringMatching(/^sha256:/), false],
      ["own-1", "k1", true],
    ]);
    expect(await client.get("own-1")).toMatchObject({ payload: { n: 1 }, maxAttempts: 2 });
    expect((await client.get(many[1]?.id as string))?.maxAttempts).toBe(2);
    // a task's own attempts win over the call's
    const [own] = await client.enqueueMany(kind, [{ n: 4 }], {
      maxAttempts: 2,
      perTask: [{ maxAttempts: 5 }],
    });
    expect((await client.get(own?.id as string))?.maxAttempts).toBe(5);
    await expect(client.enqueueMany(kind, [{ n: 5 }], { perTask: [] })).rejects.toThrow(
      "perTask must be an array of one entry per payload (1), got 0 entries",
    );
    await expect(client.enqueueMany(kind, [{ n: 5 }], { perTask: [{ ky: "k" }] } as never)).rejects.toThrow(
      'unknown option "enqueueMany options.perTask[0].ky": did you mean "enqueueMany options.perTask[0].key"?',
    );
    // one key (or id) for every task of a call is refused, not applied to each
    await expect(client.enqueueMany(kind, [{ n: 5 }], { key: "k" } as never)).rejects.toThrow(
      /^unknown option "enqueueMany options\.key"/,
    );
  });

  it("cancel: a queued task never runs; a running one has ctx.signal aborted and ends cancelled; a finished one is refused", async () => {
    const store = storeOf();
    const [slow, idle] = [kindOf("slow"), kindOf("idle")];
    const client = await producer(store);
    // queued, with no worker for its kind: cancelled at once, never taken
    const queued = await client.enqueue(idle, { n: 1 });
    expect(await client.cancel(queued.id)).toMatchObject({ status: "cancelled", cancelRequested: false });
    await expect(client.result(queued.id)).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(client.cancel(queued.id)).rejects.toThrow(/cannot be cancelled: it already was cancelled/);

    const started = latch<TaskEvent>();
    const cancelled = latch<TaskEvent>();
    await worker({
      store,
      handlers: { [slow]: fixture("until-cancelled") },
      hooks: { started: (e) => started.push(e), cancelled: (e) => cancelled.push(e) },
    });
    const running = await client.enqueue(slow, { n: 2 });
    await started.done;
    // answered as the cancel left it: still running, with its cancel requested
    expect(await client.cancel(running.id)).toMatchObject({ status: "running", cancelRequested: true });
    await cancelled.done;
    await expect(client.result(running.id)).rejects.toBeInstanceOf(TaskCancelledError);
    expect(await client.get(running.id)).toMatchObject({ status: "cancelled", attempts: 1 });
    expect(cancelled.seen[0]).toMatchObject({ id: running.id, kind: slow });

    await expect(client.cancel("no-such-task")).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it("a task that fails for good rejects result with TaskFailedError; cancelling it is a TaskStateError", async () => {
    const store = storeOf();
    const flaky = kindOf("flaky");
    const client = await producer(store);
    await worker({ store, handlers: { [flaky]: fixture("flaky") }, attempts: 1 });
    const task = await client.enqueue(flaky, { permanent: true });
    await expect(client.result(task.id)).rejects.toBeInstanceOf(TaskFailedError);
    await expect(client.cancel(task.id)).rejects.toBeInstanceOf(TaskStateError);
    expect(await client.get(task.id)).toMatchObject({ status: "failed", error: { errorClass: "permanent" } });
  });

  it("tags: enqueue, enqueueMany and perTask store them, get returns them, the store lists by them; tagged tasks run as any", async () => {
    const store = storeOf();
    const client = await producer(store);
    const kind = kindOf("tagged");
    const tenant = `tenant:${kind}`;
    const first = await client.enqueue(kind, { value: 1 }, { tags: [tenant, "import"], priority: 5 });
    const many = await client.enqueueMany(kind, [{ value: 2 }, { value: 3 }, { value: 4 }], {
      tags: [tenant],
      perTask: [undefined, { tags: ["other"] }, undefined],
    });
    const later = await client.enqueue(kind, { value: 5 }, { tags: [tenant], delayMs: 3_600_000 });
    expect((await client.get(first.id))?.tags).toEqual([tenant, "import"]);
    expect((await client.get(many[1]?.id as string))?.tags).toEqual(["other"]);
    expect((await client.get(later.id))?.scheduled).toBe(true);
    const ids = async (query: Parameters<Client["store"]["listTasks"]>[0]) =>
      (await client.store.listTasks(query)).map((t) => t.id);
    expect(await ids({ tag: tenant, limit: 10 })).toEqual([later.id, many[2]?.id, many[0]?.id, first.id]);
    expect(await ids({ tag: "import", limit: 10 })).toEqual([first.id]);
    // a worker runs them as any task; the filter then tells them by status
    await worker({ store, handlers: { [kind]: fixture("echo") } });
    for (const e of [first, ...many]) await client.result(e.id as string);
    expect(await ids({ tag: tenant, status: "succeeded", limit: 10 })).toEqual([
      many[2]?.id,
      many[0]?.id,
      first.id,
    ]);
    expect(await ids({ tag: tenant, status: "queued", limit: 10 })).toEqual([later.id]);
    await expect(client.enqueue(kind, { value: 6 }, { tags: "import" } as never)).rejects.toThrow(
      /^tags must be an array of strings, got "import"$/,
    );
    await expect(client.enqueue(kind, { value: 6 }, { tags: ["a\u0000b"] })).rejects.toThrow(
      /^tags\[0\] "a\\u0000b" has a control character$/,
    );
  });

  it("groups: enqueue, enqueueMany and perTask store them, get returns them, the store lists by them; a grouped kind runs them all", async () => {
    const store = storeOf();
    const client = await producer(store);
    const kind = kindOf("grouped");
    await client.setLimits(kind, { perGroup: { concurrency: 1 } });
    expect((await client.limits()).find((l) => l.kind === kind)).toMatchObject({
      perGroup: { concurrency: 1 },
    });
    const first = await client.enqueue(kind, { value: 1 }, { group: "tenant-42" });
    const many = await client.enqueueMany(kind, [{ value: 2 }, { value: 3 }, { value: 4 }], {
      group: "tenant-7",
      perTask: [undefined, { group: "tenant-42" }, undefined],
    });
    const none = await client.enqueue(kind, { value: 5 });
    expect((await client.get(first.id))?.group).toBe("tenant-42");
    expect((await client.get(many[1]?.id as string))?.group).toBe("tenant-42");
    expect((await client.get(many[2]?.id as string))?.group).toBe("tenant-7");
    expect((await client.get(none.id))?.group).toBeNull();
    expect((await client.store.listTasks({ group: "tenant-42", limit: 10 })).map((t) => t.id)).toEqual([
      many[1]?.id,
      first.id,
    ]);
    await worker({ store, handlers: { [kind]: fixture("echo") } });
    for (const e of [first, ...many, none]) await client.result(e.id as string);
    for (const [options, message] of [
      [{ group: "" }, /^group must be a string of 1 to 100 characters, got ""$/],
      [{ group: 42 }, /^group must be a string of 1 to 100 characters, got 42$/],
    ] as const)
      await expect(client.enqueue(kind, { value: 6 }, options as never)).rejects.toThrow(message);
    await expect(
      client.enqueueMany(kind, [{ value: 7 }], { perTask: [{ group: "a\u0001" }] }),
    ).rejects.toThrow(/^perTask\[0\]\.group "a\\u0001" must not contain control characters$/);
  });

  it("bad input: a kind that is not a short plain identifier, an unknown option, a worker with no handlers", async () => {
    const store = storeOf();
    const client = await producer(store);
    await expect(client.enqueue("no spaces please", {})).rejects.toThrow(
      'kind must be a short plain identifier (letters, digits, _ . -; up to 64, not starting with a digit), got "no spaces please"',
    );
    await expect(client.enqueue("ok", {}, { ky: "k" } as never)).rejects.toThrow(
      'unknown option "enqueue options.ky": did you mean "enqueue options.key"?',
    );
    await expect(createWorker({ store, handlers: {} })).rejects.toThrow("handlers needs at least one kind");
    await expect(createWorker({ store, handlers: { "bad kind": fixture("echo") } })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(createWorker({ store, handlers: { a: fixture("echo") }, prefetch: -1 })).rejects.toThrow(
      /^prefetch must be "auto" or an integer from 0 to 1000000, got -1$/,
    );
    await expect(connect({ stor: store } as never)).rejects.toThrow(
      'unknown option "stor": did you mean "store"?',
    );
    expect(await client.get("no-such-task")).toBeUndefined();
    const queued = await client.enqueue("idle_kind", { n: 1 });
    await expect(client.result(queued.id, { timeoutMs: -1 })).rejects.toThrow(
      "timeoutMs must be a number >= 0, got -1",
    );
    await expect(client.result(queued.id, { timeout: 5 } as never)).rejects.toThrow(
      'unknown option "result options.timeout": did you mean "result options.timeoutMs"?',
    );
  });
});

describe("the producer's view of a task, by the store's clock", () => {
  it("get decides whether a task is scheduled by the store's clock, not this process's", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "taskq-client-clock-")), "tasks.db");
    let t = Date.parse("2020-01-01T00:00:00Z"); // the store's clock, years behind this process's
    const store = SqliteTaskStore.open({ path, now: () => t });
    closers.push(() => store.close());
    const client = clientOf(store, { owned: false });
    const { id } = await client.enqueue("later", {}, { delayMs: 60_000 });
    expect(await client.get(id)).toMatchObject({ status: "queued", scheduled: true });
    expect((await client.get(id))?.runAt).toEqual(new Date(t + 60_000));
    t += 60_000;
    expect(await client.get(id)).toMatchObject({ status: "queued", scheduled: false });
  });
});

describe("transactional enqueue on PostgreSQL", () => {
  it("a task enqueued in a transaction exists only if the transaction commits", async () => {
    const url = pgStore;
    const kind = `tx_${randomUUID().slice(0, 8)}`;
    const client = await producer(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    closers.push(() => db.end());

    // not a client: refused in one line naming tx, nothing stored
    await expect(client.enqueue(kind, { n: 0 }, { tx: {} as pg.Client })).rejects.toThrow(
      /^tx must be the pg client your transaction runs on .*, got an object without query\(\)$/,
    );
    await db.query("BEGIN");
    const rolledBack = await client.enqueue(kind, { n: 1 }, { tx: db });
    await db.query("ROLLBACK");
    expect(await client.get(rolledBack.id)).toBeUndefined();

    await db.query("BEGIN");
    const committed = await client.enqueue(kind, { n: 2 }, { tx: db });
    expect(await client.get(committed.id)).toBeUndefined(); // not visible before the commit
    await db.query("COMMIT");
    await worker({ store: url, handlers: { [kind]: fixture("whoami") } });
    expect(await client.result(committed.id)).toEqual({ kind, worker: null, payload: { n: 2 } });
  });

  it("tx takes any object whose query(text, values) answers { rows } (an ORM's adapter); a pg.Pool, or an answer without rows, is refused in one line naming tx", async () => {
    const url = pgStore;
    const kind = `tx_${randomUUID().slice(0, 8)}`;
    const client = await producer(url);
    const pool = new pg.Pool({ connectionString: url });
    closers.push(() => pool.end());
    const db = await pool.connect();
    closers.push(async () => db.release());

    // a pool would run the enqueue on any free connection, outside the caller's BEGIN
    await expect(client.enqueue(kind, { n: 0 }, { tx: pool })).rejects.toThrow(
      /^tx must be the pg client your transaction runs on, got a pg\.Pool \(.*\): pass the client you checked out, `const db = await pool\.connect\(\)`$/,
    );
    await db.query("BEGIN");
    // an adapter that answers the rows alone: refused, the transaction still usable
    const rowsOnly = {
      query: async (text: string, values?: unknown[]) => (await db.query(text, values)).rows,
    };
    await expect(
      client.enqueue(kind, { n: 1 }, { tx: rowsOnly as unknown as PgQueryable }),
    ).rejects.toMatchObject({
      name: "ConfigError",
      option: "tx",
      message:
        "tx.query(text, values) must answer { rows } as pg's does (an adapter returns the driver's result, not its rows), got an array",
    });
    // an adapter of the right shape: a task inside the transaction, rolled back with it
    const adapter: PgQueryable = { query: (text, values) => db.query(text, values) };
    const rolledBack = await client.enqueue(kind, { n: 2 }, { tx: adapter });
    await db.query("ROLLBACK");
    expect(await client.get(rolledBack.id)).toBeUndefined();

    await db.query("BEGIN");
    const [committed, duplicate] = await client.enqueueMany(kind, [{ n: 3 }, { n: 3 }], { tx: adapter });
    await db.query("COMMIT");
    expect(duplicate).toMatchObject({ id: committed?.id, duplicate: true });
    expect(await client.get(committed?.id ?? "")).toMatchObject({
      kind,
      status: "queued",
      payload: { n: 3 },
    });
  });

  it("tx on a SQLite store is refused in one line", async () => {
    const client = await producer(join(mkdtempSync(join(tmpdir(), "taskq-client-")), "tasks.db"));
    await expect(client.enqueue("a", {}, { tx: { query: async () => ({ rows: [] }) } })).rejects.toThrow(
      "tx (enqueue inside your transaction) needs a PostgreSQL store",
    );
  });
});
