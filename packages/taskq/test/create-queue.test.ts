import { createHash } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { everyDeadLetter, MAX_COUNT_CAP, statusTotals } from "@taskq/idempotency";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  ConfigError,
  createQueue,
  PayloadError,
  type Queue,
  type QueueOptions,
  stableKey,
  TaskFailedError,
} from "../src/index.js";
import { calls } from "./fixtures/echo.mjs";
import { counts, openGate, reset } from "./fixtures/gate.mjs";

const fixture = (name: string) => new URL(`./fixtures/${name}.mjs`, import.meta.url).pathname;
const dir = () => mkdtempSync(join(tmpdir(), "taskq-queue-"));

interface Echo {
  payload: unknown;
  id: string;
  key: string;
  attempt: number;
  options: unknown;
  mainThread: boolean;
}

const open: Queue<unknown, unknown>[] = [];
async function queue<P = unknown, R = unknown>(options: Partial<QueueOptions<P>> = {}): Promise<Queue<P, R>> {
  const q = await createQueue<P, R>({
    handler: fixture("echo"),
    store: join(dir(), "tasks.db"),
    threads: 0,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    ...options,
  } as QueueOptions<P>);
  open.push(q as Queue<unknown, unknown>);
  return q;
}
afterEach(async () => {
  for (const q of open.splice(0)) await q.close();
});

