#!/usr/bin/env node
// Where a drain worker's time and memory go: `createWorker` on the no-op handler, in this process,
// draining a backlog of no-op tasks stored first (not measured) on PostgreSQL. Prints tasks/s, the
// process's CPU a task (its handler threads included), the time V8 spent collecting garbage, and
// with --heap the bytes allocated a task (V8's sampling heap profiler, counting the objects minor
// and major collections freed) with the functions that allocated most. --cpu FILE writes a CPU
// profile of the drain (open it in Chrome's DevTools). Unlike `taskq-bench drain`, nothing else
// runs in the process, and the process's own start-up and the fill are not measured (the worker's
// start is): a lens on the worker's own path, not a figure to set beside graphile-worker. The
// probe asks the narrow state tables (task_ready, task_leases), not the task rows.
//
//   node apps/bench/scripts/drain-profile.mjs [--tasks 100000] [--worker-options '{"threads":0}']
//     [--heap] [--cpu FILE] [--pg-url URL]
//
// PostgreSQL: the server at --pg-url (a role that may CREATE DATABASE), or a throwaway durable one
// (scripts/postgres-server.mjs); a new database, dropped at the end. Run after `pnpm build`.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { connect, createWorker } from "taskq";
import { benchServer } from "../../../scripts/bench-server.mjs";

const USAGE =
  "usage: drain-profile.mjs [--tasks N] [--worker-options JSON] [--heap] [--cpu FILE] [--pg-url URL]";
let values;
try {
  ({ values } = parseArgs({
    options: {
      tasks: { type: "string", default: "100000" },
      "worker-options": { type: "string", default: "{}" },
      heap: { type: "boolean", default: false },
      cpu: { type: "string" },
      "pg-url": { type: "string" },
    },
  }));
} catch (error) {
  console.error(`${error.message.split("\n")[0]} ${USAGE}`);
  process.exit(2);
}
const tasks = Number(values.tasks);
if (!Number.isInteger(tasks) || tasks < 1) {
  console.error(`--tasks must be a positive integer, got ${values.tasks}. ${USAGE}`);
  process.exit(2);
}
let workerOptions;
try {
  workerOptions = JSON.parse(values["worker-options"]);
} catch {
  console.error(`--worker-options must be JSON, got ${values["worker-options"]}. ${USAGE}`);
  process.exit(2);
}

const CHUNK = 10_000;
const server = await benchServer(values["pg-url"], pg);
/** Closed in `finally`, whether the drain ended or failed. */
const open = [];
try {
  const { url } = await server.freshDatabase("drainprof");
  const client = await connect({ store: url });
  for (let n = 0; n < tasks; n += CHUNK)
    await client.enqueueMany(
      "noop",
      Array.from({ length: Math.min(CHUNK, tasks - n) }, (_, i) => ({ n: n + i })),
    );
  await client.close();

  const gc = { ms: 0, count: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.ms += entry.duration;
      gc.count++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const session = new Session();
  session.connect();
  open.push(() => session.disconnect());
  if (values.heap)
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  if (values.cpu) {
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  open.push(() => probe.end());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = await createWorker({
    ...workerOptions,
    store: url,
    handlers: { noop: new URL("../dist/noop-handler.js", import.meta.url) },
  });
  open.push(() => worker.close());
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { rows } = await probe.query(
      "SELECT EXISTS (SELECT 1 FROM taskq.task_ready) OR EXISTS (SELECT 1 FROM taskq.task_leases) AS left",
    );
    if (!rows[0].left) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  observer.disconnect();
  const lines = [
    `${tasks} tasks drained at ${Math.round(tasks / seconds)} tasks/s, CPU ${((cpu.user + cpu.system) / tasks).toFixed(1)} µs a task, GC ${Math.round(gc.ms)} ms in ${gc.count} collections (${((gc.ms * 1000) / tasks).toFixed(1)} µs a task)`,
  ];
  if (values.cpu) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(values.cpu, JSON.stringify(profile));
    lines.push(`CPU profile: ${values.cpu}`);
  }
  if (values.heap) {
    const { profile } = await session.post("HeapProfiler.stopSampling");
    const bySite = new Map();
    let total = 0;
    const walk = (node) => {
      const frame = node.callFrame;
      const site = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*node_modules\//, "")}:${frame.lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
      total += node.selfSize;
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    lines.push(`allocated ${Math.round(total / tasks)} bytes a task; most by:`);
    for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 12))
      lines.push(`  ${String(Math.round(bytes / tasks)).padStart(6)} B  ${site}`);
  }
  console.log(lines.join("\n"));
} catch (error) {
  // an unreachable server, a bad worker option: one line (pg's messages hold no password)
  console.error(`drain-profile.mjs: ${error.message}`);
  process.exitCode = 1;
} finally {
  for (const close of open.reverse()) await Promise.resolve(close()).catch(() => undefined);
  await server.stop();
}
