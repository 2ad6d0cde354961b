// Micro-benchmark: puts and gets per second, and CPU per operation, on the local-directory store
// (no simulated latency) with each io mode, for small objects (one chunk) and large ones (64 MiB,
// streamed). Runs against the built package.
// Usage: node bench/run.mjs [smallObjects]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsObjectStore } from "../dist/index.js";

// every store of this run lives here, removed when the process exits
const workDir = mkdtempSync(join(tmpdir(), "taskq-sbench-"));
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));

const count = Number(process.argv[2] ?? 3000);
const small = Buffer.alloc(9 * 1024, 7);

/** Wall time and process CPU time (all threads, libuv's pool included) of one measurement. */
async function measure(name, ops, bytes, fn) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const s = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(44)} ${Math.round(ops / s)
      .toLocaleString("en-US")
      .padStart(
        8,
      )} ops/s  ${(bytes / s / 2 ** 20).toFixed(0).padStart(5)} MiB/s  ${((used.user + used.system) / ops).toFixed(0).padStart(6)} us CPU/op`,
  );
}

for (const io of ["async", "sync"]) {
  const store = await FsObjectStore.open({ root: mkdtempSync(join(workDir, "run-")), io });
  console.log(`io: ${io}`);

  await measure(`put 9 KiB, 16 at a time`, count, count * small.length, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) await store.putObject("b", `small/${next++}`, small);
      }),
    );
  });
  await measure(`get 9 KiB, 16 at a time`, count, count * small.length, async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) for await (const _ of await store.getObject("b", `small/${next++}`));
      }),
    );
  });
  const chunk = Buffer.alloc(64 * 1024, 1);
  await measure("put 64 MiB streamed in 64 KiB chunks", 1, 64 * 2 ** 20, async () => {
    await store.putObject(
      "b",
      "big",
      (function* () {
        for (let i = 0; i < 1024; i++) yield chunk;
      })(),
    );
  });
  await measure("get 64 MiB streamed in 64 KiB chunks", 1, 64 * 2 ** 20, async () => {
    for await (const _ of await store.getObject("b", "big"));
  });
}
console.log(`node ${process.version}; ${count} small objects`);
