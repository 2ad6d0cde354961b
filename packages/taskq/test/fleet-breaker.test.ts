// A kind's circuit breaker across a fleet on a real PostgreSQL (issue 34), as separate processes:
// two workers (one slot each, no prefetch) serve a kind whose downstream is down while a flag file
// exists. The breaker opens within its threshold (the failed attempts of both workers counted),
// holds the backlog queued with its attempts untouched, lets one probe through per cool-down
// (each probe's failure opens it again: counted, not timed), and closes on the first probe after
// the flag is removed; then every task succeeds, none dead-lettered.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, inject, it, vi } from "vitest";
import { connect } from "../src/index.js";
import { fleet } from "./fleet-processes.js";
import { freshDatabase } from "./fresh-database.js";

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function startBreakerWorker(store: string, name: string, kind: string, flag: string, events: string) {
  const child = spawn(process.execPath, [fleet("breaker-worker"), store, name, kind, flag, events], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker ${name} exited early (${code})`)));
  });
}

it("a breaker opens within its threshold across two workers, holds the backlog, probes once per cool-down and closes", {
  timeout: 120_000,
}, async () => {
  const store = await freshDatabase(inject("pgUrl"), "taskq_fleet_breaker");
  const kind = `mail_${randomUUID().slice(0, 6)}`;
  const dir = mkdtempSync(join(tmpdir(), "taskq-breaker-"));
  const [flag, events] = [join(dir, "down"), join(dir, "events")];
  writeFileSync(flag, "");
  writeFileSync(events, "");
  const lines = () => readFileSync(events, "utf8").split("\n").filter(Boolean);
  const count = (prefix: string) => lines().filter((l) => l.startsWith(prefix)).length;
  const client = await connect({ store });
  try {
    await client.setBreaker(kind, { failures: 3, windowMs: 60_000, cooldownMs: 300 });
    const tasks = await client.enqueueMany(
      kind,
      Array.from({ length: 20 }, (_, n) => ({ n })),
    );
    await startBreakerWorker(store, "A", kind, flag, events);
    await startBreakerWorker(store, "B", kind, flag, events);
    // opened, and two probes failed since (each opened it again)
    await vi.waitFor(() => expect(count("opened")).toBeGreaterThanOrEqual(3), {
      timeout: 60_000,
      interval: 20,
    });
    const [breaker] = await client.breakers();
    expect(breaker).toMatchObject({ kind, failures: 3, cooldownMs: 300 });
    expect(["open", "half-open"]).toContain(breaker?.state);
    // every attempt is one the store counted: nothing consumed an attempt while the kind was held
    const seen = await Promise.all(tasks.map((t) => client.get(t.id)));
    expect(seen.every((t) => t?.status === "queued" || t?.status === "running")).toBe(true);
    const attempts = seen.reduce((n, t) => n + (t?.attempts ?? 0), 0);
    expect(Math.abs(attempts - count("attempt "))).toBeLessThanOrEqual(2); // a probe in flight
    expect(seen.filter((t) => t?.attempts === 0).length).toBeGreaterThanOrEqual(20 - attempts);
    // up to its last opening: the failures before the first one are the threshold, plus at most
    // the other worker's attempt in flight; every later attempt is a probe, one per opening after
    // the first (its failure opened it again)
    const history = lines();
    const upTo = history.slice(0, history.findLastIndex((l) => l.startsWith("opened")) + 1);
    const opened = upTo.filter((l) => l.startsWith("opened")).length;
    const before = upTo.filter((l) => l.startsWith("attempt ")).length - (opened - 1);
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThanOrEqual(4);

    rmSync(flag);
    for (const t of tasks)
      expect(await client.result(t.id, { timeoutMs: 60_000 })).toMatchObject({ n: expect.any(Number) });
    const done = await Promise.all(tasks.map((t) => client.get(t.id)));
    expect(done.every((t) => t?.status === "succeeded")).toBe(true);
    expect(count("closed")).toBe(1);
    expect(await client.breakers()).toMatchObject([{ kind, state: "closed", failuresInWindow: 0 }]);
    expect(await client.store.listDeadLetters({ limit: 10 })).toEqual([]);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
