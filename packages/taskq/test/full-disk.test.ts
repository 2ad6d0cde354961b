// A SQLite store on a file system that fills up (issue 33): a small tmpfs mounted for the test
// (root only: CI runs as root). New work is refused with one clear line (StoreError
// ERR_STORE_FULL, retryable), nothing acknowledged is lost, and work goes on once space returns
// (the mount grown): a worker then runs every task.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, createWorker } from "../src/index.js";

const root = process.getuid?.() === 0;
const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

function smallDisk(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), "taskq-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounts.push(dir);
  return dir;
}

describe.runIf(root)("a SQLite store on a disk that fills up", () => {
  it("refuses new work in one line, loses nothing acknowledged, and goes on when space returns", async () => {
    const dir = smallDisk("1m");
    const store = join(dir, "tasks.db");
    const client = await connect({ store });
    const text = "x".repeat(2000);
    const acknowledged: string[] = [];
    let refused: unknown;
    for (let batch = 0; batch < 1000 && refused === undefined; batch++) {
      try {
        const enqueued = await client.enqueueMany(
          "email",
          Array.from({ length: 10 }, (_, n) => ({ batch, n, text })),
        );
        acknowledged.push(...enqueued.map((e) => e.id));
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toMatchObject({ name: "StoreError", code: "ERR_STORE_FULL", retryable: true });
    expect((refused as Error).message).toMatch(/the disk holding the task store is full/);
    expect((refused as Error).message).not.toContain("\n");
    expect(acknowledged.length).toBeGreaterThan(0);
    // single enqueues fill what is left, then are refused the same way
    let single: unknown;
    for (let n = 0; n < 1000 && single === undefined; n++) {
      try {
        acknowledged.push((await client.enqueue("email", { single: n, text })).id);
      } catch (error) {
        single = error;
      }
    }
    expect(single).toMatchObject({ code: "ERR_STORE_FULL" });

    // space returns: the mount grows; every acknowledged task is there, and new work is taken
    execFileSync("mount", ["-o", "remount,size=16m", dir]);
    for (const id of acknowledged) expect(await client.get(id)).toMatchObject({ status: "queued" });
    const after = await client.enqueue("email", { after: true });
    const worker = await createWorker({
      store,
      handlers: { email: new URL("./fixtures/echo.mjs", import.meta.url) },
      threads: 0,
      concurrency: 32,
    });
    try {
      await client.result(after.id);
      for (const id of acknowledged) await client.result(id);
    } finally {
      await worker.close();
      await client.close();
    }
  });
});