describe("createQueue", () => {
  it("runs the handler and resolves with its result, typed; ctx carries id, key, attempt and options", async () => {
    const q = await queue<{ n: number }, Echo>({ handlerOptions: { greeting: "hi" } });
    const result = await q.submit({ n: 1 }, { id: "job-1" });
    expect(result).toEqual({
      payload: { n: 1 },
      id: "job-1",
      key: stableKey({ n: 1 }),
      attempt: 1,
      options: { greeting: "hi" },
      mainThread: true,
    });
    expect(stableKey({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(stableKey({ b: [2, { d: 4, c: 3 }], a: 1 }));
    // the stored keys of existing stores depend on it: the SHA-256 of the sorted JSON, in hex
    expect(stableKey({ b: "x", a: 1 })).toBe(
      `sha256:${createHash("sha256").update('{"a":1,"b":"x"}').digest("hex")}`,
    );
    expect(stableKey(undefined)).toBe(`sha256:${createHash("sha256").update("null").digest("hex")}`);
  });

  it("a duplicate gets the stored result without running again, also after a restart on the same file", async () => {
    const store = join(dir(), "tasks.db");
    const first = await queue<{ n: number }, Echo>({ store });
    const before = calls.count;
    const a = await first.submit({ n: 7 });
    const [b, c] = await Promise.all([first.submit({ n: 7 }), first.submit({ n: 7 })]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(calls.count - before).toBe(1);
    expect(first.metrics()).toMatchObject({ success_count: 1, duplicate_count: 2 });
    await first.close();
    const second = await queue<{ n: number }, Echo>({ store });
    expect(await second.submit({ n: 7 })).toEqual(a);
    expect(await second.submit({ n: 8 }, { key: a.key })).toEqual(a); // the key decides, not the payload
    expect(calls.count - before).toBe(1);
  });

  it("a duplicate of a task another queue runs waits for its end there; closing the queue ends that wait", async () => {
    reset();
    try {
      const store = join(dir(), "tasks.db");
      // inline handlers: the gate is this process's module, held until the test opens it
      const running = await queue<{ n: number }, { n: number }>({ handler: fixture("gate"), store });
      const held = running.submit({ n: 1 });
      while (counts.now === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const waiting = await queue<{ n: number }, { n: number }>({ handler: fixture("gate"), store });
      const elsewhere = waiting.submit({ n: 1 });
      // a third queue waits too, and is closed while it waits: its submit fails at once, as closed
      const closing = await queue<{ n: number }, { n: number }>({ handler: fixture("gate"), store });
      const waits = new Promise<void>((resolve) => {
        const wait = closing.store.waitForChange.bind(closing.store);
        closing.store.waitForChange = (ms, signal) => {
          resolve();
          return wait(ms, signal);
        };
      });
      const closed = closing.submit({ n: 1 }).catch((error: unknown) => error);
      await waits;
      await closing.close();
      expect(await closed).toMatchObject({ name: "TaskFailedError", errorClass: "closed" });
      openGate();
      expect(await held).toEqual({ n: 1 });
      expect(await elsewhere).toEqual({ n: 1 });
      expect(counts.ran).toBe(1);
    } finally {
      openGate();
    }
  });

  it("retries transient errors with backoff, then succeeds; metrics count the retries", async () => {
    const q = await queue<object, { attempt: number }>({
      handler: fixture("flaky"),
      attempts: 3,
    });
    expect(await q.submit({ transientUntil: 3 })).toEqual({ attempt: 3 });
    expect(q.metrics()).toMatchObject({ success_count: 1, retry_count: 2, error_classification: {} });
  });

  it.each([
    [{ permanent: true }, "permanent", 1, "bad input: cannot be done"],
    [{ plain: true }, "error", 2, "something broke"],
    [{ unstorable: true }, "result_not_storable", 1, "result.at is a Map, not plain JSON data"],
    [{ transientUntil: 9 }, "transient", 2, "busy (attempt 2)"],
  ])(
    "%o fails for good as %s after %i attempt(s), into the dead letters",
    async (payload, errorClass, attempts, message) => {
      const q = await queue({ handler: fixture("flaky"), attempts: 2 });
      const error = await q.submit(payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskFailedError);
      expect(error).toMatchObject({ errorClass, attempts });
      expect((error as Error).message).toContain(message);
      const [letter] = await everyDeadLetter(q.store);
      expect(letter).toMatchObject({ errorClass, attempts, payload });
      // a failed key stays failed: a duplicate is answered with the same failure
      await expect(q.submit(payload)).rejects.toMatchObject({ errorClass });
    },
  );

  it("a timeout aborts ctx.signal and fails the attempt as a retryable timeout", async () => {
    const q = await queue({
      handler: fixture("flaky"),
      timeoutMs: 20,
      attempts: 2,
    });
    await expect(q.submit({ hang: true })).rejects.toMatchObject({ errorClass: "timeout", attempts: 2 });
  });

  it.each([
    [{ cb: () => 1 }, "payload.cb is a function"],
    [{ n: 10n }, "payload.n is a bigint"],
    [{ when: new Date(0) }, "payload.when is a Date, not plain JSON data"],
    [{ list: [1, Number.NaN] }, "payload.list[1] is NaN"],
    [
      (() => {
        const a: Record<string, unknown> = { b: {} };
        (a["b"] as Record<string, unknown>)["a"] = a;
        return a;
      })(),
      "payload.b.a refers back to an object that contains it",
    ],
  ])(
    "a payload that cannot be stored or cloned (%#) is a PayloadError naming the field; nothing is stored",
    async (payload, message) => {
      const q = await queue();
      const error = await q.submit(payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadError);
      expect((error as Error).message).toContain(message);
      expect(statusTotals(await q.store.statusCounts(MAX_COUNT_CAP)).total).toBe(0);
    },
  );

  it.each([
    [{ threads: -1 }, "threads must be an integer from 0 to 256, got -1"],
    [{ concurrency: 0 }, "concurrency must be an integer from 1 to 10000, got 0"],
    [{ onFull: "drop" }, 'onFull must be "block" or "reject", got "drop"'],
    [{ attempts: 0 }, "attempts must be an integer from 1 to 100, got 0"],
    [
      { backoffBaseMs: 100, backoffMaxMs: 10 },
      "backoffMaxMs must be a number >= backoffBaseMs (100), got 10",
    ],
    // the names before: still checked, under their new names
    [{ retry: { attempts: 0 } }, "attempts must be an integer from 1 to 100, got 0"],
    [{ handler: "./no/such/handler.mjs" }, "handler ./no/such/handler.mjs: no such module"],
    [
      { handler: fixture("no-default") },
      "its default export must be a function (payload, ctx) => result, got no default export",
    ],
    [{ handlerOptions: { f: () => 1 } }, "handlerOptions.f is a function"],
    [{ retentionMs: -1 }, "retentionMs must be an integer from 0 to 9007199254740991, got -1"],
  ])("bad option %o: a ConfigError naming it, and nothing started", async (bad, message) => {
    const store = join(dir(), "tasks.db");
    const error = await createQueue({
      handler: fixture("echo"),
      store,
      threads: 0,
      ...bad,
    } as QueueOptions<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect(existsSync(store)).toBe(false);
  });

  it("runs handlers on worker threads, many at once", async () => {
    const q = await queue<{ n: number }, Echo>({ threads: 2, concurrency: 8 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => q.submit({ n })));
    expect(results.map((r) => (r.payload as { n: number }).n)).toEqual(
      Array.from({ length: 40 }, (_, n) => n),
    );
    expect(results.every((r) => r.mainThread === false && r.attempt === 1)).toBe(true);
  });

  it("a handler that ignores ctx.signal past timeoutMs and the grace has its thread replaced; the other attempts on it are retried", async () => {
    const q = await queue<{ n?: number; spin?: boolean }, { n: number; attempt: number }>({
      handler: fixture("stuck"),
      threads: 1,
      concurrency: 4,
      timeoutMs: 100,
    });
    const waiting = [1, 2, 3].map((n) => q.submit({ n }));
    const stuck = q.submit({ spin: true }, { maxAttempts: 1 }).catch((error: unknown) => error);
    const failure = (await stuck) as TaskFailedError;
    expect(failure).toBeInstanceOf(TaskFailedError);
    expect(failure).toMatchObject({ errorClass: "timeout", attempts: 1 });
    expect(failure.message).toContain("the thread was terminated and replaced");
    // the attempts that shared the thread failed with it (retryable), and ran again
    for (const [i, result] of (await Promise.all(waiting)).entries())
      expect(result).toEqual({ n: i + 1, attempt: 2 });
    expect(q.metrics().retry_count).toBe(3);
  });

  it("gives handlers the object store", async () => {
    const objects = dir();
    for (const threads of [0, 1]) {
      const q = await queue<{ name: string; text: string }, { etag: string; text: string }>({
        handler: fixture("objects"),
        objects,
        threads,
      });
      const out = await q.submit({ name: `n${threads}.txt`, text: "hello" });
      expect(out).toEqual({ etag: "5d41402abc4b2a76b9719d911017c592", text: "hello" });
      expect(existsSync(join(objects, "out", `n${threads}.txt`))).toBe(true);
    }
  });

  it("submitMany runs a stream from many clients; metrics and Prometheus text follow", async () => {
    const q = await queue({ threads: 1, concurrency: 16 });
    const summary = await q.submitMany(
      (function* () {
        for (let n = 0; n < 300; n++) yield { n: n % 250 };
      })(),
      { clients: 25 },
    );
    expect(summary).toEqual({ submitted: 300, fulfilled: 300, rejected: 0 });
    expect(q.metrics()).toMatchObject({ success_count: 250, duplicate_count: 50, fail_count: 0 });
    expect(q.prometheus()).toContain("taskq_tasks_succeeded_total 250");
  });

  it("works the same on a PostgreSQL store", async () => {
    const q = await queue<{ n: number }, Echo>({ store: inject("pgUrl"), threads: 1 });
    const a = await q.submit({ n: 42 });
    expect(await q.submit({ n: 42 })).toEqual(a);
    expect(statusTotals(await q.store.statusCounts(MAX_COUNT_CAP))).toMatchObject({ succeeded: 1 });
    expect(q.store.dialect).toBe("postgres");
  });
});
