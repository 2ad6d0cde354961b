#!/usr/bin/env node
// How fast the dashboard answers on a big store (issue 23: the overview and a page of the task
// list in under 100 ms with 10 million tasks). Fills a store once, then times each page over
// HTTP, as a browser asks for it, and prints the median and p95 of --rounds requests per page.
//
//   node packages/dashboard/bench/big-store.mjs [--tasks 10000000] [--rounds 30] [--count-cap 10000]
//     [--store sqlite --db FILE | --store postgres --pg-url URL]
//
// The store: --tasks tasks of three kinds (resize 60%, email 30%, report 10%); the last 100,000
// queued (a tenth of them due in an hour), one in a thousand failed (with its dead letter), one
// in a thousand cancelled, the rest succeeded (on PostgreSQL each also filed in its state's table:
// task_ready, task_done). One task in ten carries a tag `tenant:<n>` (1,000
// tenants of about 1,000 tasks each, spread over the whole store), one in a thousand `import` as
// well (those are the failed ones): the task_tags index holds about 1,010,000 entries. Filled by INSERT ... SELECT in batches of 500,000
// (the store's indexes maintained as they would be), not through enqueue: that would take hours.
// --db (SQLite) or the PostgreSQL database is reused when it already holds --tasks tasks.
// PostgreSQL: the database in --pg-url (its `taskq` schema), or a throwaway durable server from
// scripts/postgres-server.mjs. Run after `pnpm build`, on a quiet machine.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDashboard } from "@taskq/dashboard";
import { connect } from "taskq";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "10000000" },
    rounds: { type: "string", default: "30" },
    "count-cap": { type: "string", default: "10000" },
    store: { type: "string", default: "sqlite" },
    db: { type: "string" },
    "pg-url": { type: "string" },
  },
});
const [total, rounds, countCap] = [values.tasks, values.rounds, values["count-cap"]].map(Number);
if (
  !["sqlite", "postgres"].includes(values.store) ||
  ![total, rounds, countCap].every((n) => Number.isInteger(n) && n >= 1)
) {
  console.error(
    "usage: big-store.mjs [--tasks N] [--rounds N] [--count-cap N] [--store sqlite --db FILE | --store postgres --pg-url URL]",
  );
  process.exit(2);
}
const QUEUED = Math.min(100_000, Math.floor(total / 10));
const BATCH = 500_000;

let server;
let store;
if (values.store === "postgres") {
  if (values["pg-url"]) store = values["pg-url"];
  else {
    const { startPostgres } = await import(
      new URL("../../../scripts/postgres-server.mjs", import.meta.url).href
    );
    server = await startPostgres({ durable: true });
    store = server.url;
  }
} else store = values.db ?? join(tmpdir(), `taskq-big-store-${total}.db`);

// Row i (1-based) of the store: its kind, status and times, as SQL over `i` and the fill's start `t0`.
const kindSql = "CASE WHEN i % 10 = 0 THEN 'report' WHEN i % 10 < 4 THEN 'email' ELSE 'resize' END";
const statusSql = (last) =>
  `CASE WHEN i > ${last} THEN 'queued' WHEN i % 1000 = 0 THEN 'failed' WHEN i % 1000 = 500 THEN 'cancelled' ELSE 'succeeded' END`;
const columns =
  "id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at, result, error_class, error_message, version, next_run_at, started_at, finished_at, priority, rank_at, tags";
function selectSql(t0, last, concat) {
  const c = (...parts) => (concat === "||" ? parts.join(" || ") : `concat(${parts.join(", ")})`);
  const status = statusSql(last);
  const runAt = `CASE WHEN i > ${last} AND i % 10 = 0 THEN ${t0} + 3600000 ELSE ${t0} - ${total} + i END`;
  return `SELECT ${c("'task-'", "i")}, ${c("'key-'", "i")}, ${kindSql}, ${c("'{\"n\":'", "i", "'}'")}, ${status},
    CASE WHEN i > ${last} THEN 0 ELSE 1 END, 3, ${t0} - ${total} + i, ${t0} - ${total} + i + 50,
    CASE WHEN i > ${last} OR i % 1000 IN (0, 500) THEN NULL ELSE ${c("'{\"ok\":'", "i", "'}'")} END,
    CASE WHEN i <= ${last} AND i % 1000 = 0 THEN 'PermanentError' END,
    CASE WHEN i <= ${last} AND i % 1000 = 0 THEN 'told to fail' END,
    CASE WHEN i > ${last} THEN 0 ELSE 2 END, ${runAt},
    CASE WHEN i > ${last} THEN NULL ELSE ${t0} - ${total} + i + 10 END,
    CASE WHEN i > ${last} THEN NULL ELSE ${t0} - ${total} + i + 50 END, 0, ${runAt},
    CASE WHEN i % 1000 = 0 THEN ${c("'[\"tenant:'", "((CAST(i AS INTEGER) / 10) % 1000)", '\'","import"]\'')}
      WHEN i % 10 = 0 THEN ${c("'[\"tenant:'", "((CAST(i AS INTEGER) / 10) % 1000)", "'\"]'")} END`;
}
const deadLettersSql =
  "INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at) SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, finished_at FROM tasks WHERE status = 'failed'";

/** PostgreSQL's state tables from the tasks' statuses, as migration 013 builds them. */
const stateTablesSql = [
  "INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority) SELECT seq, kind, rank_at, next_run_at, priority FROM tasks WHERE status = 'queued'",
  "INSERT INTO task_leases (seq, kind, owner, expires_at) SELECT seq, kind, COALESCE(lease_owner, ''), COALESCE(lease_expires_at, 0) FROM tasks WHERE status = 'running'",
  "INSERT INTO task_done (seq, kind, status, finished_at) SELECT seq, kind, status, COALESCE(finished_at, updated_at) FROM tasks WHERE status IN ('succeeded', 'failed', 'cancelled')",
];

