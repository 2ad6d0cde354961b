// The contract every ObjectStore driver must keep, run against each backend (unstorage's
// testDriver() pattern). `make` returns a fresh, empty store.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectStore } from "../src/index.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function testObjectStore(name: string, make: () => Promise<ObjectStore>): void {
  describe(`ObjectStore driver: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.dispose();
    });

    it("round-trips bytes and reports the MD5 ETag of the content", async () => {
      const body = Buffer.from("hello, object store");
      const put = await store.putObject("bucket", "a/b/c.txt", body);
      expect(put).toEqual({ etag: createHash("md5").update(body).digest("hex"), size: body.length });
      expect(await readAll(await store.getObject("bucket", "a/b/c.txt"))).toEqual(body);
      const info = await store.statObject("bucket", "a/b/c.txt");
      expect(info).toMatchObject({ key: "a/b/c.txt", size: body.length, etag: put.etag });
    });

    it("streams a body given as chunks and hashes all of them", async () => {
      const parts = [Buffer.alloc(1000, 1), Buffer.alloc(3, 2), Buffer.alloc(70_000, 3)];
      const put = await store.putObject("bucket", "chunks", Readable.from(parts));
      expect(put.size).toBe(71_003);
      expect(put.etag).toBe(createHash("md5").update(Buffer.concat(parts)).digest("hex"));
      expect((await readAll(await store.getObject("bucket", "chunks"))).equals(Buffer.concat(parts))).toBe(
        true,
      );
    });

    it("replaces an object whole and lists by prefix in key order", async () => {
      await store.putObject("bucket", "p/2", Buffer.from("two"));
      await store.putObject("bucket", "p/1", Buffer.from("one"));
      await store.putObject("bucket", "q/1", Buffer.from("other"));
      await store.putObject("bucket", "p/1", Buffer.from("uno!"));
      const listed = await store.listObjects("bucket", "p/");
      expect(listed.map((o) => [o.key, o.size])).toEqual([
        ["p/1", 4],
        ["p/2", 3],
      ]);
      expect(await store.listObjects("empty-bucket")).toEqual([]);
    });

    it("removes objects; removing a missing one is not an error; reading one is ERR_NOT_FOUND", async () => {
      await store.putObject("bucket", "gone", Buffer.from("x"));
      await store.removeObject("bucket", "gone");
      await store.removeObject("bucket", "gone");
      await expect(store.statObject("bucket", "gone")).rejects.toMatchObject({
        code: "ERR_NOT_FOUND",
        retryable: false,
      });
      await expect(store.getObject("bucket", "gone")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    });

    it.each([
      ["../escape", '".." segment'],
      ["a/../../escape", '".." segment'],
      ["/etc/passwd", "absolute path"],
      ["nul\0byte", "NUL byte"],
      ["", "empty"],
      ["a//b", "empty or '.' segment"],
      ["back\\slash", "backslash"],
      ["k".repeat(1025), "longer than 1024 bytes"],
    ])("rejects the key %j with a clear reason", async (key, reason) => {
      await expect(store.putObject("bucket", key, Buffer.from("x"))).rejects.toMatchObject({
        code: "ERR_INVALID_KEY",
        retryable: false,
        message: expect.stringContaining(reason),
      });
      await expect(store.getObject("bucket", key)).rejects.toMatchObject({ code: "ERR_INVALID_KEY" });
    });

    it("rejects bad bucket names", async () => {
      for (const bucket of ["", ".tmp", "UPPER", "a/b", "..", "x".repeat(64)]) {
        await expect(store.putObject(bucket, "k", Buffer.from("x"))).rejects.toMatchObject({
          code: "ERR_INVALID_BUCKET",
        });
      }
    });

    it("honours an aborted signal before doing anything", async () => {
      const controller = new AbortController();
      controller.abort(new Error("stop"));
      await expect(
        store.putObject("bucket", "k", Buffer.from("x"), { signal: controller.signal }),
      ).rejects.toThrow("stop");
      await expect(store.statObject("bucket", "k")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    });

    it("stores and reads back an empty object", async () => {
      const put = await store.putObject("bucket", "empty", Buffer.alloc(0));
      expect(put).toEqual({ etag: createHash("md5").digest("hex"), size: 0 });
      expect((await readAll(await store.getObject("bucket", "empty"))).length).toBe(0);
    });

    it("a read aborted part-way fails with the signal's reason and stops", async () => {
      await store.putObject("bucket", "big", Buffer.alloc(300_000, 7));
      const controller = new AbortController();
      const stream = await store.getObject("bucket", "big", { signal: controller.signal });
      let received = 0;
      await expect(
        (async () => {
          for await (const chunk of stream) {
            received += (chunk as Buffer).length;
            controller.abort(new Error("enough"));
          }
        })(),
      ).rejects.toThrow();
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(300_000);
      expect(stream.destroyed).toBe(true);
    });

    it("refuses calls after dispose", async () => {
      await store.dispose();
      await expect(store.putObject("bucket", "k", Buffer.from("x"))).rejects.toMatchObject({
        code: "ERR_DISPOSED",
      });
    });
  });
}
