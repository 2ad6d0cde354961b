// Workflows across a fleet on a real PostgreSQL (issue 35), as separate processes: two worker
// processes run a diamond (A → B, A → C, B + C → D) and a fan-in of 1,000 parents; one is
// SIGKILLed mid-way (its leases expire, its tasks run again on the other). D runs once, after B
// and C ended, and reads both results through ctx.parents; the fan-in's child runs once and reads
// all 1,000; a failed B cancels its D with the reason. The same on SQLite, with two workers in one
// process, one closed mid-way.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, inject, it, vi } from "vitest";
import { type Client, connect, createWorker, type Worker } from "../src/index.js";
import { fleet } from "./fleet-processes.js";
import { freshDatabase } from "./fresh-database.js";

const KIND = "fstep";
const STEP = new URL("./fixtures/fleet/flow-step.mjs", import.meta.url);

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function startFlowWorker(store: string, name: string, events: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fleet("flow-worker"), store, name, KIND, events], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  closers.push(() => {
    child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker ${name} exited early (${code})`)));
  });
}

/** The diamond, the fan-in and a diamond whose B fails, enqueued; the diamond's A waits for `gate`. */
async function enqueueWork(client: Client, gate: string) {
  const diamond = await client.enqueueFlow({
    tasks: {
      a: { kind: KIND, payload: { name: "a", gate } },
      b: { kind: KIND, payload: { name: "b" }, after: ["a"] },
      c: { kind: KIND, payload: { name: "c" }, after: ["a"] },
      d: { kind: KIND, payload: { name: "d" }, after: ["b", "c"] },
    },
  });
  const parents = await client.enqueueMany(
    KIND,
    Array.from({ length: 1000 }, (_, n) => ({ name: `p${String(n).padStart(4, "0")}` })),
  );
  const sum = await client.enqueue(KIND, { name: "sum" }, { after: parents.map((p) => p.id) });
  const failing = await client.enqueueFlow({
    tasks: {
      a: { kind: KIND, payload: { name: "a2", gate } },
      b: { kind: KIND, payload: { name: "b2", fail: true }, after: ["a"], maxAttempts: 1 },
      c: { kind: KIND, payload: { name: "c2" }, after: ["a"] },
      d: { kind: KIND, payload: { name: "d2" }, after: ["b", "c"] },
    },
  });
  return { diamond, sum, failing, parents };
}

/** What the events say, and every check of the run once it is over. */
async function checkRun(client: Client, events: string, work: Awaited<ReturnType<typeof enqueueWork>>) {
  const { diamond, sum, failing } = work;
  expect(await client.result(diamond.d!.id, { timeoutMs: 60_000 })).toEqual({
    name: "d",
    parents: ["b", "c"],
  });
  const summed = (await client.result(sum.id, { timeoutMs: 60_000 })) as { parents: string[] };
  expect(summed.parents).toHaveLength(1000);
  expect(summed.parents[0]).toBe("p0000");
  await expect(client.result(failing.d!.id, { timeoutMs: 60_000 })).rejects.toMatchObject({
    name: "TaskCancelledError",
  });
  expect(await client.get(failing.d!.id)).toMatchObject({
    status: "cancelled",
    error: { errorClass: "parent_failed", message: `parent ${failing.b!.id} failed` },
  });
  expect((await client.result(failing.c!.id, { timeoutMs: 60_000 })) as object).toMatchObject({ name: "c2" });
  const lines = readFileSync(events, "utf8").split("\n").filter(Boolean);
  const starts = (name: string) => lines.filter((l) => l.startsWith(`start ${name} `));
  // released exactly once: D and the fan-in's child each ran one attempt; d2 never ran
  expect(starts("d")).toHaveLength(1);
  expect(starts("sum")).toHaveLength(1);
  expect(starts("d2")).toHaveLength(0);
  // D started after B and C ended (their last attempts)
  const at = (line: string) => lines.lastIndexOf(line);
  const dStart = lines.indexOf(starts("d")[0] as string);
  expect(dStart).toBeGreaterThan(at("end b"));
  expect(dStart).toBeGreaterThan(at("end c"));
  expect(lines.indexOf(starts("sum")[0] as string)).toBeGreaterThan(
    Math.max(...work.parents.map((_, n) => at(`end p${String(n).padStart(4, "0")}`))),
  );
}

it("PostgreSQL: two worker processes, one SIGKILLed mid-way: every child released once, after its parents", {
  timeout: 180_000,
}, async () => {
  const store = await freshDatabase(inject("pgUrl"), "taskq_fleet_flows");
  const dir = mkdtempSync(join(tmpdir(), "taskq-fleet-flows-"));
  const [events, gate] = [join(dir, "events"), join(dir, "gate")];
  writeFileSync(events, "");
  const client = await connect({ store });
  closers.push(() => client.close());
  const work = await enqueueWork(client, gate);
  const doomed = await startFlowWorker(store, "W1", events);
  await startFlowWorker(store, "W2", events);
  // mid-way through the fan-in: W1 holds tasks (the gated roots, maybe, and parents) when killed
  await vi.waitFor(
    async () => {
      const done = (await client.store.statusCounts(10_000)).byKind;
      const succeeded = done.reduce((n, k) => n + (k.kind === KIND ? k.succeeded : 0), 0);
      expect(succeeded).toBeGreaterThanOrEqual(300);
    },
    { timeout: 60_000, interval: 20 },
  );
  doomed.kill("SIGKILL");
  writeFileSync(gate, "");
  await checkRun(client, events, work);
});

it("SQLite: two workers in one process, one closed mid-way: every child released once, after its parents", {
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "taskq-flows-sqlite-"));
  const store = join(dir, "tasks.db");
  const [events, gate] = [join(dir, "events"), join(dir, "gate")];
  writeFileSync(events, "");
  const client = await connect({ store });
  closers.push(() => client.close());
  const work = await enqueueWork(client, gate);
  const workerOf = async (name: string): Promise<Worker> => {
    const w = await createWorker({
      store,
      handlers: { [KIND]: STEP },
      handlerOptions: { worker: name, events },
      threads: 0,
      concurrency: 8,
      pollMs: 20,
    });
    closers.push(() => w.close());
    return w;
  };
  const first = await workerOf("W1");
  await workerOf("W2");
  await vi.waitFor(
    async () => {
      const done = (await client.store.statusCounts(10_000)).byKind;
      expect(done.reduce((n, k) => n + (k.kind === KIND ? k.succeeded : 0), 0)).toBeGreaterThanOrEqual(300);
    },
    { timeout: 60_000, interval: 20 },
  );
  // closing hands its held tasks back (the gated root it runs finishes once the gate opens)
  const closing = first.close();
  writeFileSync(gate, "");
  await closing;
  await checkRun(client, events, work);
});