async function fillSqlite(t0) {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(store);
  db.pragma("journal_mode = WAL");
  const have = db.prepare("SELECT count(*) AS n FROM tasks").get().n;
  if (have === total) return db.close();
  if (have !== 0)
    throw new Error(`${store} holds ${have} tasks, not ${total}: remove it or pass another --db`);
  const insert = db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT @from UNION ALL SELECT i + 1 FROM n WHERE i < @to) INSERT INTO tasks (${columns}) ${selectSql(t0, total - QUEUED, "||")} FROM n`,
  );
  for (let from = 1; from <= total; from += BATCH) {
    db.transaction(() => insert.run({ from, to: Math.min(total, from + BATCH - 1) }))();
    process.stderr.write(`\rfilled ${Math.min(total, from + BATCH - 1).toLocaleString("en-US")} tasks`);
  }
  db.exec(deadLettersSql);
  db.exec("ANALYZE");
  db.close();
  process.stderr.write("\n");
}

async function fillPostgres(t0) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: store });
  await client.connect();
  try {
    await client.query("SET search_path TO taskq");
    const have = Number((await client.query("SELECT count(*) AS n FROM tasks")).rows[0].n);
    if (have === total) return;
    if (have !== 0) throw new Error(`the database holds ${have} tasks, not ${total}: use another`);
    for (let from = 1; from <= total; from += BATCH) {
      const to = Math.min(total, from + BATCH - 1);
      await client.query(
        `INSERT INTO tasks (${columns}) ${selectSql(t0, total - QUEUED, "concat")} FROM generate_series(${from}::bigint, ${to}::bigint) AS g(i)`,
      );
      process.stderr.write(`\rfilled ${to.toLocaleString("en-US")} tasks`);
    }
    await client.query(deadLettersSql);
    // the queue's states, filed as the store files them (migration 013: a row in task_ready for
    // a queued task, task_leases for a running one, task_done for a finished one)
    for (const sql of stateTablesSql) await client.query(sql);
    for (const table of ["tasks", "dead_letters", "task_ready", "task_leases", "task_done"])
      await client.query(`VACUUM ANALYZE ${table}`);
    process.stderr.write("\n");
  } finally {
    await client.end();
  }
}

const fresh = values.store === "sqlite" && !existsSync(store);
const client = await connect({ store }); // creates the schema
const t0 = await client.store.now();
const started = performance.now();
await (values.store === "sqlite" ? fillSqlite(t0) : fillPostgres(t0));
if (performance.now() - started > 1000 || fresh)
  console.log(`filled in ${((performance.now() - started) / 1000).toFixed(0)} s`);

const dashboard = await startDashboard({ client, port: 0, countCap, logger: { info: () => undefined } });
const pages = [
  ["overview page", ""],
  ["overview refresh (live JSON)", "api/overview"],
  ["tasks, newest first", "tasks"],
  ["tasks, 2nd page", `tasks?before=${total - 49}`],
  ["tasks: failed", "tasks?status=failed"],
  ["tasks: queued of kind email", "tasks?status=queued&kind=email"],
  ["tasks: succeeded (under the queued backlog)", "tasks?status=succeeded"],
  ["tasks: failed of kind email", "tasks?status=failed&kind=email"],
  [
    "tasks: cancelled, 100th page",
    `tasks?status=cancelled&before=${Math.max(1, total - QUEUED - 100 * 50 * 1000)}`,
  ],
  ["tasks: tagged tenant:42 (about 1,000 over the store)", "tasks?tag=tenant%3A42"],
  ["tasks: tagged tenant:42, 2nd page", `tasks?tag=tenant%3A42&before=${Math.ceil(total / 2)}`],
  [
    "tasks: tagged tenant:42 and failed (none: every entry of the tag read)",
    "tasks?tag=tenant%3A42&status=failed",
  ],
  ["tasks: tagged import and failed", "tasks?tag=import&status=failed"],
  ["find by idempotency key", `tasks?q=key-${Math.floor(total / 2)}`],
  ["a task's page", `tasks/${Math.floor(total / 3)}`],
  ["dead letters", "dead-letters"],
  ["dead letters of kind report (all the failed tasks are reports)", "dead-letters?kind=report"],
  ["dead letters of kind email (none: every failed task's entry read)", "dead-letters?kind=email"],
  ["the charts' last ten minutes from the store", "api/history"],
];
const results = [];
try {
  for (const [name, path] of pages) {
    const times = [];
    for (let round = 0; round <= rounds; round++) {
      const start = performance.now();
      const response = await fetch(`${dashboard.url}${path}`, { redirect: "manual" });
      await response.text();
      if (response.status >= 400) throw new Error(`${path}: HTTP ${response.status}`);
      if (round > 0) times.push(performance.now() - start); // the first warms the caches
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.ceil(times.length * q) - 1)];
    results.push({ page: name, path: `/${path}`, medianMs: at(0.5), p95Ms: at(0.95) });
  }
} finally {
  await dashboard.close();
  await client.close();
  await server?.stop();
}
const counted = `${total.toLocaleString("en-US")} tasks, ${values.store}, countCap ${countCap}, ${rounds} requests a page after one to warm up`;
console.log(`\n${counted}\n| page | median ms | p95 ms |\n| --- | --- | --- |`);
for (const r of results)
  console.log(`| ${r.page} (\`${r.path}\`) | ${r.medianMs.toFixed(1)} | ${r.p95Ms.toFixed(1)} |`);
const worst = Math.max(...results.map((r) => r.p95Ms));
console.log(`\nslowest p95: ${worst.toFixed(1)} ms (target: under 100 ms)`);
