// What only the PostgreSQL driver has to show: one clock for every node (the database's), no
// renewal of a lease its node never heard of, migrations with a recorded version, clear errors
// without the password, calls that survive a server restart, and a grouped take that passes over
// a head another transaction holds (row locks are PostgreSQL's alone).
import pg from "pg";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { pgCtl } from "../../../scripts/postgres-server.mjs";
import { SCHEMA_VERSION } from "../src/index.js";
import { TAKE_RESCAN_EVERY } from "../src/postgres/pg-task-store.js";
import { PgTaskStore, type PgTaskStoreOptions, redactUrl } from "../src/postgres.js";
import { task, totals } from "./driver-suite.js";

const url = inject("pgUrl");
let schemas = 0;
const open: PgTaskStore[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of open.splice(0)) await s.close();
});

async function store(options: Partial<PgTaskStoreOptions> = {}) {
  const s = await PgTaskStore.open({ url, schema: `pgonly_${process.pid}_${++schemas}`, ...options });
  open.push(s);
  return s;
}

describe("PgTaskStore", () => {
  describe("claimWith: enqueue inside the application's own transaction", () => {
    async function appClient(): Promise<pg.Client> {
      const client = new pg.Client({ connectionString: url }); // no search_path of ours
      await client.connect();
      return client;
    }

    it("rolled back: no task, no wake-up; committed: the task is there and a waiting worker wakes", async () => {
      const s = await store();
      const worker = await store({ schema: s.schema });
      await worker.waitForWork(0); // listening from here on
      let woken = false;
      const waiting = worker.waitForWork(600_000).then(() => {
        woken = true;
      });
      const app = await appClient();
      try {
        await app.query("BEGIN");
        await app.query("CREATE TEMP TABLE orders (id int) ON COMMIT DROP");
        const [rolled] = await s.claimWith(app, [task(1, { kind: "email" })]);
        expect(rolled).toMatchObject({ created: true, status: "queued", version: 0, attempts: 0 });
        await app.query("ROLLBACK");
        expect(await s.get((rolled as { seq: number }).seq)).toBeUndefined();
        expect((await totals(s)).total).toBe(0);
        // a notification sent after the rollback arrives after any the rollback could have sent
        const changed = worker.waitForChange(600_000);
        await app.query(`NOTIFY "taskq_done_${s.schema}"`);
        await changed;
        await new Promise((resolve) => setImmediate(resolve));
        expect(woken).toBe(false);

        await app.query("BEGIN");
        const claimed = await s.claimWith(app, [
          task(1, { kind: "email" }),
          task(2, { kind: "email" }),
          task(1, { kind: "email", id: "twice" }),
        ]);
        expect(claimed.map((r) => r.created)).toEqual([true, true, false]);
        const first = claimed[0] as { seq: number };
        expect(claimed[2]).toMatchObject({ created: false, record: { seq: first.seq, id: "t-1" } });
        expect(await s.get(first.seq)).toBeUndefined(); // not committed yet
        await app.query("COMMIT");
        await waiting;
        expect(woken).toBe(true);
        expect(await s.get(first.seq)).toMatchObject({ kind: "email", status: "queued" });
        expect((await worker.takeNext(5, ["email"])).map((r) => r.id)).toEqual(["t-1", "t-2"]);
        // a duplicate of a stored task, through the application's transaction
        await app.query("BEGIN");
        const [dup] = await s.claimWith(app, [task(2, { kind: "email" })]);
        await app.query("COMMIT");
        expect(dup).toMatchObject({ created: false, record: { id: "t-2", status: "running" } });
        await expect(s.claimWith(app, [task(3, { start: true })])).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
        });
        await expect(s.claimWith(app, [task(3, { kind: "no such" })])).rejects.toMatchObject({
          code: "ERR_INVALID_INPUT",
        });
      } finally {
        await app.end();
      }
    });
  });

  it("stores an enqueueMany's payloads, keys and ids as given, through array literals or pg's own encoding", async () => {
    const s = await store();
    const odd = ['quote " and \\ backslash', "comma, {brace}", "NULL", "", "é ✓ 🙂", "line\nbreak", "tab\tx"];
    const inputs = odd.map((text, n) =>
      task(n, { id: `id ${text}`, idempotencyKey: `key ${text}`, payload: { text } }),
    );
    // one batch of plain strings (array literals) and one with control characters (pg encodes it)
    const plain = inputs.slice(0, 5);
    const control = inputs.slice(5);
    const answers = [...(await s.enqueueMany(plain)), ...(await s.enqueueMany(control))];
    expect(answers.every((a) => a.created)).toBe(true);
    for (const [n, input] of inputs.entries()) {
      const stored = await s.get((answers[n] as { seq: number }).seq);
      expect(stored).toMatchObject({
        id: input.id,
        idempotencyKey: input.idempotencyKey,
        payload: input.payload,
      });
    }
    // a duplicate among new calls: answered from the stored record, the others created in order
    const again = await s.enqueueMany([task(100), inputs[2] as (typeof inputs)[number], task(101)]);
    expect(again.map((a) => a.created)).toEqual([true, false, true]);
    expect((again[0] as { seq: number }).seq).toBeLessThan((again[2] as { seq: number }).seq);
  });

  it("judges leases by the database's clock: a node whose clock runs an hour ahead steals nothing", async () => {
    const a = await store({ leaseMs: 60_000, owner: "node-a:1:a" });
    await a.enqueueMany([task(1)]);
    const [taken] = await a.takeNext(1);
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 3_600_000);
    const b = await store({ schema: a.schema, leaseMs: 60_000, owner: "node-b:2:b" });
    expect(await b.recover()).toBe(0);
    expect(await b.takeNext(1)).toEqual([]);
    expect((await b.get(taken!.seq))?.leaseOwner).toBe("node-a:1:a");
  });

  it("reads on from where its last take ended; a task ranked before that goes first at the next take from the start", async () => {
    const s = await store();
    await s.enqueueMany(Array.from({ length: 300 }, (_, i) => task(i + 1)));
    const inOrder = (seqs: number[], from: number) =>
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => from + i));
    // a full take from the start: the next one may read on after its last task
    const first = (await s.takeNext(10)).map((r) => r.seq);
    inOrder(first, first[0] as number);
    const [claimed] = await s.enqueueMany([task(1000, { priority: 5 })]); // ranked five hours before the others
    const high = claimed?.created ? claimed.seq : undefined;
    const takes: number[][] = [];
    for (let i = 0; i < TAKE_RESCAN_EVERY + 1; i++) takes.push((await s.takeNext(10)).map((r) => r.seq));
    // taken no later than the take from the start, the TAKE_RESCAN_EVERY-th after the last one
    // (index TAKE_RESCAN_EVERY - 1 here, or sooner on a slow machine), and first in it; the takes
    // before it read on in queue order, losing nothing
    const at = takes.findIndex((seqs) => seqs.includes(high as number));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThanOrEqual(TAKE_RESCAN_EVERY - 1);
    expect(takes[at]?.[0]).toBe(high);
    inOrder(
      takes.flat().filter((seq) => seq !== high),
      (first.at(-1) as number) + 1,
    );
  });

  it("a grouped take whose group's head is locked by another transaction takes the group's next due task instead", async () => {
    const s = await store();
    await s.setKindLimits("job", { perGroup: { concurrency: 1 } });
    const job = (n: number, group: string) => task(n, { kind: "job", idempotencyKey: `job-${n}`, group });
    const [head, second] = (await s.enqueueMany([job(1, "g"), job(2, "g"), job(3, "h")])).map((c) =>
      c.created ? c.seq : undefined,
    );
    // another transaction holds the head's ready row (as a take in flight would)
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query(`SELECT 1 FROM "${s.schema}".task_ready WHERE seq = $1 FOR UPDATE`, [head]);
      // a room of one: the walk's head, locked, is passed over for the group's own probe (SKIP LOCKED)
      const taken = await s.takeNext(2, ["job"]);
      expect(taken.map((t) => [t.seq, t.group]).sort()).toEqual(
        [
          [second, "g"],
          [(await s.getById("t-3"))[0]?.seq, "h"],
        ].sort(),
      );
      await other.query("ROLLBACK");
      // the head, free again, is the group's to take once its running task ends (cap 1)
      expect(await s.takeNext(2, ["job"])).toEqual([]);
      await s.succeed(second as number, taken.find((t) => t.seq === second)?.version as number, {});
      expect((await s.takeNext(2, ["job"])).map((t) => t.seq)).toEqual([head]);
    } finally {
      await other.end();
    }
  });

  it("a take that read on and came back short reads the rest from the start at once", async () => {
    const s = await store();
    await s.enqueueMany(Array.from({ length: 15 }, (_, i) => task(i + 1)));
    const first = await s.takeNext(10); // from the start, full: the next reads on after its last
    const [claimed] = await s.enqueueMany([task(1000, { priority: 5 })]); // ranked before that
    const high = claimed?.created ? claimed.seq : undefined;
    // the five left after the position, short of ten: the high one too, in this same call, first
    const next = await s.takeNext(10);
    expect(next.map((r) => r.seq)).toEqual([
      high,
      ...Array.from({ length: 5 }, (_, i) => (first.at(-1)?.seq as number) + 1 + i),
    ]);
  });

  it("renews only the leases it knows it holds: a task leased by a lost answer expires and is taken again", async () => {
    let t = 1_000_000;
    const now = () => t;
    const a = await store({ now, leaseMs: 1000, owner: "node-a:1:a" });
    // the same owner on another connection takes the task: `a` never heard of it, as when a
    // take's answer is lost with its connection
    const ghost = await store({ schema: a.schema, now, leaseMs: 1000, owner: "node-a:1:a" });
    await a.enqueueMany([task(1), task(2)]);
    const [known] = await a.takeNext(1);
    const [orphan] = await ghost.takeNext(1);
    t += 900;
    expect(await a.renewLeases()).toBe(1);
    t += 200;
    const [again] = await a.takeNext(5);
    expect(again).toMatchObject({ seq: orphan!.seq, attempts: 2, leaseOwner: "node-a:1:a" });
    expect((await a.get(known!.seq))?.status).toBe("running");
  });

  it("a take whose read of its tasks' parents fails hands them back: none stays leased and renewed", async () => {
    const s = await store({ leaseMs: 60_000 });
    const [a, b] = await s.enqueueFlow([task(1), { ...task(2), after: [{ parent: 0 }] }]);
    const [first] = await s.takeNext(1);
    await s.succeed(first!.seq, first!.version);
    const child = b?.created ? b.seq : -1;
    expect(a?.created).toBe(true);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`ALTER TABLE "${s.schema}".task_edges RENAME TO task_edges_away`);
      await expect(s.takeNext(1)).rejects.toThrow(/task_edges/);
      await admin.query(`ALTER TABLE "${s.schema}".task_edges_away RENAME TO task_edges`);
    } finally {
      await admin.end();
    }
    expect(await s.get(child)).toMatchObject({ status: "queued", leaseOwner: null });
    expect(await s.renewLeases()).toBe(0);
    const [again] = await s.takeNext(1);
    expect(again).toMatchObject({ seq: child, parents: [{ seq: first!.seq, status: "succeeded" }] });
  });

  it("tryRunMaintenance by the database's clock: one of many nodes racing wins, whatever their clocks", async () => {
    const a = await store({ owner: "node-a:1:a" });
    const nodes = [a];
    for (let n = 0; n < 5; n++) nodes.push(await store({ schema: a.schema, owner: `node-${n}:1:b` }));
    vi.spyOn(Date, "now").mockReturnValue(Date.now() + 3_600_000); // a skewed node clock changes nothing
    const won = await Promise.all(nodes.map((s) => s.tryRunMaintenance("retention", 60_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await Promise.all(nodes.map((s) => s.tryRunMaintenance("retention", 60_000)))).not.toContain(true);
  });

  it("records its schema version; refuses a store written by a newer taskq, untouched", async () => {
    const s = await store();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT max(version) AS v FROM "${s.schema}".migrations`);
      expect(rows[0].v).toBe(SCHEMA_VERSION);
      await client.query(`INSERT INTO "${s.schema}".migrations (version) VALUES (99)`);
    } finally {
      await client.end();
    }
    await expect(PgTaskStore.open({ url, schema: s.schema })).rejects.toMatchObject({
      code: "ERR_SCHEMA_TOO_NEW",
      message: expect.stringContaining(
        `has schema version 99, newer than this taskq understands (${SCHEMA_VERSION})`,
      ),
    });
  });

  it("a reader on a missing schema gets ERR_NOT_FOUND and creates nothing", async () => {
    const schema = `missing_${process.pid}`;
    await expect(PgTaskStore.open({ url, schema, create: false })).rejects.toMatchObject({
      code: "ERR_NOT_FOUND",
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query("SELECT to_regnamespace($1) AS s", [schema]);
    await client.end();
    expect(rows[0].s).toBeNull();
  });

  it.each([
    [
      "a wrong password",
      (u: URL) => {
        u.password = "wrong-secret";
      },
      /refused the credentials: password authentication failed/,
    ],
    [
      "a database that does not exist",
      (u: URL) => {
        u.pathname = "/nosuchdb";
      },
      /database "nosuchdb" does not exist/,
    ],
    [
      "a port nothing listens on",
      (u: URL) => {
        u.port = "1";
      },
      /cannot reach PostgreSQL at .*: connection refused/,
    ],
  ])("%s: one line naming the problem, without the password", async (_what, change, pattern) => {
    const bad = new URL(url);
    change(bad);
    const error = (await PgTaskStore.open({ url: bad.toString(), reconnectTimeoutMs: 0 }).catch(
      (e) => e,
    )) as Error;
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(bad.password);
    expect(error.message).not.toContain("\n");
  });

  it("names bad options and URLs", async () => {
    await expect(PgTaskStore.open({ url: "postgres://a:b@[x" })).rejects.toThrow(
      "not a valid PostgreSQL URL: postgres://a:***@[x",
    );
    await expect(PgTaskStore.open({ url: "mysql://a:b@h/d" })).rejects.toThrow("not a PostgreSQL URL");
    await expect(PgTaskStore.open({ url, schema: "Bad-Name" })).rejects.toThrow(
      "schema must be a lower-case SQL identifier",
    );
    await expect(PgTaskStore.open({ url, poolSize: 0 })).rejects.toThrow(
      "poolSize must be an integer from 1 to 1000, got 0",
    );
    expect(redactUrl("postgres://u:secret@h:5432/d")).toBe("postgres://u:***@h:5432/d");
  });

  it("wakes a waiting worker when a task is queued, not at its poll timeout", async () => {
    const a = await store();
    const b = await store({ schema: a.schema });
    // the first wait returns at once: its listener is new, and anything queued before it listened
    // must be looked for
    await b.waitForWork(60_000);
    expect(await b.takeNext(1)).toEqual([]);
    const woke = b.waitForWork(60_000);
    await a.enqueueMany([task(1)]);
    await woke; // a 60 s poll would time the test out
    expect((await b.takeNext(1)).map((r) => r.id)).toEqual(["t-1"]);
  });

  it("survives a server restart: calls made while it is down complete once it is back", async () => {
    const s = await store({ reconnectTimeoutMs: 30_000 });
    const claims = await Promise.all(Array.from({ length: 50 }, (_, n) => s.claim(task(n, { start: true }))));
    pgCtl(process.env.TASKQ_TEST_PG_DIR as string, ["stop", "-m", "fast"]);
    const done = Promise.all(
      claims.map((c) =>
        s.succeed((c as { seq: number }).seq, 0, { outputKey: `o-${(c as { seq: number }).seq}` }),
      ),
    );
    const more = s.claim(task(999));
    pgCtl(process.env.TASKQ_TEST_PG_DIR as string, ["start"]);
    expect(await done).toEqual(claims.map(() => 1));
    expect((await more).created).toBe(true);
    const counted = await totals(s);
    expect(counted).toMatchObject({ succeeded: 50, running: 0 });
    expect(counted.queued + counted.scheduled).toBe(1);
  });
});
