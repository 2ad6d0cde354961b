import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = new URL("..", import.meta.url).pathname;
const tsx = join(here, "node_modules", ".bin", "tsx");

function script(name: string, args: string[]) {
  return run(tsx, [join(here, name), ...args], { cwd: here });
}

describe("baseline_task_queue_v2", () => {
  it("processes the sample set and prints `done in X.XX sec`; --json reports the same figures as the optimized run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-baseline-"));
    const { stdout } = await script("baseline_task_queue_v2.ts", [
      "--storage",
      join(dir, "objects"),
      "--seed-images",
      "--base-latency-ms",
      "1",
      "--json",
      join(dir, "b.json"),
    ]);
    expect(stdout).toMatch(/^done in \d+\.\d\d sec\n$/);
    const report = JSON.parse(readFileSync(join(dir, "b.json"), "utf8"));
    // 8 tasks, one a duplicate key: the baseline runs it again (no idempotency)
    expect(report).toMatchObject({
      system: "baseline",
      success_count: 8,
      duplicate_count: 0,
      retry_count: 0,
    });
    expect(report.p95_latency_ms).toBeGreaterThan(0);
  });

  it("generates a seeded workload with its images, then runs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-gen-"));
    const out = join(dir, "tasks.json");
    const gen = await script("generate_tasks.ts", [
      "--count",
      "60",
      "--out",
      out,
      "--storage",
      join(dir, "objects"),
      "--seed",
      "3",
    ]);
    expect(gen.stdout).toMatch(/^wrote 60 tasks \(\d+ unique keys\) to .* and \d+ images into /);
    const tasks = JSON.parse(readFileSync(out, "utf8"));
    expect(tasks).toHaveLength(60);
    const { stdout } = await script("baseline_task_queue_v2.ts", [
      "--tasks",
      out,
      "--storage",
      join(dir, "objects"),
      "--base-latency-ms",
      "0",
    ]);
    expect(stdout).toMatch(/^done in \d+\.\d\d sec/);
  });

  it("bad input: a clear one-line error and exit code 2", async () => {
    const missing = await script("baseline_task_queue_v2.ts", ["--tasks", "/nonexistent/tasks.json"]).catch(
      (e) => e,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("baseline: cannot read task file /nonexistent/tasks.json: no such file\n");
    const flag = await script("baseline_task_queue_v2.ts", ["--workers", "0"]).catch((e) => e);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('baseline: --workers must be a number >= 1, got "0"\n');
  });
});
