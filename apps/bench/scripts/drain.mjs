#!/usr/bin/env node
// Draining a backlog on PostgreSQL (issue 24): N no-op tasks stored first (not timed), then
// worker processes started and timed until the store holds none left to run. Alternated system by
// system, round by round, in one series, each on a fresh database:
//
//   taskq            one `taskq serve --handler noop=...` process (its defaults)
//   taskq x2         two of them on the same database
//   graphile-worker  one graphile-worker 0.17 process, batched (localQueue of 500, completions
//                    batched), concurrency 24
//   graphile x2      two of them
//
//   node apps/bench/scripts/drain.mjs [--tasks 100000] [--rounds 3] [--pg-url URL]
//     [--systems taskq,taskq-x2,graphile-worker,graphile-worker-x2] [--taskq-args="--inline ..."]
//     [--systems taskq,taskq-a --a-cli OTHER/apps/cli/dist/bin.js]   (A/B: another build's serve)
//
// The clock starts when the processes are spawned (their start-up counts, for every system
// alike) and stops when a poll (every 50 ms) finds nothing left: taskq's queued or running tasks,
// graphile-worker's jobs table. PostgreSQL: --pg-url (a role that may CREATE DATABASE), or a
// throwaway durable server from scripts/postgres-server.mjs. Run after `pnpm build`, on a quiet
// machine.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import { connect } from "taskq";

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    "pg-url": { type: "string" },
    systems: { type: "string", default: "taskq,taskq-x2,graphile-worker,graphile-worker-x2" },
    "taskq-args": { type: "string", default: "" },
    "a-cli": { type: "string" },
  },
});
const [total, rounds] = [values.tasks, values.rounds].map(Number);
const SYSTEMS = {
  taskq: { processes: 1, kind: "taskq" },
  "taskq-x2": { processes: 2, kind: "taskq" },
  "taskq-a": { processes: 1, kind: "taskq", cli: "a" },
  "graphile-worker": { processes: 1, kind: "graphile" },
  "graphile-worker-x2": { processes: 2, kind: "graphile" },
};
const systems = values.systems.split(",");
if (
  ![total, rounds].every((n) => Number.isInteger(n) && n >= 1) ||
  !systems.every((s) => s in SYSTEMS) ||
  (systems.includes("taskq-a") && !values["a-cli"])
) {
  console.error(
    `usage: drain.mjs [--tasks N] [--rounds N] [--pg-url URL] [--systems ${Object.keys(SYSTEMS).join(",")}]`,
  );
  process.exit(2);
}

const here = new URL(".", import.meta.url).pathname;
const cli = new URL("../../cli/dist/bin.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "taskq-drain-"));
const handler = join(dir, "noop.mjs");
writeFileSync(handler, "export default async function noop() { return null; }\n");

const server = await (
  await import(new URL("../../../scripts/bench-server.mjs", import.meta.url).href)
).benchServer(values["pg-url"], pg);

/**
 * Stores the backlog (not timed); returns the SQL that says whether any is left: one index probe
 * (a count, polled every 50 ms, took 38 ms of the server's two cores a poll with 100,000 left).
 */
async function fill(kind, url) {
  const payloads = (from) =>
    Array.from({ length: Math.min(10_000, total - from) }, (_, i) => ({ n: from + i }));
  if (kind === "taskq") {
    const client = await connect({ store: url });
    for (let n = 0; n < total; n += 10_000) await client.enqueueMany("noop", payloads(n));
    await client.close();
    return "SELECT EXISTS (SELECT 1 FROM taskq.tasks WHERE status IN ('queued', 'running')) AS left";
  }
  const utils = await makeWorkerUtils({ connectionString: url });
  await utils.migrate();
  for (let n = 0; n < total; n += 10_000)
    await utils.addJobs(payloads(n).map((payload) => ({ identifier: "noop", payload })));
  await utils.release();
  return "SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS left";
}

function start(kind, url) {
  const args =
    kind === "taskq"
      ? [
          cli,
          "serve",
          "--db",
          url,
          "--handler",
          `noop=${handler}`,
          ...values["taskq-args"].split(" ").filter(Boolean),
        ]
      : [join(here, "drain-graphile-worker.mjs"), url, "24"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr += b));
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
  return { child, exited };
}

async function drainOnce(name) {
  const { kind, processes, cli: which } = SYSTEMS[name];
  const db = await server.freshDatabase("drain");
  const left = await fill(kind, db.url);
  const watcher = new pg.Client({ connectionString: db.url });
  await watcher.connect();
  const started = performance.now();
  const children = Array.from({ length: processes }, () => start(kind, db.url, which));
  try {
    for (;;) {
      const { rows } = await watcher.query(left);
      if (!rows[0].left) break;
      const dead = await Promise.race([
        ...children.map((c) => c.exited),
        new Promise((r) => setTimeout(r, 50, null)),
      ]);
      if (dead)
        throw new Error(
          `${name}: a worker exited early (${dead.code}): ${dead.stderr.trim().split("\n").at(-1)}`,
        );
    }
    return total / ((performance.now() - started) / 1000);
  } finally {
    for (const c of children) c.child.kill("SIGTERM");
    await Promise.all(children.map((c) => c.exited));
    await watcher.end();
    await server.drop(db.name);
  }
}

const rates = Object.fromEntries(systems.map((s) => [s, []]));
try {
  for (let round = 1; round <= rounds; round++) {
    for (const name of systems) {
      const rate = await drainOnce(name);
      rates[name].push(rate);
      console.log(`round ${round} ${name}: ${total} tasks drained at ${Math.round(rate)} tasks/s`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\n${total} no-op tasks, ${rounds} rounds alternated, medians [min-max] in tasks/s:`);
  for (const name of systems) {
    const xs = rates[name];
    console.log(
      `${name.padEnd(20)} ${Math.round(median(xs))} [${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}]`,
    );
  }
  const ratio = (a, b) => (a in rates && b in rates ? (median(rates[a]) / median(rates[b])).toFixed(2) : "-");
  console.log(
    `taskq / graphile-worker: ${ratio("taskq", "graphile-worker")}x; taskq x2 / taskq: ${ratio("taskq-x2", "taskq")}x; graphile-worker x2 / graphile-worker: ${ratio("graphile-worker-x2", "graphile-worker")}x`,
  );
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
