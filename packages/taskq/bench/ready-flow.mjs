#!/usr/bin/env node
// How fast ready tasks flow through a worker (take → run a no-op → succeed), in two stores side
// by side, alternated round by round in one series:
//
//   --compare delayed  A: a fresh store; B: the same plus --delayed tasks of the same kind, due in
//                      an hour (issue 22: the delayed ones should cost nothing until due). With
//                      --baseline sized, A holds as many tasks of a kind no worker serves (ready,
//                      not delayed): the same store size, so B/A is the delayed tasks' own cost
//   --compare limit    A: no limits; B: a concurrency limit set on the kind, high enough never to
//                      bind (what the limit check itself costs a take)
//   --compare groups   A: no groups; B: the kind grouped (a per-group limit high enough never to
//                      bind) and each round's tasks spread over --groups groups (issue 35: a take
//                      that rotates between 10,000 groups, against a take without groups)
//
//   node packages/taskq/bench/ready-flow.mjs --compare delayed|limit|groups [--store sqlite|postgres]
//     [--ready 20000] [--delayed 1000000] [--groups 10000] [--rounds 3] [--baseline empty|sized]
//
// Each round enqueues --ready tasks into each store (enqueueMany, not timed) while its worker
// (inline no-op handler, 64 slots) runs, and times from their commit to the last one succeeded.
// PostgreSQL: --pg-url (a role that may CREATE DATABASE; the stores are dropped after), or a
// throwaway durable server from scripts/postgres-server.mjs. Run after `pnpm build`,
// on a quiet machine.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { connect, createWorker } from "taskq";
import { benchServer } from "../../../scripts/bench-server.mjs";

const USAGE =
  "usage: ready-flow.mjs --compare delayed|limit|groups [--store sqlite|postgres] [--ready N] [--delayed N] [--groups N] [--rounds N] [--baseline empty|sized] [--pg-url URL]";
let values;
try {
  ({ values } = parseArgs({
    options: {
      compare: { type: "string" },
      store: { type: "string", default: "sqlite" },
      ready: { type: "string", default: "20000" },
      delayed: { type: "string", default: "1000000" },
      groups: { type: "string", default: "10000" },
      rounds: { type: "string", default: "3" },
      baseline: { type: "string", default: "empty" },
      "pg-url": { type: "string" },
    },
  }));
} catch (error) {
  console.error(`ready-flow.mjs: ${error.message.split("\n")[0]} ${USAGE}`);
  process.exit(2);
}
const [ready, delayed, groups, rounds] = [values.ready, values.delayed, values.groups, values.rounds].map(
  Number,
);
if (
  !["delayed", "limit", "groups"].includes(values.compare) ||
  !["sqlite", "postgres"].includes(values.store) ||
  !["empty", "sized"].includes(values.baseline) ||
  ![ready, delayed, groups, rounds].every((n) => Number.isInteger(n) && n >= 1)
) {
  console.error(USAGE);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "taskq-ready-flow-"));
const handler = join(dir, "noop.mjs");
writeFileSync(handler, "export default async function noop() { return null; }\n");
const server = values.store === "postgres" ? await benchServer(values["pg-url"], pg) : undefined;

/** A fresh store: a SQLite file, or a new database on the server. */
async function freshStore(name) {
  if (!server) return join(dir, `${name}.db`);
  return (await server.freshDatabase(name)).url;
}

const kind = "tick";
const setups = {};
try {
  for (const name of ["a", "b"]) {
    const store = await freshStore(`flow_${name}`);
    const client = await connect({ store });
    const sized = name === "a" && values.compare === "delayed" && values.baseline === "sized";
    if ((name === "b" && values.compare === "delayed") || sized) {
      const started = performance.now();
      for (let n = 0; n < delayed; n += 50_000) {
        const batch = Array.from({ length: Math.min(50_000, delayed - n) }, (_, i) => ({ later: n + i }));
        if (sized) await client.enqueueMany("unserved", batch);
        else await client.enqueueMany(kind, batch, { delayMs: 3_600_000 });
      }
      const what = sized ? "ready tasks of a kind no worker serves" : "delayed tasks";
      console.log(
        `${name.toUpperCase()}: ${delayed} ${what} stored in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    if (name === "b" && values.compare === "limit") await client.setLimits(kind, { concurrency: 1_000_000 });
    if (name === "b" && values.compare === "groups")
      await client.setLimits(kind, { perGroup: { concurrency: 1_000_000 } });
    setups[name] = { store, client };
  }
  const rates = { a: [], b: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const name of ["a", "b"]) {
      const { store, client } = setups[name];
      let done = 0;
      let finished;
      const all = new Promise((resolve) => (finished = resolve));
      const worker = await createWorker({
        store,
        handlers: { [kind]: handler },
        threads: 0,
        concurrency: 64,
        pollMs: 10,
        hooks: {
          succeeded: () => {
            if (++done === ready) finished();
          },
        },
      });
      const payloads = Array.from({ length: ready }, (_, n) => ({ round, n }));
      if (name === "b" && values.compare === "groups")
        await client.enqueueMany(kind, payloads, {
          perTask: payloads.map((_, n) => ({ group: `g${n % groups}` })),
        });
      else await client.enqueueMany(kind, payloads);
      const start = performance.now();
      await all;
      const seconds = (performance.now() - start) / 1000;
      await worker.close();
      rates[name].push(ready / seconds);
      console.log(
        `round ${round} ${name.toUpperCase()}: ${ready} ready tasks in ${seconds.toFixed(2)} s, ${Math.round(ready / seconds)} tasks/s`,
      );
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const show = (xs) =>
    `${Math.round(median(xs))} [${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}]`;
  const what =
    values.compare === "delayed"
      ? `with ${delayed} delayed tasks`
      : values.compare === "groups"
        ? `grouped, over ${groups} groups`
        : "with a concurrency limit on the kind";
  console.log(`${values.store}, ${ready} ready tasks a round, ${rounds} rounds alternated:`);
  console.log(
    `A (${values.compare === "delayed" && values.baseline === "sized" ? `${delayed} tasks of another kind` : "none"}): ${show(rates.a)} tasks/s; B (${what}): ${show(rates.b)} tasks/s; B/A ${((100 * median(rates.b)) / median(rates.a)).toFixed(1)}%`,
  );
} finally {
  for (const { client } of Object.values(setups)) await client.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
