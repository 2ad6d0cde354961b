// The store contract for task tags, run against every driver on its real backend: tags stored as
// given and read back with the task, a filter by tag in listTasks (alone, and with a status and a
// kind, in keyset pages), the task_tags index kept in step when tasks are inserted, pruned and
// purged, and bad tags refused.
import { describe, expect, it } from "vitest";
import { MAX_TAGS, type TaskListQuery, type TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

/** How many rows a store's task_tags table holds (read on the backend, outside the contract). */
export type TagRows = (store: TaskStoreDriver) => Promise<number>;

/** Every page of listTasks under `filter`, following the keyset to the end; the seqs, in order. */
async function pagesOf(
  s: TaskStoreDriver,
  filter: Omit<TaskListQuery, "limit" | "beforeSeq">,
  limit: number,
): Promise<number[]> {
  const seqs: number[] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await s.listTasks({ ...filter, limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    seqs.push(...page.map((t) => t.seq));
    if (page.length < limit) return seqs;
    beforeSeq = page.at(-1)?.seq;
  }
}

/** Runs the tags contract against the stores `make` opens; `tagRows` counts task_tags' rows. */
export function testTagsContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
  tagRows: TagRows,
): void {
  describe(`task store contract, tags: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("stores a task's tags as given (a repeated one once) and reads them back with it; none is []", async () => {
      const s = await store();
      const tagged = await s.claim(task(1, { tags: ["tenant:42", "import", "tenant:42", "ü ✓ spaces ok"] }));
      const plain = await s.claim(task(2));
      const seqOf = (r: typeof tagged) => (r.created ? r.seq : r.record.seq);
      expect((await s.get(seqOf(tagged)))?.tags).toEqual(["tenant:42", "import", "ü ✓ spaces ok"]);
      expect((await s.get(seqOf(plain)))?.tags).toEqual([]);
      expect((await s.getById("t-1"))[0]?.tags).toEqual(["tenant:42", "import", "ü ✓ spaces ok"]);
      // a worker's take carries them too
      const taken = await s.takeNext(10);
      expect(taken.map((t) => [t.id, t.tags])).toEqual([
        ["t-1", ["tenant:42", "import", "ü ✓ spaces ok"]],
        ["t-2", []],
      ]);
      // an empty list is no tags: nothing indexed
      await s.claim(task(3, { tags: [] }));
      expect((await s.getById("t-3"))[0]?.tags).toEqual([]);
      expect(await tagRows(s)).toBe(3);
    });

    it("a duplicate keeps the first task's tags; enqueueMany stores each task's own", async () => {
      const s = await store();
      await s.claim(task(1, { tags: ["first"] }));
      const again = await s.claim(task(1, { tags: ["second"] }));
      expect(again.created).toBe(false);
      expect((await s.getById("t-1"))[0]?.tags).toEqual(["first"]);
      expect(await s.listTasks({ tag: "second", limit: 10 })).toEqual([]);
      const many = await s.enqueueMany([
        task(2, { tags: ["batch", "a"] }),
        task(3, { tags: ["batch"] }),
        task(4),
      ]);
      expect(many.every((r) => r.created)).toBe(true);
      expect((await s.listTasks({ tag: "batch", limit: 10 })).map((t) => [t.id, t.tags])).toEqual([
        ["t-3", ["batch"]],
        ["t-2", ["batch", "a"]],
      ]);
      expect(await tagRows(s)).toBe(4);
    });

    it("listTasks by tag: newest first, keyset pages cover the tag's tasks once, with a status and a kind too", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      // 40 tasks over two kinds: every third tagged "even-ish", every fifth "rare", one both
      const seqs: { seq: number; kind: string; tags: string[] }[] = [];
      for (let n = 1; n <= 40; n++) {
        const tags = [...(n % 3 === 0 ? ["every-third"] : []), ...(n % 5 === 0 ? ["every-fifth"] : [])];
        const kind = n % 2 === 0 ? "image" : "email";
        const r = await s.claim(task(n, { kind, tags }));
        if (r.created) seqs.push({ seq: r.seq, kind, tags });
      }
      // some run: the tasks 1-10 succeed, so a status filter has something to tell apart
      for (const t of await s.takeNext(10)) await s.succeed(t.seq, t.version);
      const records = new Map((await s.listTasks({ limit: 500 })).map((t) => [t.seq, t]));
      const want = (tag: string, status?: string, kind?: string) =>
        seqs
          .filter(
            (t) =>
              t.tags.includes(tag) &&
              (status === undefined || records.get(t.seq)?.status === status) &&
              (kind === undefined || t.kind === kind),
          )
          .map((t) => t.seq)
          .reverse();
      for (const limit of [1, 3, 50]) {
        expect(await pagesOf(s, { tag: "every-third" }, limit)).toEqual(want("every-third"));
        expect(await pagesOf(s, { tag: "every-fifth", kind: "image" }, limit)).toEqual(
          want("every-fifth", undefined, "image"),
        );
        expect(await pagesOf(s, { tag: "every-third", status: "succeeded" }, limit)).toEqual(
          want("every-third", "succeeded"),
        );
        expect(await pagesOf(s, { tag: "every-third", status: "queued", kind: "email" }, limit)).toEqual(
          want("every-third", "queued", "email"),
        );
      }
      expect(want("every-third").length).toBe(13);
      expect(want("every-third", "succeeded").length).toBeGreaterThan(0);
      expect(await s.listTasks({ tag: "no-such-tag", limit: 10 })).toEqual([]);
    });

    it("retention and purges delete a task's tags with it", async () => {
      const c = clock();
      const s = await store({ now: c.now, maxAttempts: 1 });
      await s.claim(task(1, { tags: ["kept", "gone-with-success"] }));
      await s.claim(task(2, { tags: ["gone-with-failure"] }));
      await s.claim(task(3, { tags: ["kept"] }));
      const [ok, bad] = await s.takeNext(2);
      await s.succeed(ok?.seq as number, ok?.version as number);
      await s.fail(bad?.seq as number, bad?.version as number, { errorClass: "permanent", message: "no" });
      expect(await tagRows(s)).toBe(4);
      c.advance(10_000);
      expect(await s.prune({ olderThanMs: 1000 })).toBe(1);
      expect(await tagRows(s)).toBe(2);
      expect(await s.purgeDeadLetters(1000)).toBe(1);
      expect(await tagRows(s)).toBe(1);
      expect((await s.listTasks({ tag: "kept", limit: 10 })).map((t) => t.id)).toEqual(["t-3"]);
    });

    it("refuses bad tags with ERR_INVALID_INPUT naming them, storing nothing", async () => {
      const s = await store();
      const bad: [unknown, RegExp][] = [
        ["tenant:42", /^tags must be an array of strings, got "tenant:42"/],
        [[""], /^tags\[0\] must not be empty/],
        [["ok", 7], /^tags\[1\] must be a string, got number/],
        [["x".repeat(101)], /^tags\[0\] is longer than 100 characters \(101\)/],
        [["line\nbreak"], /^tags\[0\] "line\\nbreak" has a control character/],
        [Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`), /^tags has 17 tags, more than 16/],
      ];
      for (const [tags, message] of bad) {
        const error = await s.claim(task(1, { tags: tags as string[] })).catch((e: Error) => e);
        expect(error).toMatchObject({ code: "ERR_INVALID_INPUT" });
        expect((error as Error).message).toMatch(message);
      }
      for (const tag of ["", "x".repeat(101), "tab\t"]) {
        const error = await s.listTasks({ tag, limit: 10 }).catch((e: Error) => e);
        expect(error).toMatchObject({ code: "ERR_INVALID_INPUT" });
      }
      expect(await s.listTasks({ limit: 10 })).toEqual([]);
      expect(await tagRows(s)).toBe(0);
    });
  });
}
