// A typed client (`connect<Kinds>`) and worker (`createWorker<Kinds>`) on a real SQLite store: the
// map of kinds, read from the handler module's declared types, is only for the compiler, and the
// calls run as an untyped client's do. What the compiler refuses: typed-kinds.test-d.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, expectTypeOf, it } from "vitest";
import { connect, createWorker, type Enqueued, type KindsOf, type TaskId } from "../src/index.js";

type Kinds = KindsOf<{ greet: typeof import("./fixtures/greet.mjs") }>;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

it("a typed client enqueues a kind's payload and reads its result, typed, from the store", async () => {
  const store = join(mkdtempSync(join(tmpdir(), "taskq-typed-")), "tasks.db");
  const worker = await createWorker<Kinds>({
    store,
    handlers: { greet: new URL("./fixtures/greet.mjs", import.meta.url) },
    threads: 0,
    pollMs: 20,
  });
  closers.push(() => worker.close());
  const client = await connect<Kinds>({ store });
  closers.push(() => client.close());

  const one = await client.enqueue("greet", { name: "ada" });
  expectTypeOf(one).toEqualTypeOf<Enqueued<"greet">>();
  expect(one).toMatchObject({ kind: "greet", status: "queued", duplicate: false });
  const result = await client.result(one.id);
  expectTypeOf(result).toEqualTypeOf<{ greeting: string; attempt: number }>();
  expect(result).toEqual({ greeting: "hello, ada", attempt: 1 });

  const many = await client.enqueueMany("greet", [{ name: "grace" }, { name: "ada" }]);
  expect(many.map((e) => e.duplicate)).toEqual([false, true]); // the same payload, the same key
  expect(many[1]?.id).toBe(one.id);
  const first = many[0] as Enqueued<"greet">;
  expect((await client.result(first.id)).greeting).toBe("hello, grace");
  // an id kept as a plain string is given its kind back
  const kept: string = first.id;
  expect(await client.result(kept as TaskId<"greet">)).toEqual({ greeting: "hello, grace", attempt: 1 });
  expect((await client.get(kept))?.payload).toEqual({ name: "grace" });
});
