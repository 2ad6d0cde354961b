// Every example runs as a user would run it (`node examples/<name>.mjs`, importing "taskq"), in a
// fresh working directory, and prints what its comments promise.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = async (name: string) => {
  const script = new URL(`../${name}.mjs`, import.meta.url).pathname;
  const cwd = mkdtempSync(join(tmpdir(), "taskq-example-"));
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    cwd,
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  return stdout;
};

describe("examples", () => {
  it("quick-start: the result, then the stored result for the duplicate", async () => {
    expect(await run("quick-start")).toBe(
      "{ words: 9, longest: 'quick' }\n{ words: 9, longest: 'quick' }\n1 run, 1 duplicate\n",
    );
  });

  it("resize: thumbnails through the object store; an odd-sized image fails permanently", async () => {
    const lines = (await run("resize")).trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^img-16\.gray -> thumbs\/img-16\.gray\.half 64 bytes etag [0-9a-f]{32}$/);
    expect(lines[1]).toMatch(/^img-32\.gray -> thumbs\/img-32\.gray\.half 256 bytes etag [0-9a-f]{32}$/);
    expect(lines[2]).toMatch(/^img-64\.gray -> thumbs\/img-64\.gray\.half 1024 bytes etag [0-9a-f]{32}$/);
    expect(lines[3]).toBe(
      'img-16.gray failed: permanent: task "img-16.gray" failed (permanent, 1 attempt): img-16.gray: 15x16 has an odd side',
    );
  });

  it("retries: a success after retries, a permanent failure, a transient one out of attempts; the dead letters", async () => {
    expect((await run("retries")).trim().split("\n")).toEqual([
      "ok { order: 'o-1', charged: 25, attempts: 3 }",
      "failed o-2 permanent after 1 attempt(s)",
      "failed o-3 transient after 3 attempt(s)",
      "{ retry_count: 4, success_count: 1, fail_count: 2 }",
      "dead letter o-2 permanent order o-2: amount must be positive, got -5",
      "dead letter o-3 transient payment gateway timed out",
    ]);
  });

  it("producer-worker: ids back at once, each kind run by its handler, results by id", async () => {
    expect((await run("producer-worker")).trim().split("\n")).toEqual([
      "duplicate: same id",
      "word-count { words: 4, longest: 'quick' }",
      "checksum a99c07ce93703c73",
      "succeeded 1 attempt",
    ]);
  });

  it("time-and-limits: a delayed task, a prioritised one, a recurring one, a kind's limits", async () => {
    expect((await run("time-and-limits")).trim().split("\n")).toEqual([
      "scheduled: true",
      "{ words: 2, longest: 'urgent' }",
      "{ words: 1, longest: 'later' }",
      "tick: an occurrence enqueued",
      "limits: word-count concurrency 2, 5 per 1000 ms",
    ]);
  });

  it("many-clients: 2,000 tasks from 50 clients, every one answered", async () => {
    const out = await run("many-clients");
    expect(out).toContain("{ submitted: 2000, fulfilled: 2000, rejected: 0 }");
    expect(out).toContain("succeeded 1800, duplicates 200, failed 0");
    const depth = Number(/max queue depth (\d+)/.exec(out)?.[1]);
    expect(depth).toBeLessThanOrEqual(100);
  });
});
