// The store contract for correlation ids and trace contexts (migration 017), run against every
// driver on its real backend: both stored as given and read back with the task (get, getById, a
// worker's take, a duplicate's record), none is null, a filter by correlation id in listTasks
// (alone and with a status, a kind and a tag, in keyset pages), and bad values refused naming
// the field.
import { describe, expect, it } from "vitest";
import type { TaskStoreDriver } from "../src/index.js";
import { clock, type MakeOptions, storesClosedAfterEach, task } from "./driver-suite.js";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

export function testCorrelationContract(
  name: string,
  make: (options?: MakeOptions) => Promise<TaskStoreDriver>,
): void {
  describe(`task store contract, correlation and trace context: ${name}`, () => {
    const store = storesClosedAfterEach(make);

    it("stores a task's correlation id and trace context and reads them back; none is null", async () => {
      const s = await store();
      await s.claim(
        task(1, { correlationId: "req-7f3a", traceContext: { traceparent: PARENT, tracestate: "vendor=1" } }),
      );
      await s.claim(task(2, { correlationId: "req-7f3a" }));
      await s.claim(task(3));
      await s.claim(
        task(4, { start: true, correlationId: "req-start", traceContext: { traceparent: PARENT } }),
      );
      const byId = async (id: string) => (await s.getById(id))[0];
      expect(await byId("t-1")).toMatchObject({
        correlationId: "req-7f3a",
        traceContext: { traceparent: PARENT, tracestate: "vendor=1" },
      });
      expect(await byId("t-2")).toMatchObject({ correlationId: "req-7f3a", traceContext: null });
      expect(await byId("t-3")).toMatchObject({ correlationId: null, traceContext: null });
      const started = await byId("t-4");
      expect(started).toMatchObject({
        status: "running",
        correlationId: "req-start",
        traceContext: { traceparent: PARENT },
      });
      expect((await s.get(started?.seq ?? 0))?.correlationId).toBe("req-start");
      // a worker's take carries them
      const taken = await s.takeNext(10);
      expect(taken.map((t) => [t.id, t.correlationId, t.traceContext?.traceparent ?? null])).toEqual([
        ["t-1", "req-7f3a", PARENT],
        ["t-2", "req-7f3a", null],
        ["t-3", null, null],
      ]);
      // a duplicate keeps the first task's, and its answer shows them
      const again = await s.claim(task(1, { correlationId: "other" }));
      expect(again).toMatchObject({ created: false, record: { correlationId: "req-7f3a" } });
      // enqueueMany stores each task's own
      await s.enqueueMany([task(5, { correlationId: "batch" }), task(6)]);
      expect((await byId("t-5"))?.correlationId).toBe("batch");
      expect((await byId("t-6"))?.correlationId).toBeNull();
    });

    it("listTasks by correlation id: newest first, keyset pages cover its tasks once, with a status, kind and tag too", async () => {
      const c = clock();
      const s = await store({ now: c.now });
      const expected: number[] = [];
      for (let i = 1; i <= 30; i++) {
        const r = await s.claim(
          task(i, {
            kind: i % 2 === 0 ? "email" : "image",
            ...(i % 3 === 0 ? { correlationId: "req-1" } : i % 5 === 0 ? { correlationId: "req-2" } : {}),
            ...(i % 6 === 0 ? { tags: ["six"] } : {}),
          }),
        );
        if (r.created && i % 3 === 0) expected.unshift(r.seq);
      }
      const all = async (filter: Record<string, unknown>, limit: number) => {
        const seqs: number[] = [];
        let beforeSeq: number | undefined;
        for (;;) {
          const page = await s.listTasks({
            correlationId: "req-1",
            ...filter,
            limit,
            ...(beforeSeq ? { beforeSeq } : {}),
          });
          seqs.push(...page.map((t) => t.seq));
          if (page.length < limit) return { seqs, last: page };
          beforeSeq = page.at(-1)?.seq;
        }
      };
      expect((await all({}, 3)).seqs).toEqual(expected);
      const emails = await s.listTasks({ correlationId: "req-1", kind: "email", limit: 50 });
      expect(emails.map((t) => t.id)).toEqual(["t-30", "t-24", "t-18", "t-12", "t-6"]);
      expect((await s.listTasks({ correlationId: "req-1", tag: "six", limit: 2 })).map((t) => t.id)).toEqual([
        "t-30",
        "t-24",
      ]);
      await s.takeNext(1, ["image"]); // t-1 (no correlation id)
      await s.takeNext(1, ["image"]); // t-3
      expect(
        (await s.listTasks({ correlationId: "req-1", status: "running", limit: 10 })).map((t) => t.id),
      ).toEqual(["t-3"]);
      expect((await s.listTasks({ correlationId: "req-2", limit: 10 })).map((t) => t.id)).toEqual([
        "t-25",
        "t-20",
        "t-10",
        "t-5",
      ]);
      expect(await s.listTasks({ correlationId: "nobody", limit: 10 })).toEqual([]);
    });

    it("refuses a bad correlation id or trace context, naming the field", async () => {
      const s = await store();
      for (const bad of ["", "has space", "x".repeat(201), "tab\there", "é"]) {
        await expect(s.claim(task(1, { correlationId: bad }))).rejects.toThrow(/correlationId/);
      }
      await expect(s.claim(task(1, { correlationId: 42 as unknown as string }))).rejects.toThrow(
        /correlationId/,
      );
      await expect(s.claim(task(1, { traceContext: { traceparent: "not-a-traceparent" } }))).rejects.toThrow(
        /traceContext/,
      );
      await expect(s.listTasks({ correlationId: "a b", limit: 10 })).rejects.toThrow(/correlationId/);
      expect(await s.listTasks({ limit: 10 })).toEqual([]);
    });
  });
}
