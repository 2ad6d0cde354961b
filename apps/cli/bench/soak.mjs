// Soak: a `taskq serve` fed at a steady rate for a while, with a short retention, sampled every
// interval: the store's file and WAL sizes, serve's RSS, the tasks kept. With retention working
// the file and RSS level off after the first minutes. A benchmark, not a test. Run after
// `pnpm build`, on a quiet machine.
// Usage: node apps/cli/bench/soak.mjs [minutes=10] [tasks/s=200] [retention ms=60000] [sample s=30]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MAX_COUNT_CAP, openTaskStore, statusTotals } from "@taskq/idempotency";
import { prepareTask } from "@taskq/processor";

const [minutes = 10, rate = 200, retentionMs = 60_000, sampleS = 30] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), "taskq-soak-"));
const db = join(dir, "tasks.db");
const bin = new URL("../dist/bin.js", import.meta.url).pathname;

const serve = spawn(
  process.execPath,
  [bin, "serve", "--db", db, "--retention-ms", String(retentionMs), "--threads", "2", "--poll-ms", "100"],
  { cwd: dir, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, LOG_LEVEL: "warn" } },
);
const rssMiB = () => {
  const status = readFileSync(`/proc/${serve.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};
const mib = (path) => (statSync(path, { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20;

// the feeder: another process's worth of submits, `rate` tasks a second in ten slices
await sleep(1000); // serve creates the store
const store = await openTaskStore(db, { recover: false });
let fed = 0;
const started = performance.now();
const end = started + minutes * 60_000;
console.log(
  `soak: serve fed ${rate} no-op tasks/s for ${minutes} min, retention ${retentionMs} ms, store ${db}`,
);
console.log("minute   fed        kept in store   file MiB   WAL MiB   serve RSS MiB");
let nextSample = started + sampleS * 1000;
while (performance.now() < end) {
  const batch = Array.from({ length: Math.max(1, Math.round(rate / 10)) }, () => {
    const p = prepareTask({ id: `s-${fed++}`, type: "noop" });
    return { id: p.id, idempotencyKey: p.idempotencyKey, kind: p.kind, payload: p.payload };
  });
  await store.enqueueMany(batch);
  if (performance.now() >= nextSample) {
    nextSample += sampleS * 1000;
    // every task kept, by status (exact below MAX_COUNT_CAP of each)
    const kept = statusTotals(await store.statusCounts(MAX_COUNT_CAP)).total;
    console.log(
      `${((performance.now() - started) / 60_000).toFixed(1).padStart(6)}   ${String(fed).padEnd(9)}  ${String(kept).padStart(13)}   ${mib(db).toFixed(1).padStart(8)}   ${mib(`${db}-wal`).toFixed(1).padStart(7)}   ${rssMiB().toFixed(0).padStart(13)}`,
    );
  }
  await sleep(100);
}
await store.close();
serve.kill("SIGTERM");
await new Promise((resolve) => serve.once("exit", resolve));
rmSync(dir, { recursive: true, force: true });
