#!/usr/bin/env node
// Bulk enqueue through the producer API: `client.enqueueMany(kind, payloads)` of N tasks in one
// call (one transaction), into a fresh store, repeated; prints tasks/s per run and the median.
//
//   node packages/taskq/bench/enqueue-many.mjs [--tasks 100000] [--repeat 3] [--store sqlite|postgres]
//     [--pg-url URL]
//
// PostgreSQL: the server at --pg-url (a role that may CREATE DATABASE), or a throwaway durable one
// from scripts/postgres-server.mjs; a new database per run.
// Run after `pnpm build`, on a quiet machine.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { connect } from "taskq";
import { benchServer } from "../../../scripts/bench-server.mjs";

const USAGE = "usage: enqueue-many.mjs [--tasks N] [--repeat R] [--store sqlite|postgres] [--pg-url URL]";
let values;
try {
  ({ values } = parseArgs({
    options: {
      tasks: { type: "string", default: "100000" },
      repeat: { type: "string", default: "3" },
      store: { type: "string", default: "sqlite" },
      "pg-url": { type: "string" },
    },
  }));
} catch (error) {
  console.error(`${error.message.split("\n")[0]} ${USAGE}`);
  process.exit(2);
}
const tasks = Number(values.tasks);
const repeat = Number(values.repeat);
if (
  !Number.isInteger(tasks) ||
  tasks < 1 ||
  !Number.isInteger(repeat) ||
  repeat < 1 ||
  !["sqlite", "postgres"].includes(values.store)
) {
  console.error(USAGE);
  process.exit(2);
}

const server = values.store === "postgres" ? await benchServer(values["pg-url"], pg) : undefined;
const rates = [];
try {
  for (let run = 1; run <= repeat; run++) {
    let store;
    let dir;
    if (server) {
      store = (await server.freshDatabase("enqueue")).url;
    } else {
      dir = mkdtempSync(join(tmpdir(), "taskq-enqueue-"));
      store = join(dir, "tasks.db");
    }
    const client = await connect({ store });
    // payloads like an application's: an id and a little data each, keyed by their hash
    const payloads = Array.from({ length: tasks }, (_, n) => ({ order: `o-${run}-${n}`, amount: n % 1000 }));
    const start = performance.now();
    const enqueued = await client.enqueueMany("charge", payloads);
    const seconds = (performance.now() - start) / 1000;
    if (enqueued.length !== tasks || enqueued.some((e) => e.duplicate))
      throw new Error("not every task was stored");
    rates.push(tasks / seconds);
    console.log(
      `run ${run}: ${tasks} tasks in ${seconds.toFixed(2)} s, ${Math.round(tasks / seconds)} tasks/s`,
    );
    await client.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
} catch (error) {
  // an unreachable server, a store that cannot open: one line (pg's messages hold no password)
  console.error(`enqueue-many.mjs: ${error.message}`);
  process.exitCode = 1;
} finally {
  await server?.stop();
}
const sorted = [...rates].sort((a, b) => a - b);
if (process.exitCode !== 1)
  console.log(
    `enqueueMany of ${tasks} on ${values.store}: median ${Math.round(sorted[Math.floor(sorted.length / 2)])} tasks/s [${Math.round(sorted[0])}-${Math.round(sorted[sorted.length - 1])}] over ${repeat} runs`,
  );
