import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { redactUrl } from "@taskq/idempotency";
import { Hono } from "hono";
import pg from "pg";
import { type Client, connect, createWorker, TaskFailedError } from "taskq";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { ATTEMPT_LIMITS } from "../src/attempt-limit.js";
import { createDashboard, type Dashboard, type DashboardLogger, startDashboard } from "../src/index.js";
import { NOTICE_MS, NoticeSigner } from "../src/signed-notice.js";
import { state } from "./fixtures/work.mjs";
import { countOf, csrfOf, from, get, LOCAL, ORIGIN, post, type Reply, reply } from "./http.js";
import { type SelfSigned, selfSigned } from "./self-signed.js";

const work = new URL("./fixtures/work.mjs", import.meta.url).pathname;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  state.failing = true;
  for (const close of closers.splice(0).reverse()) await close();
});

let pgStore = "";
beforeAll(() => {
  pgStore = inject("pgUrl");
});

const sqliteStore = () => join(mkdtempSync(join(tmpdir(), "taskq-dashboard-")), "tasks.db");
let kindSeq = 0;
const kindOf = (name: string) => `${name}_${process.pid}_${++kindSeq}`;

interface Logged {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

async function open(store: string, options: { token?: string; pageSize?: number; now?: () => number } = {}) {
  const client = await connect({ store });
  closers.push(() => client.close());
  const logged: Logged[] = [];
  const logger: DashboardLogger = { info: (fields, message) => logged.push({ fields, message }) };
  const dashboard = createDashboard({ client, logger, ...options });
  closers.push(() => dashboard.close());
  return { client, dashboard, logged };
}

async function worker(store: string, kind: string) {
  const w = await createWorker({ store, handlers: { [kind]: work }, threads: 0, concurrency: 4, pollMs: 20 });
  closers.push(() => w.close());
  return w;
}

/** The seqs a task list page shows, in order. */
const seqsOf = (page: Reply) => [...page.text.matchAll(/<tr data-seq="(\d+)"/g)].map((m) => Number(m[1]));
const nextOf = (page: Reply) =>
  /<a class="next" href="([^"]+)"/.exec(page.text)?.[1]?.replaceAll("&amp;", "&");
const seqOfId = async (client: Client, id: string) => (await client.store.getById(id))[0]?.seq as number;
/** The headers every page of the dashboard carries (hono's secureHeaders), error pages too. */
const SECURITY_HEADERS = [
  "content-security-policy",
  "x-frame-options",
  "x-content-type-options",
  "referrer-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "origin-agent-cluster",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
];

/** better-sqlite3, the dashboard's dev dependency (no types of its own). */
const Database = createRequire(import.meta.url)("better-sqlite3") as new (
  path: string,
) => { prepare(sql: string): { run(...values: unknown[]): unknown }; close(): void };

/** A worker's row written straight into the `managers` table, whatever it holds; returns its removal. */
async function writeWorkerRow(store: string, owner: string, info: string, now: number) {
  const insert = "INSERT INTO managers (owner, started_at, heartbeat_at, info) VALUES ($1, $2, $2, $3)";
  if (store.startsWith("postgres")) {
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    await db.query(insert, [owner, now, info]);
    return async () => {
      await db.query("DELETE FROM managers WHERE owner = $1", [owner]);
      await db.end();
    };
  }
  const db = new Database(store);
  db.prepare("INSERT INTO managers (owner, started_at, heartbeat_at, info) VALUES (?, ?, ?, ?)").run(
    owner,
    now,
    now,
    info,
  );
  return () => {
    db.prepare("DELETE FROM managers WHERE owner = ?").run(owner);
    db.close();
  };
}

/** The link an action redirects to: its page, with the notice it signed (signed-notice.ts). */
const noticeAt = (path: string, done: string, n?: number) =>
  new RegExp(
    `^${path.replaceAll("?", "\\?")}\\?done=${done}${n === undefined ? "" : `&n=${n}`}&at=[0-9a-z]+&sig=[\\w-]+$`,
  );

