// Progress and log lines (issue 35) end to end, on SQLite and on a real PostgreSQL: a producer in
// this process watches `client.progress(id)` of a task a worker in another process runs, with its
// handler on the main thread, on a thread, and in an isolated process. The handler reports 50 and
// then holds until the test writes a release file, so the producer sees 50 BEFORE the release;
// then its last value, its result, its log (get, logs). Also: the log's cap through a worker (a
// tight loop of lines, coalesced), ctx.progress's bad input, an unknown id.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type Client, connect, createWorker, TaskNotFoundError } from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_progress");
});

const dir = () => mkdtempSync(join(tmpdir(), "taskq-progress-"));
const stores: [string, () => string][] = [
  ["SQLite", () => join(dir(), "tasks.db")],
  ["PostgreSQL", () => pgStore],
];

/** A worker process running `kind` with its handler in `mode`; resolves once it says it is ready. */
function startWorker(
  store: string,
  kind: string,
  mode: "main" | "thread" | "process",
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fixture("progress-worker"), store, kind, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  closers.push(() => {
    child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`the worker exited early (${code})`)));
  });
}

describe.each(stores)("progress and log lines on %s", (_name, storeOf) => {
  const kindOf = (name: string) => `${name}_${randomUUID().slice(0, 8)}`;

  it.each(["main", "thread", "process"] as const)(
    "a producer in another process sees progress 50 before the handler (%s) is released, then its end",
    async (mode) => {
      const store = storeOf();
      const kind = kindOf("progress");
      const release = join(dir(), "release");
      await startWorker(store, kind, mode);
      const client: Client = await connect({ store });
      closers.push(() => client.close());
      const { id } = await client.enqueue(kind, { release });
      const seen: unknown[] = [];
      const watch = client.progress(id)[Symbol.asyncIterator]();
      const first = await watch.next();
      expect(first).toEqual({ done: false, value: 50 });
      expect(existsSync(release)).toBe(false); // the handler is still held
      seen.push(first.value);
      // what the store holds while it runs: the progress and the lines written with it
      const running = await client.get(id);
      expect(running).toMatchObject({ status: "running", progress: 50 });
      expect((await client.logs(id)).lines.map((l) => [l.attempt, l.line])).toEqual([
        [1, "starting"],
        [1, "half way"],
      ]);
      writeFileSync(release, "");
      for (let next = await watch.next(); !next.done; next = await watch.next()) seen.push(next.value);
      expect(seen).toEqual([50, { done: 100 }]);
      expect(await client.result(id)).toBe("ok");
      const done = await client.get(id);
      expect(done).toMatchObject({ status: "succeeded", progress: { done: 100 } });
      const log = await client.logs(id);
      expect(log.dropped).toBe(0);
      expect(log.lines.map((l) => l.line)).toEqual(["starting", "half way", "done"]);
      expect(log.lines.every((l) => l.at instanceof Date && l.attempt === 1)).toBe(true);
      // a finished task's watch yields its last value and ends
      const after: unknown[] = [];
      for await (const value of client.progress(id)) after.push(value);
      expect(after).toEqual([{ done: 100 }]);
    },
  );

  it("a handler logging in a tight loop: the first 1,000 lines kept, the rest counted as dropped; the last progress stored", async () => {
    const store = storeOf();
    const kind = kindOf("chatty");
    const worker = await createWorker({
      store,
      handlers: { [kind]: fixture("progress") },
      threads: 1,
      pollMs: 20,
    });
    closers.push(() => worker.close());
    const client = await connect({ store });
    closers.push(() => client.close());
    const { id } = await client.enqueue(kind, { lines: 1500 });
    expect(await client.result(id)).toBe("ok");
    const log = await client.logs(id);
    expect(log.lines).toHaveLength(1000);
    expect(log.lines[0]?.line).toBe("loop 1");
    expect(log.lines[999]?.line).toBe("loop 1000");
    // 500 more of the loop, and the 3 lines after it
    expect(log.dropped).toBe(503);
    expect((await client.get(id))?.progress).toEqual({ done: 100 });
  });

  it("ctx.progress refuses a value too big or null, in one line naming it, and stores nothing", async () => {
    const store = storeOf();
    const kind = kindOf("bad");
    const worker = await createWorker({
      store,
      handlers: { [kind]: fixture("progress") },
      threads: 0,
      pollMs: 20,
    });
    closers.push(() => worker.close());
    const client = await connect({ store });
    closers.push(() => client.close());
    const big = await client.enqueue(kind, { bad: "big" });
    expect(await client.result(big.id)).toMatch(
      /^PayloadError: progress is \d+ bytes as JSON, more than the 4096 allowed$/,
    );
    const none = await client.enqueue(kind, { bad: null });
    expect(await client.result(none.id)).toBe(
      "PayloadError: progress must be a JSON value (a number, or a small object), got null",
    );
    expect((await client.get(big.id))?.progress).toBeNull();
    expect(await client.logs(big.id)).toEqual({ lines: [], dropped: 0 });
    // an unknown id
    await expect(client.logs("no-such-task")).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(client.progress("no-such-task")[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
      TaskNotFoundError,
    );
    // a watch stopped by its signal
    const stop = new AbortController();
    stop.abort(new Error("stopped"));
    await expect(
      client.progress(big.id, { signal: stop.signal })[Symbol.asyncIterator]().next(),
    ).rejects.toThrow("stopped");
  });

  it("a task that never reports has no progress and an empty log", async () => {
    const store = storeOf();
    const client = await connect({ store });
    closers.push(() => client.close());
    const { id } = await client.enqueue(kindOf("quiet"), {});
    expect((await client.get(id))?.progress).toBeNull();
    expect(await client.logs(id)).toEqual({ lines: [], dropped: 0 });
  });
});
