// Micro-benchmark: tasks claimed, started and completed per second on a file database:
// autocommit (3 transactions per task), explicit batches of 100 tasks per transaction (with and
// without claim-with-start), SqliteTaskStore driven by 100 concurrent async clients (plain, with
// claim-with-start, with background checkpoints). Runs against the built package.
// Usage: node bench/run.mjs [tasks]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSyncStore, SqliteTaskStore } from "../dist/index.js";

// every store of this run lives here, removed when the process exits
const workDir = mkdtempSync(join(tmpdir(), "taskq-bench-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

const tasks = Number(process.argv[2] ?? 50_000);

function fresh(options = {}) {
  return new SqliteSyncStore({ path: join(mkdtempSync(join(workDir, "run-")), "tasks.db"), ...options });
}
const input = (n) => ({ id: `t-${n}`, idempotencyKey: `img-${n}.ppm#thumb`, kind: "image", payload: { n } });

function lifecycle(store, n) {
  const { seq, version } = store.claim(input(n));
  const started = store.start(seq, version);
  store.succeed(seq, started.version, {
    outputKey: `thumb/img-${n}.ppm`,
    etag: "d41d8cd98f00b204e9800998ecf8427e",
  });
}

function report(name, count, ms) {
  console.log(
    `${name.padEnd(48)} ${Math.round((count / ms) * 1000)
      .toLocaleString("en-US")
      .padStart(9)} tasks/s`,
  );
}

{
  const store = fresh();
  const n = Math.min(tasks, 10_000);
  const start = performance.now();
  for (let i = 0; i < n; i++) lifecycle(store, i);
  report("autocommit (claim, start, succeed)", n, performance.now() - start);
  store.close();
}
{
  const store = fresh();
  const start = performance.now();
  for (let i = 0; i < tasks; i += 100)
    store.transaction(() => {
      for (let j = i; j < Math.min(tasks, i + 100); j++) lifecycle(store, j);
    });
  report("transaction per 100 tasks", tasks, performance.now() - start);
  store.close();
}
{
  const store = fresh();
  const start = performance.now();
  for (let i = 0; i < tasks; i += 100)
    store.transaction(() => {
      for (let n = i; n < Math.min(tasks, i + 100); n++) {
        const claimed = store.claim({ ...input(n), start: true });
        store.succeed(claimed.seq, claimed.version, { outputKey: `thumb/img-${n}.ppm` });
      }
    });
  report("transaction per 100 tasks, claim with start", tasks, performance.now() - start);
  store.close();
}
for (const [name, storeOptions, claimStart] of [
  ["SqliteTaskStore, 100 concurrent clients", {}, false],
  ["  + claim with start (the pool's fast path)", {}, true],
  ["  + checkpoints on a background thread", { checkpoint: "background" }, true],
]) {
  const store = fresh(storeOptions);
  const batched = new SqliteTaskStore(store);
  let next = 0;
  async function client() {
    while (next < tasks) {
      const n = next++;
      let { seq, version } = await batched.claim({ ...input(n), start: claimStart });
      if (!claimStart) ({ version } = await batched.start(seq, version));
      await batched.succeed(seq, version, { outputKey: `thumb/img-${n}.ppm` });
    }
  }
  const start = performance.now();
  await Promise.all(Array.from({ length: 100 }, client));
  report(name, tasks, performance.now() - start);
  console.log(
    `  (${batched.batches} transactions, ${(batched.operations / batched.batches).toFixed(1)} operations each)`,
  );
  store.close();
}
console.log(`node ${process.version}, file database (WAL, synchronous=NORMAL), ${tasks} tasks`);