describe.each([
  ["SQLite", sqliteStore],
  ["PostgreSQL", () => pgStore],
] as [string, () => string][])("the dashboard over %s", (_name, storeOf) => {
  it("shows counts by status and kind, and the store without its password", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const [a, b] = [kindOf("a"), kindOf("b")];
    await client.enqueueMany(a, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await client.enqueue(b, { later: true }, { delayMs: 3_600_000 });
    const page = await get(dashboard, "/");
    expect(page.status).toBe(200);
    const row = (kind: string) =>
      new RegExp(
        `<a href="/tasks\\?kind=${kind}">${kind}</a>(?: <span class="badge warn"[^>]*>no worker</span>)?</td>((?:<td class="num">[^<]*</td>){6})`,
      ).exec(page.text)?.[1];
    const cells = (kind: string) =>
      [...(row(kind) ?? "").matchAll(/<td class="num">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells(a)).toEqual(["3", "0", "0", "0", "0", "0"]);
    expect(cells(b)).toEqual(["0", "1", "0", "0", "0", "0"]);
    // a's tasks are due and no worker serves it: warned; b's are not due yet
    expect(page.text).toContain(`${a}</a> <span class="badge warn"`);
    expect(page.text).not.toContain(`${b}</a> <span class="badge warn"`);
    // no worker runs on this store: the workers' table says so
    expect(page.text).toContain("<h2>Workers</h2>");
    expect(page.text).toContain("No worker has reported");
    const password = store.startsWith("postgres") ? new URL(store).password : "";
    if (password !== "") expect(page.text).not.toContain(password);
    expect(page.text).toContain(
      client.store.location
        .replace(/:[^:@/]*@/, ":***@")
        .split("?")[0]
        ?.slice(0, 12),
    );
  });

  it("pages the task list by keyset: every task once, newest first, filters applied", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store, { pageSize: 3 });
    const [a, b] = [kindOf("a"), kindOf("b")];
    await client.enqueueMany(
      a,
      [1, 2, 3, 4, 5, 6, 7].map((n) => ({ n })),
    );
    await client.enqueue(b, { other: true });
    const seen: number[] = [];
    let path: string | undefined = `/tasks?kind=${a}&status=queued`;
    let pages = 0;
    while (path !== undefined) {
      const page = await get(dashboard, path);
      expect(page.status).toBe(200);
      seen.push(...seqsOf(page));
      path = nextOf(page);
      pages++;
    }
    expect(seen).toHaveLength(7);
    // a page size asked for in the URL stays in the next page's link
    const sized = await get(dashboard, `/tasks?kind=${a}&limit=2`);
    expect(nextOf(sized)).toBe(`/tasks?kind=${a}&limit=2&before=${seen[1]}`);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
    expect(new Set(seen).size).toBe(7);
    expect(pages).toBe(3); // 3 + 3 + 1: a page shorter than the page size has no link on
  });

  it("filters the task list by tag, with status and kind; a task's page and its row show its tags", async () => {
    const { client, dashboard } = await open(storeOf(), { pageSize: 2 });
    const [a, b] = [kindOf("a"), kindOf("b")];
    const tag = `tenant:${a}`;
    const tagged = await client.enqueueMany(
      a,
      [1, 2, 3].map((n) => ({ n })),
      { tags: [tag, "import"] },
    );
    const other = await client.enqueue(b, { n: 4 }, { tags: [tag] });
    await client.enqueue(a, { n: 5 }, { tags: ["someone-else"] });
    const seqs = await Promise.all([...tagged, other].map((t) => seqOfId(client, t.id)));
    const seen: number[] = [];
    let path: string | undefined = `/tasks?tag=${encodeURIComponent(tag)}`;
    while (path !== undefined) {
      const page = await get(dashboard, path);
      expect(page.status).toBe(200);
      seen.push(...seqsOf(page));
      path = nextOf(page);
    }
    expect(seen).toEqual([...seqs].sort((x, y) => y - x));
    expect(seqsOf(await get(dashboard, `/tasks?tag=${encodeURIComponent(tag)}&kind=${b}`))).toEqual([
      seqs[3],
    ]);
    expect(seqsOf(await get(dashboard, `/tasks?tag=${encodeURIComponent(tag)}&status=succeeded`))).toEqual(
      [],
    );
    const row = await get(dashboard, `/tasks?tag=import`);
    expect(row.text).toContain(`<a class="tag" href="/tasks?tag=${encodeURIComponent(tag)}">`);
    const detail = await get(dashboard, `/tasks/${seqs[0]}`);
    expect(detail.text).toMatch(new RegExp(`<dd data-field="tags">${tag}, import</dd>`));
    const bad = await get(dashboard, `/tasks?tag=${"x".repeat(101)}`);
    expect([bad.status, bad.text.includes("tag must be 1 to 100 printable characters")]).toEqual([400, true]);
  });

  it("filters the task list by correlation id (with a kind); a task's page shows it as a link to its tasks", async () => {
    const { client, dashboard } = await open(storeOf(), { pageSize: 2 });
    const [a, b] = [kindOf("a"), kindOf("b")];
    const correlation = `req-${a}`;
    const mine = await client.enqueueMany(
      a,
      [1, 2, 3].map((n) => ({ n })),
      { correlationId: correlation },
    );
    const other = await client.enqueue(b, { n: 4 }, { correlationId: correlation });
    const plain = await client.enqueue(a, { n: 5 });
    const seqs = await Promise.all([...mine, other].map((t) => seqOfId(client, t.id)));
    const seen: number[] = [];
    let path: string | undefined = `/tasks?correlation=${encodeURIComponent(correlation)}`;
    while (path !== undefined) {
      const page = await get(dashboard, path);
      expect(page.status).toBe(200);
      seen.push(...seqsOf(page));
      path = nextOf(page);
    }
    expect(seen).toEqual([...seqs].sort((x, y) => y - x));
    expect(
      seqsOf(await get(dashboard, `/tasks?correlation=${encodeURIComponent(correlation)}&kind=${b}`)),
    ).toEqual([seqs[3]]);
    const detail = await get(dashboard, `/tasks/${seqs[0]}`);
    expect(detail.text).toContain(
      `<dd data-field="correlation id"><a href="/tasks?correlation=${encodeURIComponent(correlation)}">${correlation}</a></dd>`,
    );
    expect(detail.text).not.toContain('data-field="traceparent"'); // no OpenTelemetry here
    const plainPage = await get(dashboard, `/tasks/${await seqOfId(client, plain.id)}`);
    expect(plainPage.text).not.toContain('data-field="correlation id"');
    const bad = await get(dashboard, "/tasks?correlation=two%20words");
    expect([
      bad.status,
      bad.text.includes("correlation id must be 1 to 200 printable ASCII characters"),
    ]).toEqual([400, true]);
  });

  it("a task's page lists its parents and children (workflows) as links, and says it waits", async () => {
    const { client, dashboard } = await open(storeOf());
    const kind = kindOf("flow");
    const flow = await client.enqueueFlow({
      tasks: {
        a: { kind, payload: { n: 1 } },
        b: { kind, payload: { n: 2 } },
        sum: { kind, payload: { n: 3 }, after: ["a", { task: "b", ifFailed: "run" }] },
      },
    });
    const [a, b, sum] = await Promise.all([flow.a, flow.b, flow.sum].map((t) => seqOfId(client, t!.id)));
    const page = await get(dashboard, `/tasks/${sum}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<dd data-field="waiting for">2 of its parents</dd>');
    expect(page.text).toContain(
      `<dd data-field="parents"><ul class="links"><li><a href="/tasks/${a}">${flow.a!.id}</a> <span class="status queued">queued</span></li><li><a href="/tasks/${b}">${flow.b!.id}</a> <span class="status queued">queued</span> (runs anyway)</li></ul></dd>`,
    );
    expect(page.text).toContain("waiting for 2 of its parents");
    expect(page.text).not.toContain('data-field="runs at"');
    const parent = await get(dashboard, `/tasks/${a}`);
    expect(parent.text).toContain(
      `<dd data-field="children"><ul class="links"><li><a href="/tasks/${sum}">${flow.sum!.id}</a>`,
    );
    expect(parent.text).not.toContain('data-field="parents"');
  });

  it("filters the task list by group; a task's page links its group; the limits table shows a per-group limit", async () => {
    const { client, dashboard } = await open(storeOf(), { pageSize: 2 });
    const kind = kindOf("grouped");
    const group = `tenant-${kind}`;
    const mine = await client.enqueueMany(
      kind,
      [1, 2, 3].map((n) => ({ n })),
      { group },
    );
    const plain = await client.enqueue(kind, { n: 4 });
    const seqs = await Promise.all(mine.map((t) => seqOfId(client, t.id)));
    const seen: number[] = [];
    let path: string | undefined = `/tasks?group=${encodeURIComponent(group)}`;
    while (path !== undefined) {
      const page = await get(dashboard, path);
      expect(page.status).toBe(200);
      seen.push(...seqsOf(page));
      path = nextOf(page);
    }
    expect(seen).toEqual([...seqs].sort((x, y) => y - x));
    const detail = await get(dashboard, `/tasks/${seqs[0]}`);
    expect(detail.text).toContain(
      `<dd data-field="group"><a href="/tasks?group=${encodeURIComponent(group)}">${group}</a></dd>`,
    );
    const plainPage = await get(dashboard, `/tasks/${await seqOfId(client, plain.id)}`);
    expect(plainPage.text).not.toContain('data-field="group"');
    const bad = await get(dashboard, "/tasks?group=a%01b");
    expect([bad.status, bad.text.includes("group must be 1 to 100 characters")]).toEqual([400, true]);
    await client.setLimits(kind, { perGroup: { concurrency: 3 } });
    const overview = await get(dashboard, "/");
    expect(overview.text).toContain('<th class="num">per group</th>');
    expect(overview.text).toMatch(new RegExp(`<td>${kind}</td>.*?<td class="num">≤ 3 running</td>`));
    await client.setLimits(kind, null); // the store is shared: later tests read every kind's limits
  });

  it("finds a task by id, key or seq", async () => {
    const { client, dashboard } = await open(storeOf());
    const kind = kindOf("find");
    const task = await client.enqueue(kind, { find: 1 }, { key: `key-${kind}` });
    const seq = await seqOfId(client, task.id);
    for (const q of [task.id, `key-${kind}`, String(seq)]) {
      const page = await get(dashboard, `/tasks?q=${encodeURIComponent(q)}`);
      expect(page.status).toBe(302);
      expect(page.location).toBe(`/tasks/${seq}`);
    }
    const detail = await get(dashboard, `/tasks/${seq}`);
    expect(detail.text).toContain(task.id);
    expect(detail.text).toContain(`key-${kind}`);
    expect((await get(dashboard, "/tasks?q=no-such-task")).text).toContain("No task has this id, key or seq");
  });

  it("a task's page shows its progress and log, and its live part refreshes while it runs (GET /api/tasks/:seq/live)", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const kind = kindOf("progress");
    // a task running under this store's owner, as a worker's take leaves it, reporting as a handler would
    const claimed = await client.store.claim({
      id: `p-${kind}`,
      idempotencyKey: "p-1",
      kind,
      payload: {},
      start: true,
    });
    if (!claimed.created) throw new Error("the task was not created");
    const running = claimed;
    const report = (progress: unknown, line: string) =>
      client.store.report([
        {
          kind,
          key: "p-1",
          attempt: 1,
          progress: JSON.stringify(progress),
          lines: [{ at: Date.now(), line }],
        },
      ]);
    expect(await report({ done: 50, of: 100 }, "resizing <img> & co")).toEqual([true]);
    const page = await get(dashboard, `/tasks/${running.seq}`);
    expect(page.text).toContain(
      `<section id="task-live" data-base="" data-seq="${running.seq}" data-changing="true">`,
    );
    expect(page.text).toContain("<h2>Progress</h2>");
    expect(page.text).toMatch(
      /<pre class="progress">\{\s*&quot;done&quot;: 50,\s*&quot;of&quot;: 100\s*\}<\/pre>/,
    );
    // the line escaped
    expect(page.text).toContain("<code>resizing &lt;img&gt; &amp; co</code>");
    const live = async () => JSON.parse((await get(dashboard, `/api/tasks/${running.seq}/live`)).text);
    expect(await report(75, "three quarters")).toEqual([true]);
    const during = await live();
    expect(during.changing).toBe(true);
    expect(during.html).toContain('<p class="progress" data-progress="75"><strong>75</strong></p>');
    expect([...during.html.matchAll(/<tr data-seq="(\d+)">/g)].map((m) => m[1])).toEqual(["1", "2"]);
    await client.store.succeed(running.seq, running.version, { result: "1" });
    const after = await live();
    expect(after.changing).toBe(false);
    expect(after.html).toContain('data-status="succeeded"');
    const done = await get(dashboard, `/tasks/${running.seq}`);
    expect(done.text).toContain('data-changing="false"');
    expect(done.text).toContain("three quarters");
    // a task that never reported has neither part; an unknown seq is a 404
    const quiet = await client.enqueue(kindOf("quiet"), {}, { delayMs: 3_600_000 });
    const quietPage = await get(dashboard, `/tasks/${await seqOfId(client, quiet.id)}`);
    expect(quietPage.text).not.toContain("<h2>Progress</h2>");
    expect(quietPage.text).not.toContain('<table class="log">');
    expect((await get(dashboard, "/api/tasks/999999999/live")).status).toBe(404);
  });

  it("cancels a queued task, and logs it", async () => {
    const { client, dashboard, logged } = await open(storeOf());
    const task = await client.enqueue(kindOf("cancel"), { n: 1 }, { delayMs: 3_600_000 });
    const seq = await seqOfId(client, task.id);
    const page = await get(dashboard, `/tasks/${seq}`);
    expect(page.text).toContain('<p class="when">scheduled for ');
    // no empty rows: a task that never ran has no start, finish, duration or lease
    for (const row of ["started", "finished", "duration", "ran on", "lease runs out", "output key"])
      expect(page.text).not.toContain(`data-field="${row}"`);
    expect(page.text).toMatch(/<dd data-field="created">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z<\/dd>/);
    const done = await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(page)]]);
    expect([done.status, done.location]).toEqual([
      303,
      expect.stringMatching(noticeAt(`/tasks/${seq}`, "cancelled")),
    ]);
    expect((await get(dashboard, done.location as string)).text).toContain("Cancelled: it will not run.");
    expect((await client.get(task.id))?.status).toBe("cancelled");
    expect(logged.map((l) => [l.fields.action, l.fields.seq])).toEqual([["cancel", seq]]);
    const again = await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(page)]]);
    expect(again.status).toBe(409);
    expect(again.text).toContain(`task ${seq} has already finished (cancelled)`);
  });

  it("re-drives a dead letter, which then succeeds; purges old dead letters", async () => {
    const store = storeOf();
    const { client, dashboard, logged } = await open(store);
    const kind = kindOf("redrive");
    await worker(store, kind);
    const failing = await client.enqueue(kind, { fail: "first" });
    await expect(client.result(failing.id)).rejects.toBeInstanceOf(TaskFailedError);
    const letters = await get(dashboard, "/dead-letters");
    const seq = await seqOfId(client, failing.id);
    expect(letters.text).toContain(`data-task-seq="${seq}"`);
    expect(letters.text).toContain("told to fail: first");
    state.failing = false;
    const done = await post(dashboard, "/dead-letters/redrive", [
      ["_csrf", csrfOf(letters)],
      ["seq", String(seq)],
    ]);
    expect(done.status).toBe(303);
    expect(await client.result(failing.id)).toEqual({ done: { fail: "first" } });
    expect(logged.at(-1)?.fields).toMatchObject({ action: "redrive", seqs: [seq], redriven: 1 });
    // the page renders the task view: the result as JSON, when it finished, its attempt's run time
    const detail = await get(dashboard, `/tasks/${seq}`);
    expect(detail.text).toMatch(
      /<pre class="result">\{\n {2}&quot;done&quot;: \{\n {4}&quot;fail&quot;: &quot;first&quot;/,
    );
    expect(detail.text).toMatch(/<p class="when">finished \d{4}-/);
    // times to the millisecond, and the duration is finished - started
    const record = (await client.store.get(seq))!;
    const at = (field: string) => new RegExp(`<dd data-field="${field}">([^<]*)</dd>`).exec(detail.text)?.[1];
    expect(at("started")).toBe(new Date(record.startedAt!).toISOString().replace("T", " "));
    expect(at("finished")).toBe(new Date(record.finishedAt!).toISOString().replace("T", " "));
    const ran = record.finishedAt! - record.startedAt!;
    expect(at("duration")).toBe(
      ran < 1000 ? `${ran} ms` : expect.stringMatching(new RegExp(`^${ran.toLocaleString("en-US")} ms \\(`)),
    );
    for (const row of ["lease runs out", "output key", "cancel requested"])
      expect(detail.text).not.toContain(`data-field="${row}"`);

    state.failing = true;
    const second = await client.enqueue(kind, { fail: "second" });
    await expect(client.result(second.id)).rejects.toBeInstanceOf(TaskFailedError);
    const purge = await post(dashboard, "/dead-letters/purge", [
      ["_csrf", csrfOf(letters)],
      ["olderThanHours", "0"],
    ]);
    expect(purge.status).toBe(303);
    expect(logged.at(-1)?.fields).toMatchObject({ action: "purge", olderThanHours: 0 });
    expect((await get(dashboard, "/dead-letters")).text).not.toContain("told to fail: second");
  });

  it("dead letters: each with its task's kind, filtered by kind, keyset pages keeping the filter", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store, { pageSize: 1 });
    const [a, b] = [kindOf("dla"), kindOf("dlb")];
    await worker(store, a);
    await worker(store, b);
    // one after another: the dead letters are in the order the tasks failed
    const failing = [];
    for (const [kind, fail] of [
      [a, "a1"],
      [b, "b1"],
      [a, "a2"],
    ] as const) {
      const t = await client.enqueue(kind, { fail });
      await expect(client.result(t.id)).rejects.toBeInstanceOf(TaskFailedError);
      failing.push(t);
    }
    const [a1, b1, a2] = await Promise.all(failing.map((t) => seqOfId(client, t.id)));
    const page = await get(dashboard, "/dead-letters?limit=10");
    expect(page.text).toContain("<th>kind</th>");
    for (const [seq, kind] of [
      [a1, a],
      [b1, b],
      [a2, a],
    ] as const)
      expect(page.text).toMatch(
        new RegExp(
          `data-task-seq="${seq}">.*?<td data-kind="${kind}"><a href="/dead-letters\\?kind=${kind}">`,
        ),
      );
    // by kind: a's two, a page each, the next link keeping the kind
    const shown: number[] = [];
    let path: string | undefined = `/dead-letters?kind=${a}`;
    while (path !== undefined) {
      const p = await get(dashboard, path);
      expect(p.status).toBe(200);
      expect(p.text).toContain(`<option value="${a}" selected>`);
      shown.push(...[...p.text.matchAll(/<tr data-task-seq="(\d+)"/g)].map((m) => Number(m[1])));
      path = nextOf(p);
      if (path !== undefined)
        expect(path).toMatch(
          new RegExp(
            `^/dead-letters\\?kind=${a}&limit=1&before=\\d+$|^/dead-letters\\?kind=${a}&before=\\d+$`,
          ),
        );
    }
    expect(shown).toEqual([a2, a1]);
    expect((await get(dashboard, `/dead-letters?kind=${kindOf("none")}`)).text).toContain(
      "No dead letters of this kind.",
    );
    expect((await get(dashboard, "/dead-letters?kind=no%20way")).status).toBe(400);
  });

  it("warns of a kind with due tasks that no live worker serves", async () => {
    const { client, dashboard } = await open(storeOf());
    const [served, unserved, later] = [kindOf("served"), kindOf("unserved"), kindOf("later")];
    await client.enqueue(served, { n: 1 });
    await client.enqueue(unserved, { n: 2 });
    await client.enqueue(later, { n: 3 }, { delayMs: 3_600_000 });
    // a live worker that serves `served` (its report, as a worker writes it)
    await client.store.reportWorker({
      threads: 0,
      processes: 2,
      slots: 1,
      executing: 0,
      leased: 0,
      kinds: [served],
    });
    closers.push(() => client.store.removeWorker());
    const page = await get(dashboard, "/");
    const warning = /<p class="warning" role="alert" data-unserved="([^"]*)">([^<]*)/.exec(page.text);
    expect(warning?.[1]?.split(" ")).toContain(unserved);
    expect(warning?.[1]?.split(" ")).not.toContain(served);
    expect(warning?.[1]?.split(" ")).not.toContain(later); // nothing due yet
    expect(warning?.[2]).toContain(`No live worker serves `);
    expect(page.text).toContain(`<tr class="unserved"><td><a href="/tasks?kind=${unserved}">`);
    expect(page.text).toContain(`<tr class=""><td><a href="/tasks?kind=${served}">${served}</a></td>`);
    // its child processes (kinds isolated in processes) beside its threads
    expect(page.text).toMatch(/<td class="num">0 <small[^>]*>\+ 2 process\(es\)<\/small><\/td>/);
  });

  it("the charts' history: the last ten minutes from the store, a point per five seconds", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const kind = kindOf("history");
    await worker(store, kind);
    const tasks = await client.enqueueMany(
      kind,
      [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
    );
    for (const t of tasks) await client.result(t.id);
    state.failing = true;
    const failing = await client.enqueue(kind, { fail: "history" });
    await expect(client.result(failing.id)).rejects.toBeInstanceOf(TaskFailedError);
    const reply = await get(dashboard, "/api/history");
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.text) as {
      spanMs: number;
      windowMs: number;
      history: { t: number; succeededPerSec: number; failedPerSec: number; p95RunMs: number | null }[];
    };
    expect([body.spanMs, body.windowMs, body.history.length]).toEqual([600_000, 5000, 120]);
    const ts = body.history.map((p) => p.t);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    expect(ts[1]! - ts[0]!).toBe(5);
    // the PostgreSQL store is shared with the other tests: at least this test's tasks
    const sum = (f: (p: (typeof body.history)[number]) => number) =>
      Math.round(body.history.reduce((n, p) => n + f(p) * 5, 0));
    expect(sum((p) => p.succeededPerSec)).toBeGreaterThanOrEqual(6);
    expect(sum((p) => p.failedPerSec)).toBeGreaterThanOrEqual(1);
    expect(body.history.some((p) => p.p95RunMs !== null && p.p95RunMs >= 0)).toBe(true);
  });

  it("pauses and resumes a schedule", async () => {
    const { client, dashboard, logged } = await open(storeOf());
    const name = kindOf("nightly");
    await client.schedule(name, { cron: "0 3 * * *", kind: kindOf("report") });
    const page = await get(dashboard, "/schedules");
    expect(page.text).toContain(`data-schedule="${name}"`);
    expect((await post(dashboard, `/schedules/${name}/pause`, [["_csrf", csrfOf(page)]])).status).toBe(303);
    expect((await client.schedules()).find((s) => s.name === name)?.paused).toBe(true);
    expect((await post(dashboard, `/schedules/${name}/resume`, [["_csrf", csrfOf(page)]])).status).toBe(303);
    expect((await client.schedules()).find((s) => s.name === name)?.paused).toBe(false);
    expect(logged.map((l) => l.fields.action)).toEqual(["pause", "resume"]);
    expect((await post(dashboard, "/schedules/no-such/pause", [["_csrf", csrfOf(page)]])).status).toBe(404);
  });

  it("pauses and resumes a kind across the fleet from the overview's kinds table", async () => {
    const store = storeOf();
    const { client, dashboard, logged } = await open(store);
    const kind = kindOf("paused");
    const queued = await client.enqueue(kind, { n: 1 });
    const page = await get(dashboard, "/");
    expect(page.text).toMatch(
      new RegExp(`data-kind-state="${kind}">running <form[^>]*action="/kinds/${kind}/pause"`),
    );
    const paused = await post(dashboard, `/kinds/${kind}/pause`, [["_csrf", csrfOf(page)]]);
    expect([paused.status, paused.location]).toEqual([
      303,
      expect.stringMatching(noticeAt("/", "kind-paused")),
    ]);
    expect((await client.limits()).find((l) => l.kind === kind)).toMatchObject({ paused: true });
    const after = await get(dashboard, paused.location as string);
    expect(after.text).toContain("Kind paused: no worker starts its tasks from its next take");
    expect(after.text).toMatch(
      new RegExp(`data-kind-state="${kind}"><span class="badge warn">paused</span>`),
    );
    expect(after.text).toMatch(/paused for \d/); // the limits table says since when
    // a worker started now passes it by; resumed, it runs
    await worker(store, kind);
    const again = await post(dashboard, `/kinds/${kind}/pause`, [["_csrf", csrfOf(after)]]);
    expect(again.location).toMatch(noticeAt("/", "kind-was-paused"));
    expect((await client.get(queued.id))?.status).toBe("queued");
    expect((await post(dashboard, `/kinds/${kind}/resume`, [["_csrf", csrfOf(after)]])).location).toMatch(
      noticeAt("/", "kind-resumed"),
    );
    expect(await client.result(queued.id)).toEqual({ done: { n: 1 } });
    expect(logged.map((l) => [l.fields.action, l.fields.changed])).toEqual([
      ["kind-pause", true],
      ["kind-pause", false],
      ["kind-resume", true],
    ]);
    const bad = await post(dashboard, "/kinds/a%20b/pause", [["_csrf", csrfOf(after)]]);
    expect([bad.status, bad.text]).toEqual([400, expect.stringContaining("kind must be a task kind")]);
  });

  it("shows a kind's circuit breaker beside its pause button, and resets an open one", async () => {
    const { client, dashboard, logged } = await open(storeOf());
    const kind = kindOf("mail");
    await client.setBreaker(kind, { failures: 1, cooldownMs: 3_600_000 });
    const queued = await client.enqueueMany(kind, [{ n: 1 }, { n: 2 }]);
    const closed = await get(dashboard, "/");
    expect(closed.text).toMatch(
      new RegExp(
        `data-kind-state="${kind}">running <form[^>]*>.*</form> <span class="badge" data-breaker="closed"`,
        "s",
      ),
    );
    // one failed attempt opens it (the store's own calls, as a worker makes them)
    const [taken] = await client.store.takeNext(1, [kind]);
    await client.store.retry(
      taken!.seq,
      taken!.version,
      { errorClass: "transient", message: "down", retryable: true },
      0,
    );
    const open_ = await get(dashboard, "/");
    expect(open_.text).toMatch(
      new RegExp(`data-breaker="open">breaker open</span> <form[^>]*action="/kinds/${kind}/reset-breaker"`),
    );
    expect(open_.text).toMatch(/held back: breaker open, a probe in \d/);
    const reset = await post(dashboard, `/kinds/${kind}/reset-breaker`, [["_csrf", csrfOf(open_)]]);
    expect([reset.status, reset.location]).toEqual([
      303,
      expect.stringMatching(noticeAt("/", "breaker-reset")),
    ]);
    expect((await get(dashboard, reset.location as string)).text).toContain(
      "Breaker closed: the workers take",
    );
    expect(await client.breakers()).toMatchObject([{ kind, state: "closed" }]);
    const again = await post(dashboard, `/kinds/${kind}/reset-breaker`, [["_csrf", csrfOf(open_)]]);
    expect(again.location).toMatch(noticeAt("/", "breaker-was-closed"));
    expect(logged.map((l) => [l.fields.action, l.fields.changed])).toEqual([
      ["breaker-reset", true],
      ["breaker-reset", false],
    ]);
    // without a token, nothing is reset
    // without the page's CSRF token nothing changes (the kinds' routes are guarded as the others)
    expect((await post(dashboard, `/kinds/${kind}/reset-breaker`, [])).status).toBe(403);
    expect((await post(dashboard, `/kinds/${kind}/pause`, [["_csrf", "forged"]])).status).toBe(403);
    expect(await client.limits()).toMatchObject([{ kind, paused: false }]);
    expect(queued.map((t) => t.id)).toHaveLength(2);
  });
});

describe.each([
  ["SQLite", sqliteStore],
  ["PostgreSQL", () => pgStore],
] as [string, () => string][])("the dashboard against an attacker (issue 37), over %s", (_name, storeOf) => {
  it("error pages show no store location, and carry the headers every page carries", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const mounted = createDashboard({ client, basePath: "/ops", logger: { info: () => undefined } });
    closers.push(() => mounted.close());
    // where the store is, in any form a page could show it
    const where = store.startsWith("postgres")
      ? [new URL(store).host, redactUrl(client.store.location)]
      : [store, dirname(store)];
    const normal = await get(dashboard, "/");
    expect(normal.text).toContain(redactUrl(client.store.location)); // the overview shows it
    expect(normal.headers?.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const errors: [string, Reply][] = [
      [
        "DNS rebinding",
        await reply(await dashboard.fetch(new Request("http://attacker.example:9465/tasks"), LOCAL)),
      ],
      [
        "rebinding, outside its paths",
        await reply(await dashboard.fetch(new Request("http://attacker.example:9465/nowhere"), LOCAL)),
      ],
      ["outside its paths", await get(dashboard, "/nowhere")],
      ["outside its base path", await get(mounted, "/elsewhere")],
      ["an unknown task", await get(dashboard, "/tasks/987654321")],
      ["a bad parameter", await get(dashboard, "/tasks?status=bogus")],
      ["no socket", await reply(await dashboard.fetch(new Request(`${ORIGIN}/`)))],
    ];
    for (const [what, page] of errors) {
      expect([what, page.status >= 400]).toEqual([what, true]);
      for (const part of where) expect([what, page.text.includes(part)]).toEqual([what, false]);
      expect(page.text).not.toContain('class="store"');
      for (const header of SECURITY_HEADERS)
        expect([what, header, page.headers?.get(header)]).toEqual([
          what,
          header,
          normal.headers?.get(header),
        ]);
    }
  });

  it("answers bad input to the search and every parameter with a 4xx and one line (a NUL byte too)", async () => {
    const { client, dashboard, logged } = await open(storeOf());
    const kind = kindOf("nul");
    const task = await client.enqueue(kind, { n: 1 }, { key: "key-a" });
    const seq = await seqOfId(client, task.id);
    const gets = [
      "/tasks?q=%00",
      "/tasks?q=key%00a",
      `/tasks?q=${"x".repeat(513)}`,
      "/tasks?q=%01",
      "/tasks?tag=%00",
      "/tasks?tag=a%00b",
      "/tasks?correlation=%00",
      "/tasks?kind=%00",
      "/tasks?status=%00",
      "/tasks?before=%00",
      "/tasks?limit=%00",
      "/tasks/%00",
      `/tasks/${seq}%00`,
      "/dead-letters?kind=%00",
      "/dead-letters?before=%00",
    ];
    for (const path of gets) {
      const r = await get(dashboard, path);
      expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
      expect(/<p class="error" role="alert">([^\n<]+)<\/p>/.test(r.text)).toBe(true);
    }
    const csrf = csrfOf(await get(dashboard, "/"));
    const posts: [string, [string, string][]][] = [
      ["/schedules/%00/pause", []],
      ["/kinds/%00/pause", []],
      ["/kinds/%00/reset-breaker", []],
      [`/tasks/${seq}%00/cancel`, []],
      ["/dead-letters/redrive", [["seq", "\u0000"]]],
      ["/dead-letters/purge", [["olderThanHours", "\u0000"]]],
    ];
    for (const [path, fields] of posts) {
      const r = await post(dashboard, path, [["_csrf", csrf], ...fields]);
      expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
    }
    // the store was never asked: nothing failed, nothing was logged as an error
    expect(logged.filter((l) => l.fields.level === "error")).toEqual([]);
    expect((await get(dashboard, "/tasks?q=key-a")).location).toBe(`/tasks/${seq}`);
    expect((await client.get(task.id))?.status).toBe("queued");
  });

  it("shows a worker whose stored report is malformed as malformed, not a 500", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const now = await client.store.now();
    const owner = `malformed-${process.pid}-${++kindSeq}`;
    const rows: [string, string][] = [
      [`${owner}-kinds`, '{"threads":1,"slots":2,"executing":0,"leased":0,"kinds":"email"}'],
      [`${owner}-json`, "{not json"],
      [`${owner}-null`, "null"],
      [`${owner}-counts`, '{"threads":"many","slots":2,"executing":null,"leased":0,"kinds":[1,2],"name":7}'],
    ];
    for (const [row, info] of rows) closers.push(await writeWorkerRow(store, row, info, now));
    const page = await get(dashboard, "/");
    expect(page.status).toBe(200);
    const rowOf = (name: string) =>
      new RegExp(`<tr[^>]*><td>${name}</td>.*?</tr>`).exec(page.text)?.[0] ?? "";
    expect(rowOf(`${owner}-kinds`)).toContain(
      "malformed report</span> <small>kinds is not a list of strings",
    );
    expect(rowOf(`${owner}-kinds`)).toMatch(/<td class="num">1<\/td><td class="num">2<\/td>/); // the sound fields
    expect(rowOf(`${owner}-json`)).toContain("its report is not a JSON object");
    expect(rowOf(`${owner}-null`)).toContain("its report is not a JSON object");
    expect(rowOf(`${owner}-counts`)).toContain(
      "threads is not a number of 0 or more; executing is not a number of 0 or more; kinds is not a list of strings; name is not a string",
    );
    expect((await get(dashboard, "/api/overview")).status).toBe(200);
  });

  it("shows an action's notice only on the link the action made, never from a hand-made URL", async () => {
    const store = storeOf();
    const { client, dashboard } = await open(store);
    const kind = kindOf("notice");
    await worker(store, kind);
    const succeeded = await client.enqueue(kind, { n: 1 });
    await client.result(succeeded.id);
    const seq = await seqOfId(client, succeeded.id);
    // the issue's case: a notice of a cancel that did not happen
    for (const query of [
      "done=cancelled",
      "done=requested",
      "done=redriven&n=5",
      "done=cancelled&at=0&sig=x",
    ]) {
      const page = await get(dashboard, `/tasks/${seq}?${query}`);
      expect([query, page.status]).toEqual([query, 200]);
      expect([query, page.text.includes('class="notice"')]).toEqual([query, false]);
    }
    // the real one shows; the same link with its count changed, or on another page, does not
    const queued = await client.enqueue(kindOf("notice-queued"), { n: 2 }, { delayMs: 3_600_000 });
    const queuedSeq = await seqOfId(client, queued.id);
    const csrf = csrfOf(await get(dashboard, `/tasks/${queuedSeq}`));
    const done = await post(dashboard, `/tasks/${queuedSeq}/cancel`, [["_csrf", csrf]]);
    expect(done.location).toMatch(noticeAt(`/tasks/${queuedSeq}`, "cancelled"));
    const link = done.location as string;
    expect((await get(dashboard, link)).text).toContain("Cancelled: it will not run.");
    const elsewhere = link.replace(`/tasks/${queuedSeq}?`, `/tasks/${seq}?`);
    expect((await get(dashboard, elsewhere)).text).not.toContain('class="notice"');
    const purge = await post(dashboard, "/dead-letters/purge", [
      ["_csrf", csrf],
      ["olderThanHours", "1000"],
    ]);
    expect(purge.location).toMatch(noticeAt("/dead-letters", "purged", 0));
    expect((await get(dashboard, purge.location as string)).text).toContain("Purged 0 dead letters");
    const inflated = (purge.location as string).replace("&n=0&", "&n=99&");
    expect((await get(dashboard, inflated)).text).not.toContain('class="notice"');
  });
});

describe("a notice's signature", () => {
  it("holds for its page, its code and count, for NOTICE_MS", () => {
    let now = 1_000_000;
    const signer = new NoticeSigner(() => now);
    const query = Object.fromEntries(new URLSearchParams(signer.query("/tasks/7", "redriven", 1)));
    expect(signer.verify("/tasks/7", query)).toEqual({ done: "redriven", n: "1" });
    expect(signer.verify("/tasks/8", query)).toBeUndefined();
    expect(signer.verify("/tasks/7", { ...query, n: "2" })).toBeUndefined();
    expect(signer.verify("/tasks/7", { ...query, done: "purged" })).toBeUndefined();
    now += NOTICE_MS;
    expect(signer.verify("/tasks/7", query)).toEqual({ done: "redriven", n: "1" });
    now += 1;
    expect(signer.verify("/tasks/7", query)).toBeUndefined();
    expect(new NoticeSigner(() => now).verify("/tasks/7", query)).toBeUndefined(); // another dashboard's
  });
});

describe("the dashboard refuses what it should", () => {
  const noStack = (r: Reply) => expect(r.text).not.toMatch(/\n\s+at /);

  it("answers a bad request with a 4xx and one line, never a stack", async () => {
    const { client, dashboard } = await open(sqliteStore());
    const task = await client.enqueue(kindOf("done"), { n: 1 });
    const seq = await seqOfId(client, task.id);
    const cases: [string, number, string][] = [
      ["/tasks?status=bogus", 400, "status must be one of queued, running, succeeded, failed, cancelled"],
      ["/tasks?kind=%3Cscript%3E", 400, "kind must be a task kind"],
      ["/tasks?limit=100000", 400, "limit must be at most 500"],
      ["/tasks?before=abc", 400, "before must be a positive integer"],
      ["/tasks/abc", 400, "task seq must be a positive integer"],
      ["/tasks/987654321", 404, "no task has seq 987654321"],
      ["/dead-letters?limit=0", 400, "limit must be a positive integer"],
      ["/tasks?status=queued&kind=nobody", 200, "selected>nobody</option>"],
      ["/nowhere", 404, "nothing at /nowhere"],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(dashboard, path);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.text).toContain(message.replaceAll('"', "&quot;"));
      noStack(r);
    }
    const page = await get(dashboard, `/tasks/${seq}`);
    const csrf = csrfOf(page);
    const bad: [string, [string, string][], number, string][] = [
      ["/tasks/987654321/cancel", [["_csrf", csrf]], 404, "no task has seq 987654321"],
      ["/dead-letters/redrive", [["_csrf", csrf]], 400, "no task selected"],
      [
        "/dead-letters/redrive",
        [
          ["_csrf", csrf],
          ["seq", "x"],
        ],
        400,
        "seq must be a positive integer",
      ],
      [
        "/dead-letters/purge",
        [
          ["_csrf", csrf],
          ["olderThanHours", "-1"],
        ],
        400,
        "olderThanHours must be a number of hours",
      ],
    ];
    for (const [path, fields, status, message] of bad) {
      const r = await post(dashboard, path, fields);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.text).toContain(message);
      noStack(r);
    }
  });

  it("refuses a POST without the CSRF token, and one from another site", async () => {
    const { client, dashboard, logged } = await open(sqliteStore());
    const task = await client.enqueue(kindOf("csrf"), { n: 1 }, { delayMs: 3_600_000 });
    const seq = await seqOfId(client, task.id);
    const page = await get(dashboard, `/tasks/${seq}`);
    expect((await post(dashboard, `/tasks/${seq}/cancel`, [])).status).toBe(403);
    expect((await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", "forged"]])).status).toBe(403);
    const crossSite = await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(page)]], {
      origin: "https://evil.example",
    });
    expect(crossSite.status).toBe(403);
    expect((await client.get(task.id))?.status).toBe("queued");
    expect(logged).toEqual([]);
  });

  it("with a token: pages and actions need it, a sign-in sets a cookie, a bearer header works", async () => {
    const token = "s3cret-token-for-tests";
    const { client, dashboard, logged } = await open(sqliteStore(), { token });
    const task = await client.enqueue(kindOf("guarded"), { n: 1 }, { delayMs: 3_600_000 });
    const seq = await seqOfId(client, task.id);
    const anonymous = await get(dashboard, "/");
    expect([anonymous.status, anonymous.location]).toEqual([302, "/login"]);
    const login = await get(dashboard, "/login");
    expect(login.text).not.toContain(client.store.location);
    const refused = await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(login)]]);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain("this needs the dashboard token");
    expect((await client.get(task.id))?.status).toBe("queued");
    expect((await get(dashboard, "/api/overview")).status).toBe(401);
    // a task's live part (its progress and log) too
    expect((await get(dashboard, `/api/tasks/${seq}/live`)).status).toBe(401);

    const wrong = await post(dashboard, "/login", [
      ["_csrf", csrfOf(login)],
      ["token", "not-it"],
    ]);
    expect(wrong.status).toBe(401);
    const right = await post(dashboard, "/login", [
      ["_csrf", csrfOf(login)],
      ["token", token],
    ]);
    expect(right.status).toBe(303);
    const cookie = right.cookie?.split(";")[0] as string;
    expect(cookie).toMatch(/^taskq_dashboard=/);
    expect(cookie).not.toContain(token);
    expect(right.cookie).toMatch(/HttpOnly/);
    expect(right.cookie).toMatch(/SameSite=Strict/);
    expect(right.cookie).toMatch(/Max-Age=43200/);
    const page = await get(dashboard, `/tasks/${seq}`, { cookie });
    expect(page.status).toBe(200);
    expect((await get(dashboard, "/login", { cookie })).location).toBe("/"); // signed in already
    expect(
      (await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(page)]], { cookie })).status,
    ).toBe(303);
    expect((await client.get(task.id))?.status).toBe("cancelled");
    expect((await get(dashboard, "/api/overview", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(
      (await get(dashboard, `/api/tasks/${seq}/live`, { authorization: `Bearer ${token}` })).status,
    ).toBe(200);
    // a script with the bearer token acts without a page's CSRF token or an Origin
    const scripted = await client.enqueue(kindOf("guarded"), { n: 2 }, { delayMs: 3_600_000 });
    const scriptedSeq = await seqOfId(client, scripted.id);
    const bearer = await post(dashboard, `/tasks/${scriptedSeq}/cancel`, [], {
      authorization: `Bearer ${token}`,
      origin: "",
    });
    expect(bearer.status).toBe(303);
    expect(
      (await post(dashboard, `/tasks/${scriptedSeq}/cancel`, [], { authorization: "Bearer wrong-token" }))
        .status,
    ).toBe(401);
    // signing out ends the session: the old cookie no longer works
    expect((await post(dashboard, "/logout", [["_csrf", csrfOf(page)]], { cookie })).status).toBe(303);
    expect((await get(dashboard, `/tasks/${seq}`, { cookie })).location).toBe("/login");
    expect(logged.map((l) => [l.fields.action, l.fields.ok ?? l.fields.outcome])).toEqual([
      ["login", false],
      ["login", true],
      ["cancel", "cancelled"],
      ["cancel", "cancelled"],
      ["bearer", false],
    ]);
  });

  it("limits wrong sign-ins from a client: then 429 with Retry-After, even for the right token, until its window passes", async () => {
    const token = "s3cret-token-for-tests";
    let t = 1_700_000_000_000;
    const { client, dashboard, logged } = await open(sqliteStore(), { token, now: () => t });
    const [attacker, operator] = [from("203.0.113.7"), from("198.51.100.2")];
    const csrf = csrfOf(await get(dashboard, "/login", {}, attacker));
    const signIn = (tried: string, env: unknown) =>
      post(
        dashboard,
        "/login",
        [
          ["_csrf", csrf],
          ["token", tried],
        ],
        {},
        env,
      );
    const { perClient, windowMs } = ATTEMPT_LIMITS;
    for (let i = 1; i <= perClient; i++) {
      const r = await signIn(`wrong-guess-${i}`, attacker);
      expect([i, r.status, r.retryAfter]).toEqual([i, 401, null]);
      t += 1_000;
    }
    // locked out: refused unread, the right token too, with how long in Retry-After
    const locked = await signIn(token, attacker);
    expect([locked.status, locked.cookie, locked.retryAfter]).toEqual([
      429,
      null,
      String(windowMs / 1000 - 1),
    ]);
    expect(locked.text).toContain(
      "too many wrong tokens: token attempts from here are refused for 15 more minutes",
    );
    expect(locked.text).not.toContain(client.store.location);
    expect(locked.text).not.toMatch(/\n\s+at /);
    // a bearer header from the same client is refused too, whatever it says
    const bearer = await get(dashboard, "/api/overview", { authorization: `Bearer ${token}` }, attacker);
    expect([bearer.status, bearer.retryAfter]).toEqual([429, String(windowMs / 1000 - 1)]);
    expect(JSON.parse(bearer.text).error).toMatch(/^too many wrong tokens/);
    // another client is not locked out
    const other = await signIn(token, operator);
    expect(other.status).toBe(303);
    const cookie = other.cookie?.split(";")[0] as string;
    // each wrong one logged once with its client's address and count; the 429s are not; no token
    const failed = logged.filter((l) => l.fields.ok === false);
    expect(failed.map((l) => [l.fields.action, l.fields.remote, l.fields.failures])).toEqual(
      Array.from({ length: perClient }, (_, i) => ["login", "203.0.113.7", i + 1]),
    );
    expect(failed.at(-1)?.fields.lockedForS).toBe(windowMs / 1000);
    expect(JSON.stringify(logged)).not.toMatch(/wrong-guess|s3cret/);
    // one second before the window passes: still refused; then the right token works again
    t += windowMs - 2_000;
    expect((await signIn(token, attacker)).retryAfter).toBe("1");
    t += 1_000;
    expect((await signIn(token, attacker)).status).toBe(303);
    // and the count starts afresh: one more wrong token is a 401, not a 429
    expect((await signIn("wrong-again", attacker)).status).toBe(401);
    // the session signed in meanwhile never noticed
    expect((await get(dashboard, "/", { cookie }, operator)).status).toBe(200);
  });

  it("behind a proxy named in trustProxy, wrong tokens count against the client it names, which a client cannot forge", async () => {
    const token = "s3cret-token-for-tests";
    const proxy = from("10.0.0.1");
    const viaProxy = (client: string) => ({ "x-forwarded-for": client });
    const { perClient } = ATTEMPT_LIMITS;
    for (const trusted of [true, false]) {
      const { dashboard } = await open(sqliteStore(), {
        token,
        ...(trusted ? { trustProxy: ["10.0.0.1"] } : {}),
      });
      const csrf = csrfOf(await get(dashboard, "/login", {}, proxy));
      const signIn = (tried: string, headers: Record<string, string>) =>
        post(
          dashboard,
          "/login",
          [
            ["_csrf", csrf],
            ["token", tried],
          ],
          headers,
          proxy,
        );
      // the attacker writes a hop of its own to the left; the proxy appends the address it saw
      for (let i = 1; i <= perClient; i++)
        expect((await signIn(`wrong-${i}`, viaProxy("198.51.100.2, 203.0.113.7"))).status).toBe(401);
      expect((await signIn(token, viaProxy("203.0.113.7"))).status).toBe(429);
      // another client through the same proxy: its own count when the proxy is trusted; the
      // proxy's shared one (locked out) when it is not
      expect([trusted, (await signIn(token, viaProxy("198.51.100.2"))).status]).toEqual([
        trusted,
        trusted ? 303 : 429,
      ]);
    }
  });

  it("counts wrong bearer tokens, each logged with its address; an overall ceiling bounds many clients", async () => {
    const token = "s3cret-token-for-tests";
    let t = 1_700_000_000_000;
    const { dashboard, logged } = await open(sqliteStore(), { token, now: () => t });
    const csrf = csrfOf(await get(dashboard, "/login"));
    const operator = from("192.0.2.10");
    const signedIn = await post(
      dashboard,
      "/login",
      [
        ["_csrf", csrf],
        ["token", token],
      ],
      {},
      operator,
    );
    const cookie = signedIn.cookie?.split(";")[0] as string;
    const { overall, perClient, windowMs } = ATTEMPT_LIMITS;
    // one IPv6 host holds a whole /64: its addresses count as one client
    for (let i = 1; i <= perClient; i++) {
      const r = await get(
        dashboard,
        "/api/overview",
        { authorization: "Bearer bad-bearer-x" },
        from(`2001:db8:0:7::${i}`),
      );
      expect([i, r.status]).toEqual([i, 401]);
    }
    const sameNet = await get(
      dashboard,
      "/api/overview",
      { authorization: `Bearer ${token}` },
      from("2001:db8:0:7:abcd::1"),
    );
    expect(sameNet.status).toBe(429);
    // a distributed guess: one wrong bearer token from each of many addresses
    for (let i = 1; i <= overall - perClient; i++) {
      const r = await get(
        dashboard,
        "/api/overview",
        { authorization: "Bearer bad-bearer-y" },
        from(`10.0.${i >> 8}.${i & 255}`),
      );
      expect([i, r.status]).toEqual([i, 401]);
    }
    const bearers = logged.filter((l) => l.fields.action === "bearer");
    expect(bearers).toHaveLength(overall);
    expect(bearers[0]?.fields).toMatchObject({ ok: false, remote: "2001:db8:0:7::1", failures: 1 });
    expect(bearers.at(-1)?.fields).toMatchObject({
      ok: false,
      remote: `10.0.0.${overall - perClient}`,
      failures: 1,
    });
    expect(bearers.at(-1)?.message).toBe("dashboard: a request with a wrong bearer token was refused");
    expect(JSON.stringify(logged)).not.toMatch(/bad-bearer|s3cret/);
    // the ceiling reached: a client never seen before is refused, the right token too, sign-in too
    const fresh = from("198.51.100.99");
    const refused = await get(dashboard, "/api/overview", { authorization: `Bearer ${token}` }, fresh);
    expect([refused.status, refused.retryAfter]).toEqual([429, String(windowMs / 1000)]);
    const signIn = await post(
      dashboard,
      "/login",
      [
        ["_csrf", csrf],
        ["token", token],
      ],
      {},
      fresh,
    );
    expect(signIn.status).toBe(429);
    // a session signed in before carries on
    expect((await get(dashboard, "/", { cookie }, operator)).status).toBe(200);
    t += windowMs;
    expect((await get(dashboard, "/api/overview", { authorization: `Bearer ${token}` }, fresh)).status).toBe(
      200,
    );
  });

  it("refuses a weak token in one line naming the option, never showing it", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    const rule =
      "the dashboard token must be at least 16 printable ASCII characters without spaces, 8 or more of them different (make one with: openssl rand -hex 16)";
    const weak = [
      " ".repeat(8),
      "aaaaaaaa",
      " ".repeat(32),
      "a".repeat(32),
      "abcdabcdabcdabcdabcd", // 4 different characters
      "short-but-mixed", // 15
      "a-long-token with-a-space",
      "tökentökentökentöken1234",
    ];
    for (const token of weak) {
      let thrown: unknown;
      try {
        createDashboard({ client, token, logger: { info: () => undefined } });
      } catch (error) {
        thrown = error;
      }
      expect([token, thrown]).toMatchObject([token, { name: "ConfigError", option: "token", message: rule }]);
      await expect(startDashboard({ client, port: 0, token })).rejects.toMatchObject({
        option: "token",
        message: rule,
      });
    }
    const made = createDashboard({
      client,
      token: randomBytes(16).toString("hex"),
      logger: { info: () => undefined },
    });
    made.close();
  });

  it("without a token, answers requests to loopback names only (no DNS rebinding)", async () => {
    const { dashboard } = await open(sqliteStore());
    const rebound = await dashboard.fetch(new Request("http://attacker.example:9465/tasks"), LOCAL);
    expect(rebound.status).toBe(403);
    expect(await rebound.text()).toContain(
      "this dashboard has no token, so it answers requests to localhost or 127.0.0.1 from this machine only",
    );
    expect((await dashboard.fetch(new Request("http://localhost:9465/"), LOCAL)).status).toBe(200);
    expect((await dashboard.fetch(new Request("http://[::1]:9465/"), from("::ffff:127.0.0.1"))).status).toBe(
      200,
    );
    expect((await get(dashboard, "/", {}, from("192.0.2.5"))).status).toBe(403); // a socket elsewhere
    const guarded = await open(sqliteStore(), { token: "a-long-enough-token" });
    expect((await guarded.dashboard.fetch(new Request("http://dashboard.example/"))).status).toBe(302);
  });

  it("without a token, refuses and logs a request a proxy forwarded from another machine", async () => {
    const { client, dashboard, logged } = await open(sqliteStore());
    const task = await client.enqueue(kindOf("proxied"), { n: 1 }, { delayMs: 3_600_000 });
    const seq = await seqOfId(client, task.id);
    const page = await get(dashboard, `/tasks/${seq}`);
    // a same-host proxy that rewrites Host: the socket and the name are loopback, the header is not
    const refused: [Record<string, string>, string][] = [
      [{ "x-forwarded-for": "203.0.113.7" }, "203.0.113.7"],
      [{ "x-forwarded-for": "127.0.0.1, 203.0.113.7" }, "203.0.113.7"], // any hop
      [{ "x-forwarded-for": "203.0.113.7, 127.0.0.1" }, "203.0.113.7"],
      [{ "x-forwarded-for": "203.0.113.7:51234" }, "203.0.113.7"],
      [{ forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' }, "2001:db8:cafe::17"],
      [{ forwarded: "for=127.0.0.1, for=198.51.100.4;by=127.0.0.1" }, "198.51.100.4"],
      [{ forwarded: "For=unknown" }, "unknown"], // not known to be this machine
      [{ forwarded: "for=_hidden" }, "_hidden"],
      [{ "x-real-ip": "192.0.2.9" }, "192.0.2.9"],
      [{ "x-forwarded-for": "::ffff:10.0.0.1" }, "::ffff:10.0.0.1"],
    ];
    for (const [headers, client] of refused) {
      const r = await get(dashboard, "/", headers);
      expect([headers, r.status]).toEqual([headers, 403]);
      expect(r.text).toContain(
        `this dashboard has no token, so it serves this machine only, and a proxy says this request came from ${JSON.stringify(client).replaceAll('"', "&quot;")}`,
      );
      expect(logged.at(-1)?.fields).toMatchObject({
        component: "dashboard",
        level: "warn",
        refused: "forwarded",
        client,
      });
    }
    // an action through such a proxy does not happen
    const cancel = await post(dashboard, `/tasks/${seq}/cancel`, [["_csrf", csrfOf(page)]], {
      "x-forwarded-for": "203.0.113.7",
    });
    expect(cancel.status).toBe(403);
    expect((await client.get(task.id))?.status).toBe("queued");
    expect(logged.at(-1)?.fields).toMatchObject({
      refused: "forwarded",
      method: "POST",
      remote: "127.0.0.1",
    });
    // a proxy that names this machine is this machine
    const local: Record<string, string>[] = [
      { "x-forwarded-for": "127.0.0.1" },
      { "x-forwarded-for": "127.0.0.1, ::1" },
      { forwarded: 'for="[::1]:5000"' },
      { "x-real-ip": "127.0.0.1" },
    ];
    for (const headers of local)
      expect([headers, (await get(dashboard, "/", headers)).status]).toEqual([headers, 200]);
    // with a token, the token is what protects it: the proxy may forward anyone
    const guarded = await open(sqliteStore(), { token: "a-long-enough-token" });
    expect((await get(guarded.dashboard, "/", { "x-forwarded-for": "203.0.113.7" })).location).toBe("/login");
    // over a real socket, as behind nginx on the same host
    const running = await startDashboard({ client, port: 0, logger: { info: () => undefined } });
    closers.push(() => running.close());
    const proxied = await fetch(running.url, { headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(proxied.status).toBe(403);
    expect((await fetch(running.url)).status).toBe(200);
  });

  it("without a token, refuses to serve when it cannot see the socket, and says what to do", async () => {
    const { dashboard, logged } = await open(sqliteStore());
    const blind = "so it cannot tell this machine from another: set a token, or pass the socket to its fetch";
    for (const path of ["/", "/tasks", "/api/overview", "/api/tasks/1/live"]) {
      const r = await dashboard.fetch(new Request(`http://localhost:9465${path}`));
      expect([path, r.status]).toEqual([path, 403]);
      expect(await r.text()).toContain(blind);
    }
    // said to the operator once, not once a request
    expect(logged.filter((l) => l.fields.refused === "no-socket")).toHaveLength(1);
    // mounted in a Hono app served without the env, the same; with it, served
    const parent = new Hono();
    parent.route("/", dashboard.app);
    expect((await parent.fetch(new Request(`${ORIGIN}/tasks`))).status).toBe(403);
    expect((await parent.fetch(new Request(`${ORIGIN}/tasks`), LOCAL)).status).toBe(200);
    // node:http: a wrapper that drops the env is refused; one that passes { incoming: req } is served
    const serve = async (passSocket: boolean) => {
      const server = createServer(async (req, res) => {
        const request = new Request(new URL(req.url ?? "/", `http://${req.headers.host}`), {
          headers: req.headers as Record<string, string>,
        });
        const response = await dashboard.fetch(request, passSocket ? { incoming: req } : undefined);
        res.writeHead(response.status).end(await response.text());
      });
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      closers.push(() => new Promise<void>((done) => server.close(() => done())));
      return (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)).status;
    };
    expect(await serve(false)).toBe(403);
    expect(await serve(true)).toBe(200);
    const served = createServer(getRequestListener(dashboard.fetch)); // the README's way
    served.listen(0, "127.0.0.1");
    await once(served, "listening");
    closers.push(() => new Promise<void>((done) => served.close(() => done())));
    expect((await fetch(`http://127.0.0.1:${(served.address() as AddressInfo).port}/`)).status).toBe(200);
  });

  it("refuses a huge form, an unreadable one, and an unknown schedule name, with a 4xx", async () => {
    const { client, dashboard } = await open(sqliteStore());
    await client.enqueue(kindOf("forms"), { n: 1 });
    const csrf = csrfOf(await get(dashboard, "/dead-letters"));
    const huge = await post(dashboard, "/dead-letters/redrive", [
      ["_csrf", csrf],
      ["seq", "1".repeat(70_000)],
    ]);
    expect(huge.status).toBe(413);
    expect(huge.text).toContain("a form of more than 64 KB was refused");
    const garbled = await dashboard.fetch(
      new Request(`${ORIGIN}/dead-letters/purge`, {
        method: "POST",
        body: "garbage",
        headers: { origin: ORIGIN, "content-type": "multipart/form-data; boundary=x" },
      }),
      LOCAL,
    );
    expect(garbled.status).toBe(400);
    for (const name of ["%3Cb%3E", "a%2Fb", "x".repeat(300)]) {
      const r = await post(dashboard, `/schedules/${name}/resume`, [["_csrf", csrf]]);
      expect([name, r.status]).toEqual([name, 404]);
    }
  });

  it("shows payloads, results and errors as text: markup in them never runs", async () => {
    const { client, dashboard } = await open(sqliteStore());
    const payload = { x: "<script>alert(1)</script>", y: '"><img src=x onerror=alert(2)>' };
    const task = await client.enqueue(kindOf("xss"), payload);
    const page = await get(dashboard, `/tasks/${await seqOfId(client, task.id)}`);
    expect(page.text).not.toContain("<script>alert");
    expect(page.text).not.toContain("<img src=x");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const list = await get(dashboard, `/tasks?q=${encodeURIComponent('"><img src=x onerror=alert(3)>')}`);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain("<img src=x");
  });

  it("listens on loopback by default, and refuses any other address without a token", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    await expect(startDashboard({ client, host: "0.0.0.0", port: 0 })).rejects.toMatchObject({
      name: "ConfigError",
      option: "token",
    });
    const local = await startDashboard({ client, port: 0 });
    closers.push(() => local.close());
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const open = await startDashboard({
      client,
      host: "0.0.0.0",
      port: 0,
      token: "long-enough-token",
      allowPlainHttp: true, // a token on a network address over http needs it (or tls)
    });
    closers.push(() => open.close());
    const response = await fetch(`http://127.0.0.1:${open.port}/`, { redirect: "manual" });
    expect(response.status).toBe(302);
  });

  it("mounts under a base path: links, forms and the cookie use it", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    const dashboard: Dashboard = createDashboard({
      client,
      basePath: "/ops/taskq",
      logger: { info: () => undefined },
    });
    closers.push(() => dashboard.close());
    const page = await get(dashboard, "/ops/taskq/");
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/ops/taskq/tasks"');
    expect(page.text).toContain('src="/ops/taskq/assets/dashboard.js"');
    expect((await get(dashboard, "/ops/taskq/assets/uPlot.iife.min.js")).status).toBe(200);
    expect((await get(dashboard, "/tasks")).status).toBe(404);
    // mounted in the user's own Hono app: its guard and headers stay under the base path
    const parent = new Hono();
    parent.get("/health", (c) => c.text("ok"));
    parent.route("/", dashboard.app);
    parent.post("/api/orders", (c) => c.json({ ok: true }));
    expect((await parent.fetch(new Request(`${ORIGIN}/health`))).status).toBe(200);
    expect((await parent.fetch(new Request(`${ORIGIN}/api/orders`, { method: "POST" }))).status).toBe(200);
    expect((await parent.fetch(new Request(`${ORIGIN}/ops/taskq`), LOCAL)).status).toBe(200); // the links' form
    // at the root of the user's app too: the dashboard's middleware runs on its own paths only
    const rooted = createDashboard({
      client,
      token: "a-long-enough-token",
      logger: { info: () => undefined },
    });
    closers.push(() => rooted.close());
    const host = new Hono();
    host.route("/", rooted.app);
    host.get("/later", (c) => c.text("mine"));
    host.post("/api/orders", (c) => c.json({ ok: true }));
    expect((await host.fetch(new Request(`${ORIGIN}/later`))).status).toBe(200);
    expect(
      (await host.fetch(new Request(`${ORIGIN}/api/orders`, { method: "POST", body: "x".repeat(70_000) })))
        .status,
    ).toBe(200);
    expect((await host.fetch(new Request(`${ORIGIN}/tasks`))).status).toBe(302); // the dashboard's own: guarded
    expect(page.text).toContain('<a class="brand" href="/ops/taskq">');
  });

  it("the live overview: the fragment with the counts and the chart samples", async () => {
    const { client, dashboard } = await open(sqliteStore());
    await client.enqueue(kindOf("live"), { n: 1 });
    const reply = await get(dashboard, "/api/overview");
    const body = JSON.parse(reply.text) as { html: string; history: unknown[]; now: number };
    expect(countOf({ ...reply, text: body.html }, "queued")).toBe("1");
    expect(Array.isArray(body.history)).toBe(true);
    expect(body.now).toBeGreaterThan(0);
  });
});

