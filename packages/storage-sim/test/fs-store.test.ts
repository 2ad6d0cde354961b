import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsObjectStore } from "../src/index.js";

describe.each(["async", "sync"] as const)("FsObjectStore with %s io", (io) => {
  let root: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "taskq-fs-"));
    store = await FsObjectStore.open({ root, chunkSize: 64 * 1024, io });
  });
  afterEach(() => store.dispose());

  async function* failingBody(afterChunks: number) {
    for (let i = 0; i < afterChunks; i++) yield Buffer.alloc(1024, i);
    throw new Error("source broke");
  }

  describe("FsObjectStore atomic puts", () => {
    it("a put that fails part-way leaves the old object intact and no temporary file", async () => {
      await store.putObject("b", "obj", Buffer.from("old content"));
      await expect(store.putObject("b", "obj", failingBody(3))).rejects.toMatchObject({ code: "ERR_IO" });
      expect(await readFile(join(root, "b", "obj"), "utf8")).toBe("old content");
      expect(await store.temporaryFiles()).toEqual([]);
    });

    it("sweeps temporary files left by a dead process when a store opens, and keeps live ones", async () => {
      const dead = spawnSync(process.execPath, [
        "-e",
        "process.stdout.write(String(process.pid))",
      ]).stdout.toString();
      await writeFile(join(root, ".tmp", `${dead}-leftover`), "half an object");
      await writeFile(join(root, ".tmp", `${process.pid}-mine`), "in progress");
      const reopened = await FsObjectStore.open({ root, io });
      expect(await reopened.temporaryFiles()).toEqual([`${process.pid}-mine`]);
      // once the caller knows its own writers are stopped, it may sweep its own leftovers too
      expect(await reopened.sweepTemporaryFiles({ includeThisProcess: true })).toBe(1);
      expect(await reopened.temporaryFiles()).toEqual([]);
    });
  });

  describe("FsObjectStore confinement", () => {
    it("rejects symlinks that leave the root, for get, put, stat and remove, and does not list them", async () => {
      const outside = await mkdtemp(join(tmpdir(), "taskq-outside-"));
      await writeFile(join(outside, "secret"), "do not read");
      await mkdir(join(root, "b"), { recursive: true });
      await symlink(join(outside, "secret"), join(root, "b", "link"));
      await symlink(outside, join(root, "b", "dir"));
      await expect(store.getObject("b", "link")).rejects.toMatchObject({
        code: "ERR_INVALID_KEY",
        message: expect.stringContaining("outside"),
      });
      await expect(store.statObject("b", "link")).rejects.toMatchObject({ code: "ERR_INVALID_KEY" });
      await expect(store.putObject("b", "dir/new", Buffer.from("x"))).rejects.toMatchObject({
        code: "ERR_INVALID_KEY",
      });
      await expect(store.removeObject("b", "dir/secret")).rejects.toMatchObject({ code: "ERR_INVALID_KEY" });
      expect(await readdir(outside)).toEqual(["secret"]);
      expect(await readFile(join(outside, "secret"), "utf8")).toBe("do not read");
      expect(await store.listObjects("b")).toEqual([]);
    });
  });

  describe("FsObjectStore streaming", () => {
    const MiB = 1024 * 1024;
    const chunk = 64 * 1024;

    it("writes 64 MiB while holding at most a few chunks: bytes produced minus bytes on disk stay bounded", async () => {
      let produced = 0;
      let maxAhead = 0;
      async function* source() {
        for (let i = 0; i < (64 * MiB) / chunk; i++) {
          const [tmp] = await store.temporaryFiles();
          const onDisk = tmp ? (await import("node:fs")).statSync(join(root, ".tmp", tmp)).size : 0;
          maxAhead = Math.max(maxAhead, produced - onDisk);
          produced += chunk;
          yield Buffer.alloc(chunk, i & 0xff);
        }
      }
      const put = await store.putObject("b", "big", source());
      expect(put.size).toBe(64 * MiB);
      expect(maxAhead).toBeLessThanOrEqual(2 * chunk);
    });

    it("reads 64 MiB in chunks of the configured size, never more than a few chunks ahead of the reader", async () => {
      const handle = await (await import("node:fs/promises")).open(join(root, "big.bin"), "w");
      await handle.truncate(64 * MiB);
      await handle.close();
      await mkdir(join(root, "b"), { recursive: true });
      await (await import("node:fs/promises")).rename(join(root, "big.bin"), join(root, "b", "big"));
      const stream = await store.getObject("b", "big");
      let consumed = 0;
      let maxAhead = 0;
      let largest = 0;
      for await (const piece of stream) {
        consumed += (piece as Buffer).byteLength;
        largest = Math.max(largest, (piece as Buffer).byteLength);
        // read from disk and not yet consumed: this piece plus what the stream buffers
        maxAhead = Math.max(maxAhead, (piece as Buffer).byteLength + stream.readableLength);
      }
      expect(consumed).toBe(64 * MiB);
      expect(largest).toBe(chunk);
      expect(maxAhead).toBeLessThanOrEqual(2 * chunk);
    });
  });
});

describe("opening", () => {
  it("a root that cannot be created fails with a clear error instead of hanging", async () => {
    await expect(FsObjectStore.open({ root: "/proc/taskq-test/objects" })).rejects.toMatchObject({
      code: "ERR_IO",
      message: expect.stringContaining("cannot open object store /proc/taskq-test/objects"),
    });
  });
});
