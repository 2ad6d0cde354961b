// Workflows through the client and a worker (issue 35), on SQLite and on a real PostgreSQL: a
// diamond enqueued as one flow runs in order and its last step reads both parents' results through
// ctx.parents, with its handler on the main thread, on a thread and in an isolated process; a
// failed step cancels what runs after it, with the reason; `enqueue(..., { after })` and get(id)
// show the links; bad flows are refused in one line, nothing stored.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type Client, ConfigError, connect, createWorker, type Worker } from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const STEP = new URL("./fixtures/flow-step.mjs", import.meta.url).pathname;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_flows");
});

const stores: [string, () => string][] = [
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-flows-")), "tasks.db")],
  ["PostgreSQL", () => pgStore],
];

describe.each(stores)("workflows on %s", (_name, storeOf) => {
  const kindOf = () => `step_${randomUUID().slice(0, 8)}`;

  async function open(kind: string, where: "main" | "thread" | "process") {
    const store = storeOf();
    const client: Client = await connect({ store });
    closers.push(() => client.close());
    const worker: Worker = await createWorker({
      store,
      handlers: { [kind]: STEP },
      threads: where === "main" ? 0 : 1,
      ...(where === "process" ? { isolation: { [kind]: "process" as const } } : {}),
      pollMs: 20,
    });
    closers.push(() => worker.close());
    return client;
  }

  const diamond = (kind: string, run: string, failB = false) => ({
    tasks: {
      a: { kind, payload: { name: "a", run } },
      b: { kind, payload: { name: "b", run, fail: failB }, after: ["a"], maxAttempts: 1 },
      c: { kind, payload: { name: "c", run }, after: ["a"] },
      d: { kind, payload: { name: "d", run }, after: ["b", "c"] },
    },
  });

  it.each(["main", "thread", "process"] as const)(
    "a diamond runs in order; D reads B's and C's results (handler on the %s)",
    async (where) => {
      const kind = kindOf();
      const client = await open(kind, where);
      const run = randomUUID();
      const flow = await client.enqueueFlow(diamond(kind, run));
      expect(Object.keys(flow)).toEqual(["a", "b", "c", "d"]);
      expect(flow.d).toMatchObject({ kind, status: "queued", duplicate: false });
      const d = (await client.result(flow.d!.id, { timeoutMs: 60_000 })) as { parents: unknown[] };
      expect(d).toEqual({
        name: "d",
        parents: [flow.b!.id, flow.c!.id].sort().map((id) => ({
          id,
          kind,
          status: "succeeded",
          result: {
            name: id === flow.b!.id ? "b" : "c",
            parents: [{ id: flow.a!.id, kind, status: "succeeded", result: { name: "a", parents: [] } }],
          },
        })),
      });
      // D started after B and C finished
      const [b, c, dInfo] = await Promise.all([
        client.get(flow.b!.id),
        client.get(flow.c!.id),
        client.get(flow.d!.id),
      ]);
      expect(dInfo?.startedAt?.getTime()).toBeGreaterThanOrEqual(
        Math.max(b!.finishedAt!.getTime(), c!.finishedAt!.getTime()),
      );
      expect(dInfo).toMatchObject({ waitingFor: 0, children: [] });
      expect(dInfo?.parents.map((p) => [p.id, p.status, p.ifFailed])).toEqual(
        [flow.b!.id, flow.c!.id].map((id) => [id, "succeeded", "cancel"]),
      );
      expect((await client.get(flow.a!.id))?.children.map((l) => l.id)).toEqual([flow.b!.id, flow.c!.id]);
    },
  );

  it("a failed step cancels what runs after it, with the reason; a run-anyway step still runs", async () => {
    const kind = kindOf();
    const client = await open(kind, "main");
    const run = randomUUID();
    const spec = diamond(kind, run, true);
    const flow = await client.enqueueFlow({
      tasks: {
        ...spec.tasks,
        report: { kind, payload: { name: "report", run }, after: [{ task: "b", ifFailed: "run" }] },
      },
    });
    const report = (await client.result(flow.report!.id, { timeoutMs: 60_000 })) as {
      parents: { status: string }[];
    };
    expect(report.parents).toEqual([{ id: flow.b!.id, kind, status: "failed" }]);
    await expect(client.result(flow.d!.id, { timeoutMs: 60_000 })).rejects.toMatchObject({
      name: "TaskCancelledError",
    });
    expect(await client.get(flow.d!.id)).toMatchObject({
      status: "cancelled",
      error: { errorClass: "parent_failed", message: `parent ${flow.b!.id} failed` },
    });
    expect((await client.get(flow.c!.id))?.status).toBe("succeeded");
  });

  it("enqueue after existing tasks: waits, shows its links, runs once they succeeded", async () => {
    const kind = kindOf();
    const store = storeOf();
    const client = await connect({ store });
    closers.push(() => client.close());
    const run = randomUUID();
    const first = await client.enqueue(kind, { name: "first", run });
    const second = await client.enqueue(kind, { name: "second", run });
    const last = await client.enqueue(
      kind,
      { name: "last", run },
      { after: [first.id, { id: second.id, ifFailed: "run" }] },
    );
    expect(await client.get(last.id)).toMatchObject({
      status: "queued",
      waitingFor: 2,
      scheduled: false,
      parents: [
        { id: first.id, kind, status: "queued", ifFailed: "cancel" },
        { id: second.id, kind, status: "queued", ifFailed: "run" },
      ],
    });
    expect((await client.get(first.id))?.children).toEqual([
      { id: last.id, kind, status: "queued", ifFailed: "cancel" },
    ]);
    const worker = await createWorker({ store, handlers: { [kind]: STEP }, threads: 0, pollMs: 20 });
    closers.push(() => worker.close());
    expect(await client.result(last.id, { timeoutMs: 60_000 })).toMatchObject({ name: "last" });
  });

  it("a flow's tasks take enqueue's choices: group, tags, correlationId, priority", async () => {
    const kind = kindOf();
    const client = await connect({ store: storeOf() });
    closers.push(() => client.close());
    const run = randomUUID();
    const flow = await client.enqueueFlow({
      tasks: {
        a: { kind, payload: { run, n: 1 }, group: "tenant-1", tags: ["t"], correlationId: `req-${run}` },
        b: { kind, payload: { run, n: 2 }, after: ["a"], group: "tenant-2", priority: 3 },
      },
    });
    expect(await client.get(flow.a!.id)).toMatchObject({
      group: "tenant-1",
      tags: ["t"],
      correlationId: `req-${run}`,
    });
    expect(await client.get(flow.b!.id)).toMatchObject({ group: "tenant-2", priority: 3, waitingFor: 1 });
    await expect(
      client.enqueueFlow({ tasks: { x: { kind, payload: { run }, group: "" } } }),
    ).rejects.toMatchObject({ option: "tasks.x.group" });
  });

  it("refuses bad flows in one line, storing nothing", async () => {
    const kind = kindOf();
    const client = await connect({ store: storeOf() });
    closers.push(() => client.close());
    const run = randomUUID();
    await expect(
      client.enqueueFlow({
        tasks: {
          x: { kind, payload: { run, n: 1 }, id: `x-${run}`, after: ["y"] },
          y: { kind, payload: { run, n: 2 }, after: ["x"] },
        },
      }),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_INPUT",
      message: "after: the flow has a cycle (through tasks x, y)",
    });
    await expect(
      client.enqueueFlow({ tasks: { x: { kind, payload: { run }, after: ["nope"] } } }),
    ).rejects.toThrow(ConfigError);
    await expect(
      client.enqueueFlow({
        tasks: {
          w: { kind, payload: { run } },
          x: { kind, payload: { run }, after: [{ task: "w", id: "w" }] },
        },
      }),
    ).rejects.toMatchObject({
      option: "tasks.x.after[0]",
      message: "tasks.x.after[0] must give task or id, not both",
    });
    await expect(client.enqueueFlow({ tasks: {} })).rejects.toMatchObject({ option: "tasks" });
    await expect(client.enqueue(kind, { run }, { after: ["no-such-task"] })).rejects.toMatchObject({
      code: "ERR_INVALID_INPUT",
      message: "after: no task with id no-such-task",
    });
    await expect(
      client.enqueue(kind, { run }, { after: [{ id: "x", ifFailed: "maybe" as "run" }] }),
    ).rejects.toThrow(/after\[0\]\.ifFailed must be "cancel" or "run"/);
    expect(await client.get(`x-${run}`)).toBeUndefined();
  });
});