describe("TLS, and the session cookie behind a proxy", () => {
  const TOKEN = "tls-test-token-7Qx";
  const quiet = { info: () => undefined };
  let tls: SelfSigned;
  beforeAll(() => {
    tls = selfSigned();
  });

  /** A request over https that trusts the test's own certificate (and no other). */
  const overHttps = (
    url: string,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ) =>
    new Promise<Reply & { hsts: string | null }>((resolve, reject) => {
      const request = httpsRequest(
        url,
        { method: init.method ?? "GET", headers: init.headers, ca: tls.cert },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              text,
              location: res.headers.location ?? null,
              cookie: res.headers["set-cookie"]?.join(", ") ?? null,
              hsts: (res.headers["strict-transport-security"] as string | undefined) ?? null,
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(init.body);
    });

  it("serves https with its own certificate; the sign-in's cookie is Secure", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    const running = await startDashboard({
      client,
      port: 0,
      token: TOKEN,
      logger: quiet,
      tls: { cert: tls.cert, key: Buffer.from(tls.key) },
    });
    closers.push(() => running.close());
    expect(running.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const login = await overHttps(`${running.url}login`);
    expect(login.status).toBe(200);
    // over its own TLS it asks browsers to come back over https only (this host, a year)
    expect(login.hsts).toBe("max-age=31536000");
    const origin = running.url.slice(0, -1);
    const signedIn = await overHttps(`${running.url}login`, {
      method: "POST",
      body: new URLSearchParams({ _csrf: csrfOf(login), token: TOKEN }).toString(),
      headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.cookie).toMatch(/^taskq_dashboard=[^;]+;.*; Secure/);
    const cookie = signedIn.cookie?.split(";")[0] as string;
    expect((await overHttps(`${running.url}tasks`, { headers: { cookie } })).status).toBe(200);
  });

  it("the cookie is Secure behind a trusted proxy that says https, never on an untrusted peer's word", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    const dashboard = createDashboard({
      client,
      token: TOKEN,
      logger: quiet,
      trustProxy: ["127.0.0.1", "10.0.0.0/8"],
    });
    const untrusting = createDashboard({ client, token: TOKEN, logger: quiet });
    closers.push(
      () => dashboard.close(),
      () => untrusting.close(),
    );
    /** The sign-in's Set-Cookie, the request from `peer` (a socket as @hono/node-server gives it). */
    const cookieOf = async (d: Dashboard, peer: string | undefined, headers: Record<string, string>) => {
      const login = await get(d, "/login");
      const response = await d.fetch(
        new Request(`${ORIGIN}/login`, {
          method: "POST",
          body: new URLSearchParams({ _csrf: csrfOf(login), token: TOKEN }).toString(),
          headers: { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded", ...headers },
        }),
        peer === undefined
          ? undefined
          : { incoming: { socket: { remoteAddress: peer, remotePort: 50_000 } } },
      );
      expect(response.status).toBe(303);
      return response.headers.get("set-cookie") ?? "";
    };
    const https = { "x-forwarded-proto": "https" };
    const secure: [string, Dashboard, string | undefined, Record<string, string>, boolean][] = [
      ["a trusted CIDR, X-Forwarded-Proto", dashboard, "10.1.2.3", https, true],
      [
        "a trusted address, Forwarded",
        dashboard,
        "127.0.0.1",
        { forwarded: 'for=203.0.113.9;proto="https"' },
        true,
      ],
      ["a trusted CIDR, IPv4-mapped", dashboard, "::ffff:10.0.0.7", https, true],
      ["an untrusted peer", dashboard, "192.0.2.50", https, false],
      ["an untrusted peer, Forwarded", dashboard, "192.0.2.50", { forwarded: "proto=https" }, false],
      ["a trusted peer saying http", dashboard, "10.1.2.3", { "x-forwarded-proto": "http" }, false],
      ["no socket to see", dashboard, undefined, https, false],
      ["no trustProxy (the default)", untrusting, "127.0.0.1", https, false],
    ];
    for (const [name, d, peer, headers, expected] of secure) {
      const cookie = await cookieOf(d, peer, headers);
      expect([name, cookie.startsWith("taskq_dashboard=")]).toEqual([name, true]);
      expect([name, /; Secure/.test(cookie)]).toEqual([name, expected]);
    }
  });

  it("behind a trusted proxy that says https, a form posted from the https page passes the origin check; from an untrusted peer it does not", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    const dashboard = createDashboard({ client, token: TOKEN, logger: quiet, trustProxy: ["10.0.0.0/8"] });
    closers.push(() => dashboard.close());
    const login = await get(dashboard, "/login");
    // the browser's page is https://...; the proxy asks this process over http (no Sec-Fetch-Site:
    // an older browser), so only the proxy's word makes the two origins one
    const post = (peer: string) =>
      dashboard.fetch(
        new Request(`${ORIGIN}/login`, {
          method: "POST",
          body: new URLSearchParams({ _csrf: csrfOf(login), token: TOKEN }).toString(),
          headers: {
            origin: ORIGIN.replace("http:", "https:"),
            "x-forwarded-proto": "https",
            "content-type": "application/x-www-form-urlencoded",
          },
        }),
        { incoming: { socket: { remoteAddress: peer, remotePort: 50_000 } } },
      );
    expect((await post("10.1.2.3")).status).toBe(303);
    expect((await post("192.0.2.50")).status).toBe(403);
  });

  it("refuses a token on a network address over plain http, bad TLS and bad trustProxy, before listening", async () => {
    const client = await connect({ store: sqliteStore() });
    closers.push(() => client.close());
    await expect(startDashboard({ client, host: "0.0.0.0", port: 0, token: TOKEN })).rejects.toMatchObject({
      name: "ConfigError",
      option: "tls",
      message:
        "the dashboard would send its token and session cookie unencrypted on 0.0.0.0: give it tls { cert, key }, or allowPlainHttp: true behind a TLS proxy",
    });
    const served = await startDashboard({
      client,
      host: "0.0.0.0",
      port: 0,
      token: TOKEN,
      logger: quiet,
      tls: { cert: tls.cert, key: tls.key },
    });
    closers.push(() => served.close());
    expect(served.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+\/$/);
    const bad: [object, string][] = [
      [{ cert: tls.cert, key: tls.otherKey }, "tls.key is not the key of the certificate in tls.cert"],
      [{ cert: "not a certificate", key: tls.key }, "tls.cert is not a PEM certificate"],
      [{ cert: tls.cert, key: "not a key" }, "tls.key is not a PEM private key"],
      [{ cert: tls.cert }, "tls.key must be a PEM private key (string or Buffer)"],
      [{ cert: "cert.pem", key: "key.pem" }, "tls.cert is not a PEM certificate"],
    ];
    for (const [given, message] of bad)
      await expect(
        startDashboard({ client, port: 0, token: TOKEN, tls: given as { cert: string; key: string } }),
      ).rejects.toMatchObject({ name: "ConfigError", option: "tls", message });
    for (const trustProxy of [["proxy.example"], ["10.0.0.0/33"], ["10.0.0.1/8/8"], "127.0.0.1"])
      expect(() => createDashboard({ client, logger: quiet, trustProxy: trustProxy as string[] })).toThrow(
        expect.objectContaining({ name: "ConfigError", option: "trustProxy" }),
      );
  });
});
