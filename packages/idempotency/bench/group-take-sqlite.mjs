#!/usr/bin/env node
// A grouped kind's take on SQLite against an ordinary one, at the store (issue 35): a fresh store
// of --tasks tasks of one kind, drained by takes of --take, each task succeeded before the next
// take. Shapes: plain (no groups, no limits), groups (the kind grouped, the tasks over --groups
// groups), one (the kind grouped, every task in one group: the take rotates over one group and the
// tasks without one). The cap is high enough never to bind. Prints µs a task for the takes alone
// and for the whole drain, per run; runs alternate the shapes. Light: one process, one store at a
// time; run after `pnpm build`, on a quiet machine.
//
//   node packages/idempotency/bench/group-take-sqlite.mjs [--tasks 20000] [--groups 10000] [--take 300] [--runs 3]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SqliteSyncStore, SqliteTaskStore } from "../dist/index.js";

const USAGE = "usage: group-take-sqlite.mjs [--tasks N] [--groups N] [--take N] [--runs N]";
let values;
try {
  ({ values } = parseArgs({
    options: {
      tasks: { type: "string", default: "20000" },
      groups: { type: "string", default: "10000" },
      take: { type: "string", default: "300" },
      runs: { type: "string", default: "3" },
    },
  }));
} catch (error) {
  console.error(`group-take-sqlite.mjs: ${error.message.split("\n")[0]} ${USAGE}`);
  process.exit(2);
}
const [tasks, groups, take, runs] = [values.tasks, values.groups, values.take, values.runs].map(Number);
if (![tasks, groups, take, runs].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error(USAGE);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "taskq-group-take-"));
/** One drain of a fresh store of `shape`: µs a task in takes, and in all. */
async function drain(shape) {
  const path = join(dir, `${shape}.db`);
  rmSync(path, { force: true });
  const s = new SqliteTaskStore(new SqliteSyncStore({ path }));
  try {
    if (shape !== "plain") await s.setKindLimits("k", { perGroup: { concurrency: 1_000_000 } });
    for (let n = 0; n < tasks; n += 5000)
      await s.enqueueMany(
        Array.from({ length: Math.min(5000, tasks - n) }, (_, j) => {
          const i = n + j;
          const group =
            shape === "groups" ? { group: `g${i % groups}` } : shape === "one" ? { group: "one" } : {};
          return { id: `t${i}`, idempotencyKey: `t${i}`, kind: "k", payload: "{}", maxAttempts: 3, ...group };
        }),
      );
    let taken = 0;
    let inTakes = 0;
    const start = performance.now();
    for (;;) {
      const at = performance.now();
      const rows = await s.takeNext(take);
      inTakes += performance.now() - at;
      if (rows.length === 0) break;
      taken += rows.length;
      await Promise.all(rows.map((r) => s.succeed(r.seq, r.version)));
    }
    const all = performance.now() - start;
    if (taken !== tasks) throw new Error(`${shape}: drained ${taken} of ${tasks} tasks`);
    return { take: (inTakes * 1000) / tasks, all: (all * 1000) / tasks };
  } finally {
    await s.close();
  }
}

const shapes = ["plain", "groups", "one"];
const results = Object.fromEntries(shapes.map((shape) => [shape, []]));
try {
  for (let run = 1; run <= runs; run++)
    for (const shape of shapes) {
      const r = await drain(shape);
      results[shape].push(r);
      console.log(
        `run ${run} ${shape}: takes ${r.take.toFixed(1)} µs a task, drain ${r.all.toFixed(1)} µs a task`,
      );
    }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const show = (xs) =>
    `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}]`;
  console.log(`${tasks} tasks, takes of ${take}, ${runs} runs alternated, µs a task, median [min-max]:`);
  for (const shape of shapes)
    console.log(
      `${shape}${shape === "groups" ? ` (${groups} groups)` : ""}: takes ${show(results[shape].map((r) => r.take))}; drain ${show(results[shape].map((r) => r.all))}`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
