// Growth bench: fills a store through the driver contract, 100 concurrent clients each claiming
// a task as running and completing it (the pool's fast path), and prints the throughput of every
// window and the store's size as it grows: does the cost stay flat as the store fills?
// Runs against the built package.
// Each window also prints the process's CPU time per task (all threads, with the kernel's share)
// and the bytes it read and wrote through the kernel per task (/proc/self/io: SQLite's page-cache
// misses are reads, its WAL appends and checkpoints are writes), to tell a store that does more
// work per task from a machine that runs the same work slower.
// Keys: `ordered` (img-N.ppm#thumb, each after the last) or `scattered` (the SHA-256 hex of the
// same text, as createQueue's default key and applications' UUIDs and hashes are: each insert
// lands on a random leaf of the key index).
// Usage: node bench/growth.mjs [tasks=2000000] [window=200000] [sqlite|postgres URL] [ordered|scattered]
//   postgres: give a URL (a fresh schema is made and dropped), or "postgres" for a throwaway
//   durable server from scripts/postgres-server.mjs.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTaskStore } from "../dist/index.js";

/** This process's bytes read and written through the kernel (/proc/self/io; Linux only). */
function procIo() {
  try {
    const text = readFileSync("/proc/self/io", "utf8");
    const field = (name) => Number(text.match(new RegExp(`^${name}: (\\d+)`, "m"))?.[1] ?? 0);
    return { read: field("rchar"), write: field("wchar") };
  } catch {
    return undefined;
  }
}

const total = Number(process.argv[2] ?? 2_000_000);
const window = Number(process.argv[3] ?? 200_000);
const target = process.argv[4] ?? "sqlite";
const keys = process.argv[5] ?? "ordered";
if (!["ordered", "scattered"].includes(keys)) {
  console.error(`keys must be ordered or scattered, got ${JSON.stringify(keys)}`);
  process.exit(2);
}
const keyOf =
  keys === "ordered"
    ? (n) => `img-${n}.ppm#thumb`
    : (n) => createHash("sha256").update(`img-${n}.ppm#thumb`).digest("hex");
const clients = 100;

const workDir = mkdtempSync(join(tmpdir(), "taskq-growth-"));
let stopServer = () => undefined;
process.on("exit", () => {
  rmSync(workDir, { recursive: true, force: true });
  stopServer();
});
// stopped by hand (Ctrl-C, kill): still remove the file and stop the throwaway server
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

let location = join(workDir, "tasks.db");
let size = () => {
  const db = statSync(location).size;
  const wal = statSync(`${location}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  return [`file; the WAL ${(wal / 2 ** 20).toFixed(0)} MiB more`, db];
};
const schema = `growth_${process.pid}`;
let closeSize = async () => undefined;
if (target !== "sqlite") {
  let url = target;
  if (target === "postgres") {
    const { startPostgres } = await import("../../../scripts/postgres-server.mjs");
    const server = await startPostgres({ durable: true });
    stopServer = server.stop;
    url = server.url;
  }
  location = url;
}
const store = await openTaskStore(location, { checkpoint: "background", schema });
if (store.dialect === "postgres") {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  size = async () => {
    const { rows } = await client.query(
      "SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
      [schema],
    );
    return ["tables + indexes", Number(rows[0].bytes)];
  };
  closeSize = () => client.end();
}

console.log(
  `${store.dialect} store, ${keys} keys, ${clients} clients, claim-as-running + succeed, windows of ${window.toLocaleString("en-US")} tasks`,
);
console.log("tasks in store   tasks/s (this window)   size");
let next = 0;
for (let done = 0; done < total; done += window) {
  const end = Math.min(total, done + window);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const io = procIo();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let n = next++; n < end; n = next++) {
        const claim = await store.claim({
          id: `t-${n}`,
          idempotencyKey: keyOf(n),
          kind: "image",
          payload: { n },
          start: true,
        });
        await store.succeed(claim.seq, 0, {
          outputKey: `thumb/img-${n}.ppm`,
          etag: "d41d8cd98f00b204e9800998ecf8427e",
        });
      }
    }),
  );
  next = end;
  const seconds = (performance.now() - start) / 1000;
  const cpuUsed = process.cpuUsage(cpu);
  const ioAfter = procIo();
  const [what, bytes] = await size();
  console.log(
    `${end.toLocaleString("en-US").padStart(14)}   ${Math.round((end - done) / seconds)
      .toLocaleString("en-US")
      .padStart(21)}   ${(bytes / 2 ** 20).toFixed(0)} MiB (${what})` +
      `   CPU ${(((cpuUsed.user + cpuUsed.system) / 1000 / (end - done)) * 1000).toFixed(1)} µs/task` +
      ` (${((cpuUsed.system / (cpuUsed.user + cpuUsed.system)) * 100).toFixed(0)}% kernel)` +
      (io && ioAfter
        ? `, read ${((ioAfter.read - io.read) / (end - done)).toFixed(0)} B/task, written ${((ioAfter.write - io.write) / (end - done)).toFixed(0)} B/task`
        : ""),
  );
}
// what a monitor or a /metrics scrape pays at this size: statusCounts with the read model's
// default cap (DEFAULT_COUNT_CAP, packages/taskq/src/read-model.ts), each status counted up to it
const countCap = 10_000;
for (let i = 0; i < 3; i++) {
  const countsStart = performance.now();
  const counts = await store.statusCounts(countCap);
  console.log(
    `statusCounts(${countCap.toLocaleString("en-US")}) over ${total.toLocaleString("en-US")} tasks: ${(performance.now() - countsStart).toFixed(0)} ms` +
      (counts.capped.length > 0 ? ` (capped: ${counts.capped.join(", ")})` : ""),
  );
}
await store.close();
await closeSize();
