// Insert floor: how fast SQLite itself stores a bulk enqueue's rows, against the driver.
// The same 100,000 tasks (SHA-256 hex keys, small JSON payloads) into a fresh store's schema, in
// one transaction each way:
//   - raw: better-sqlite3 alone, one INSERT ... ON CONFLICT DO NOTHING per row, nothing else;
//   - enqueueMany: the SQLite driver (validation, the claim statement, its answers).
// The gap is the driver's cost; the raw rate is what no driver change can pass.
// Usage: node bench/insert-floor.mjs [tasks=100000] [repeat=3]  (after `pnpm build`)
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openTaskStore } from "../dist/index.js";

const tasks = Number(process.argv[2] ?? 100_000);
const repeat = Number(process.argv[3] ?? 3);
if (!Number.isInteger(tasks) || tasks < 1 || !Number.isInteger(repeat) || repeat < 1) {
  console.error("usage: insert-floor.mjs [tasks >= 1] [repeat >= 1]");
  process.exit(2);
}

const INSERT = `INSERT INTO tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts,
  created_at, updated_at, next_run_at, priority, rank_at, version)
VALUES (?, ?, ?, ?, 'queued', 0, 3, ?, ?, ?, 0, ?, 0) ON CONFLICT (kind, idempotency_key) DO NOTHING`;

/** A fresh store's file (the driver creates the schema), removed by `done`. */
async function freshStore() {
  const dir = mkdtempSync(join(tmpdir(), "taskq-floor-"));
  const path = join(dir, "tasks.db");
  await (await openTaskStore(path)).close();
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const rates = { raw: [], enqueueMany: [] };
for (let run = 1; run <= repeat; run++) {
  const claims = Array.from({ length: tasks }, (_, n) => {
    const payload = { order: `o-${run}-${n}`, amount: n % 1000 };
    return {
      id: `task-${run}-${n}`,
      idempotencyKey: createHash("sha256").update(JSON.stringify(payload)).digest("hex"),
      kind: "charge",
      payload,
    };
  });

  const raw = await freshStore();
  const db = new Database(raw.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const insert = db.prepare(INSERT);
  let start = performance.now();
  db.transaction(() => {
    const now = Date.now();
    for (const c of claims)
      insert.run(c.id, c.idempotencyKey, c.kind, JSON.stringify(c.payload), now, now, now, now);
  }).immediate();
  rates.raw.push(tasks / ((performance.now() - start) / 1000));
  db.close();
  raw.done();

  const viaDriver = await freshStore();
  const store = await openTaskStore(viaDriver.path);
  start = performance.now();
  await store.enqueueMany(claims);
  rates.enqueueMany.push(tasks / ((performance.now() - start) / 1000));
  await store.close();
  viaDriver.done();
  console.log(
    `run ${run}: raw ${Math.round(rates.raw.at(-1))} tasks/s, enqueueMany ${Math.round(rates.enqueueMany.at(-1))} tasks/s`,
  );
}
for (const [name, list] of Object.entries(rates)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(
    `${name}: median ${Math.round(sorted[Math.floor(sorted.length / 2)])} tasks/s [${Math.round(sorted[0])}-${Math.round(sorted.at(-1))}] over ${repeat} runs`,
  );
}
