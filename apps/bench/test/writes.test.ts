// `taskq-bench writes` for real, a few hundred tasks: the report's shape and its sanity (every
// phase writes WAL, the enqueue adds index entries), not its figures, which the layout decides.
// PostgreSQL twice: on a throwaway server of the run's own (its superuser counts index entries),
// and on the test run's server through --pg-url, whose role is no superuser (entries left out).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { WritesResult } from "../src/writes.js";

const bin = new URL("../dist/bin.js", import.meta.url).pathname;

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const TASKS = 300;

/** Runs the mode; returns its stdout and the JSON it wrote. */
async function runWrites(store: "sqlite" | "postgres", extra: string[] = []) {
  const out = mkdtempSync(join(tmpdir(), `taskq-bench-writes-${store}-`));
  try {
    const run = await bench([
      ...["writes", "--store", store, "--tasks", String(TASKS), "--batch", "100"],
      ...extra,
      ...["--out", out, "--quiet"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(join(out, `writes-${store}.json`), "utf8")) as WritesResult;
    return { stdout: run.stdout, result };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** What every run's report holds, whatever the store. */
function checkShape(result: WritesResult, stdout: string) {
  expect(result).toMatchObject({ tasks: TASKS, batch: 100, machine: { node: process.version } });
  expect(Object.keys(result.phases)).toEqual(["enqueue", "take", "succeed", "total"]);
  expect(result.layout.tables.length).toBeGreaterThan(0);
  expect(result.layout.indexes.length).toBeGreaterThan(0);
  for (const phase of ["enqueue", "take", "succeed"] as const) {
    const { totals, per_task } = result.phases[phase];
    expect(totals["wal_bytes"], phase).toBeGreaterThan(0);
    expect(per_task["wal_bytes"]).toBeCloseTo((totals["wal_bytes"] as number) / TASKS, 6);
  }
  const sum = (["enqueue", "take", "succeed"] as const).reduce(
    (s, p) => s + (result.phases[p].totals["wal_bytes"] as number),
    0,
  );
  expect(result.phases.total.totals["wal_bytes"]).toBe(sum);
  expect(stdout).toMatch(
    /^taskq-bench writes · .* store · 300 no-op tasks enqueued, then taken, then succeeded/m,
  );
  expect(stdout).toMatch(/^machine: \d+ cores, /m);
  expect(stdout).toMatch(/^per task +enqueue +take +succeed +total$/m);
  expect(stdout).toMatch(/^WAL bytes .* [\d,.]+ +[\d,.]+ +[\d,.]+ +[\d,.]+$/m);
}

describe("taskq-bench writes: what each task writes", () => {
  it("sqlite: WAL frames, net index entries per index, the freelist", async () => {
    const { stdout, result } = await runWrites("sqlite");
    checkShape(result, stdout);
    const { enqueue, take, total } = result.phases;
    expect(enqueue.per_task["index_entries_net"]).toBeGreaterThanOrEqual(2); // the key's and the id's at least
    expect(enqueue.per_task["rows_net"]).toBeGreaterThanOrEqual(1);
    // a take moves a task between indexes: entries removed from one, added to another
    expect(take.totals["index_entries_removed"]).toBeGreaterThan(0);
    expect(take.totals["index_entries_added"]).toBeGreaterThan(0);
    expect(total.totals["freelist_pages"]).toEqual(expect.any(Number));
    // every frame is a page of some b-tree (or the freelist): the breakdown adds up to the total
    for (const phase of ["enqueue", "take", "succeed"] as const) {
      const byTree = Object.values(result.phases[phase].relations).reduce(
        (s, r) => s + (r.figures["wal_bytes"] ?? 0),
        0,
      );
      expect(byTree, phase).toBe(result.phases[phase].totals["wal_bytes"]);
    }
    const index = result.layout.indexes[0]?.name as string;
    expect(total.relations[index]).toMatchObject({
      kind: "index",
      figures: { entries_net: expect.any(Number) },
    });
    expect(stdout).toMatch(/^index entries, net, by index/m);
    expect(stdout).toContain("SQLite deletes an index entry at once");
  });

  it("postgres, a throwaway server: WAL, rows, dead tuples, index entries written and net per index", {
    timeout: 120_000,
  }, async () => {
    const { stdout, result } = await runWrites("postgres");
    checkShape(result, stdout);
    expect(result.server).toContain("measured as a superuser");
    const { enqueue, take, succeed, total } = result.phases;
    expect(enqueue.per_task["heap_inserted"]).toBeGreaterThanOrEqual(1);
    expect(take.totals["heap_updated"]).toBeGreaterThan(0);
    expect(succeed.totals["heap_updated"]).toBeGreaterThan(0);
    // autovacuum is off: the versions the take and the succeed left behind are counted
    expect(total.totals["dead_tuples"]).toBeGreaterThan(0);
    // the primary key, the id and the key at least, for every layout
    expect(enqueue.per_task["index_entries_written"]).toBeGreaterThanOrEqual(3);
    expect(enqueue.per_task["index_entries_net"]).toBeGreaterThanOrEqual(3);
    for (const phase of ["enqueue", "take", "succeed"] as const) {
      const t = result.phases[phase].totals;
      expect(t["index_entries_written"], phase).toBeGreaterThan(0);
      // what an index holds grows by what was written less what it removed itself
      expect(t["index_entries_net"] as number, phase).toBeLessThanOrEqual(
        t["index_entries_written"] as number,
      );
    }
    const pkey = Object.entries(total.relations).find(([name]) => name === "tasks_pkey")?.[1];
    expect(pkey).toMatchObject({
      kind: "index",
      table: "tasks",
      figures: { entries_written: expect.any(Number), entries_net: expect.any(Number) },
    });
    expect(total.records?.["Transaction/COMMIT"]?.records).toBeGreaterThan(0);
    expect(stdout).toMatch(/^index entries written, by index/m);
    expect(stdout).toMatch(/^WAL bytes, by record type \(pg_walinspect\)/m);
  });

  it("postgres, --pg-url of a role that is no superuser: everything but the index entries", async () => {
    const { stdout, result } = await runWrites("postgres", ["--pg-url", inject("pgUrl")]);
    checkShape(result, stdout);
    expect(result.server).not.toContain("superuser");
    expect(result.phases.enqueue.per_task["heap_inserted"]).toBeGreaterThanOrEqual(1);
    expect(result.phases.total.totals["index_entries_written"]).toBeNull();
    expect(result.phases.total.totals["index_entries_net"]).toBeNull();
    expect(result.notes.join("\n")).toContain("index entries not measured: they need a superuser");
    expect(stdout).toMatch(/^index entries written \(WAL\) +- +- +- +-$/m);
  });

  it("bad flags are one-line usage errors", async () => {
    const tasks = await bench(["writes", "--tasks", "0"]);
    expect([tasks.code, tasks.stderr]).toEqual([2, "taskq-bench: --tasks must be an integer >= 1, got 0\n"]);
    const url = await bench(["writes", "--pg-url", "postgres://localhost/x"]);
    expect([url.code, url.stderr]).toEqual([2, "taskq-bench: --pg-url needs --store postgres\n"]);
    const store = await bench(["writes", "--store", "mysql"]);
    expect(store.code).toBe(2);
    expect(store.stderr).toMatch(/^taskq-bench: Invalid values: .*store/);
  });
});
