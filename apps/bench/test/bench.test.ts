import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CSV_COLUMNS } from "@taskq/metrics";
import { describe, expect, inject, it } from "vitest";
import { machineLimit, PROFILES, runBenchmark } from "../src/index.js";

const bin = new URL("../dist/bin.js", import.meta.url).pathname;

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("taskq-bench end to end at a tiny size (structure, not speed)", () => {
  it("compare writes the table, the JSON, the CSV and an HTML page with one series per side", async () => {
    const out = mkdtempSync(join(tmpdir(), "taskq-bench-out-"));
    const result = await bench([
      "--mode",
      "compare",
      "--profile",
      "io",
      // small enough that a busy machine cannot push it past the timeout: each run is a process
      // of its own (start-up is most of its cost), so 4 runs (2 client levels, once each) of a
      // few tasks on one thread; repeats are checked by the next test (runBenchmark, repeat 2)
      "--tasks",
      "20",
      "--baseline-tasks",
      "6",
      "--clients",
      "4,8",
      "--repeat",
      "1",
      "--threads",
      "1",
      "--out",
      out,
      "--quiet",
    ]);
    expect(result.code).toBe(0);
    for (const row of [
      "throughput (tasks/s)",
      "p95 latency (ms)",
      "p95 vs 60 ms of I/O",
      "machine limit",
      "avg / max queue depth",
      "run length (s)",
      "start-up, not measured (s)",
      "peak RSS (MB)",
    ])
      expect(result.stdout).toContain(row);
    expect(result.stdout).toContain("20 tasks per optimized run, 6 per baseline run");
    // a tenth of --tasks warms the optimized path up, unmeasured
    expect(result.stdout).toMatch(
      /^warm-up: .*runs one attempt per slot, then 2 tasks through its whole path/m,
    );
    expect(result.stdout).toMatch(/^4 +throughput/m);
    expect(result.stdout).toMatch(/^8 +throughput/m);

    const json = JSON.parse(readFileSync(join(out, "benchmark_comparison.json"), "utf8"));
    expect(json.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    expect(json.settings).toMatchObject({
      mode: "compare",
      profile: "io",
      tasks: 20,
      baselineTasks: 6,
      warmup: 2,
      clients: [4, 8],
      repeat: 1,
    });
    expect(json.runs).toHaveLength(4);
    // A B A B: baseline and optimized alternate
    expect(json.runs.map((r: { system: string }) => r.system)).toEqual([
      "baseline",
      "optimized",
      "baseline",
      "optimized",
    ]);
    for (const run of json.runs) {
      expect(run).toMatchObject({
        success_count: expect.any(Number),
        p95_latency_ms: expect.any(Number),
        throughput_tps: expect.any(Number),
      });
      expect(run.latency_cdf.length).toBeGreaterThan(5);
      expect(run.startup_ms).toBeGreaterThan(0);
      expect(run.peak_rss_mb).toBeGreaterThan(10);
      expect(run.success_count + run.duplicate_count + run.fail_count).toBe(
        run.system === "baseline" ? 6 : 20,
      );
    }
    expect(Object.keys(json.medians)).toEqual(["4", "8"]);
    expect(json.ratios["8"]).toMatchObject({
      throughput: expect.any(Number),
      p95: expect.any(Number),
      pct_of_limit: expect.any(Number),
    });
    expect(json.limits["8"]).toMatchObject({ io_ms_per_task: 60, clients: 8, limit_tps: expect.any(Number) });
    expect(json.spread["8"].optimized).toMatchObject({
      min_seconds: expect.any(Number),
      max_seconds: expect.any(Number),
      min_p95_ms: expect.any(Number),
    });
    // io targets: 90% of the limit up to 50 clients, p95 within 1.3x the 60 ms of simulated I/O
    const targets = Object.fromEntries(
      json.checks
        .filter((c: { clients: number }) => c.clients === 8)
        .map((c: { name: string; target: string }) => [c.name, c.target]),
    );
    expect(targets).toEqual({
      "throughput vs baseline": ">= 10x",
      "p95 vs baseline": "<= 10%",
      "share of machine limit": ">= 90%",
      "p95 vs simulated I/O": "<= 78 ms",
    });

    const csv = readFileSync(join(out, "benchmark_runs.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe(
      ["profile", "system", "clients", "repeat", "startup_ms", "peak_rss_mb", ...CSV_COLUMNS].join(","),
    );
    expect(csv).toHaveLength(5);

    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(1 + 2 * 2);
    expect(svgs[0]?.match(/class="bar" data-series="baseline"/g)).toHaveLength(2);
    expect(svgs[0]?.match(/class="bar" data-series="optimized"/g)).toHaveLength(2);
    for (const chart of svgs.slice(1)) {
      expect(chart.match(/class="series" data-series="baseline"/g)).toHaveLength(1);
      expect(chart.match(/class="series" data-series="optimized"/g)).toHaveLength(1);
    }
  });

  it("generates the input images once and links them into every run's object store", async () => {
    const workDir = mkdtempSync(join(tmpdir(), "taskq-bench-work-"));
    try {
      const result = await runBenchmark({
        mode: "compare",
        profile: "io",
        tasks: 12,
        baselineTasks: 6,
        clients: [4],
        threads: 1,
        queueSize: 16,
        onFull: "block",
        errorRate: 0,
        repeat: 2,
        seed: 1,
        workDir,
      });
      expect(result.runs).toHaveLength(4);
      const inputs = readdirSync(join(workDir, "inputs", "images"));
      expect(inputs.length).toBeGreaterThan(0);
      // the first image is in all four runs' stores (every workload starts with it), as links
      const first = join(workDir, "inputs", "images", "img-00001.ppm");
      expect(statSync(first).nlink).toBe(1 + 4);
      // outputs are each run's own files
      const runs = readdirSync(workDir).filter((name) => name.startsWith("taskq-bench-"));
      expect(runs).toHaveLength(4);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it("micro prints operations per second for each component", async () => {
    const result = await bench(["micro", "--scale", "0.02"]);
    expect(result.code).toBe(0);
    for (const name of [
      "histogram record",
      "store claim+start+succeed",
      "bounded queue put+take",
      "thread dispatch round trip",
    ]) {
      expect(result.stdout).toMatch(new RegExp(`${name.replace(/[+()]/g, "\\$&")}.* [\\d,]+ ops/s`));
    }
  });

  it("bad flags are one-line usage errors", async () => {
    const bad = await bench(["--clients", "10,x"]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      'taskq-bench: --clients must be a comma-separated list of positive integers, got "10,x"\n',
    ]);
    const workers = await bench(["scale", "--workers", "1,0"]);
    expect([workers.code, workers.stderr]).toEqual([
      2,
      'taskq-bench: --workers must be a comma-separated list of positive integers, got "1,0"\n',
    ]);
    const baselineTasks = await bench(["--baseline-tasks", "0"]);
    expect([baselineTasks.code, baselineTasks.stderr]).toEqual([
      2,
      "taskq-bench: --baseline-tasks must be an integer >= 1, got 0\n",
    ]);
    const unknown = await bench(["--profile", "gpu"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^taskq-bench: Invalid values: .*profile/);
    const systems = await bench(["drain", "--systems", "taskq,celery"]);
    expect([systems.code, systems.stderr]).toEqual([
      2,
      'taskq-bench: --systems takes taskq, taskq-x2, taskq-a, graphile-worker, graphile-worker-x2, comma-separated; got "celery"\n',
    ]);
    const ab = await bench(["drain", "--systems", "taskq,taskq-a"]);
    expect([ab.code, ab.stderr]).toEqual([
      2,
      "taskq-bench: --systems taskq-a needs --a-worker: another build's apps/bench/dist/drain-worker.js\n",
    ]);
  });

  it("front-door runs createQueue and the hand-wired runtime on one handler, no-op and io tasks alike", async () => {
    const out = mkdtempSync(join(tmpdir(), "taskq-bench-front-door-"));
    try {
      for (const [profile, tasks] of [
        ["overhead", "400"],
        ["io", "60"],
      ] as const) {
        const run = await bench([
          ...["front-door", "--profile", profile, "--tasks", tasks, "--clients", "20"],
          ...["--threads", "1", "--repeat", "1", "--out", out, "--quiet"],
        ]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/^hand-wired \(the same handler\) +[\d,]+ tasks\/s .* p95 [\d.]+ ms/m);
        expect(run.stdout).toMatch(/^createQueue \(.*handler, the pool's keys\) +[\d,]+ tasks\/s/m);
        const result = JSON.parse(readFileSync(join(out, "front-door.json"), "utf8"));
        // every task of each side succeeded: the built-in types ran as a handler module too
        expect(result.pool.median.success_count).toBe(Number(tasks));
        expect(result.queue.median.success_count).toBe(Number(tasks));
        expect(result.ratio).toBeGreaterThan(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("isolation runs the overhead profile with its kind shared, in threads and in processes of its own", async () => {
    const out = mkdtempSync(join(tmpdir(), "taskq-bench-isolation-"));
    try {
      const run = await bench([
        ...["isolation", "--tasks", "300", "--clients", "20", "--threads", "1", "--concurrency", "4"],
        ...["--repeat", "1", "--out", out, "--quiet"],
      ]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /^shared threads \(no isolation\) +[\d,]+ tasks\/s .* CPU [\d.]+ ms\/task$/m,
      );
      for (const name of ["threads of its own", "child processes"])
        expect(run.stdout).toMatch(
          new RegExp(`^isolated: ${name} +[\\d,]+ tasks/s .* µs/task wall, .* ms/task CPU$`, "m"),
        );
      const result = JSON.parse(readFileSync(join(out, "isolation.json"), "utf8"));
      for (const level of ["shared", "thread", "process"])
        expect(result.levels[level].median.success_count).toBe(300);
      expect([result.levels.thread.median.isolation, result.levels.process.median.isolation]).toEqual([
        "thread",
        "process",
      ]);
      const bad = await bench(["isolation", "--levels", "shared,fork"]);
      expect([bad.code, bad.stderr]).toEqual([
        2,
        'taskq-bench: --levels must be a comma-separated list of shared, thread, process, got "shared,fork"\n',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("drain stores a backlog, drains it with each system in turn, and reports the rounds", async () => {
    const out = mkdtempSync(join(tmpdir(), "taskq-bench-drain-"));
    try {
      const args = ["drain", "--pg-url", inject("pgUrl"), "--tasks", "300", "--rounds", "1", "--out", out];
      const run = await bench([...args, "--systems", "taskq,graphile-worker", "--quiet"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      // the workers' CPU per task where /proc can be read (Linux)
      const cpu =
        process.platform === "linux" ? ", worker CPU [\\d.]+ µs/task, server CPU [\\d.]+ µs/task" : "";
      expect(run.stdout).toMatch(new RegExp(`^taskq +[\\d,]+ \\[[\\d,]+-[\\d,]+\\] tasks/s${cpu}$`, "m"));
      expect(run.stdout).toMatch(
        new RegExp(`^graphile-worker +[\\d,]+ \\[[\\d,]+-[\\d,]+\\] tasks/s${cpu}$`, "m"),
      );
      const result = JSON.parse(readFileSync(join(out, "drain.json"), "utf8"));
      expect(result.tasks).toBe(300);
      expect(result.rows.map((r: { system: string }) => r.system)).toEqual(["taskq", "graphile-worker"]);
      for (const row of result.rows) {
        expect(row.rounds).toHaveLength(1);
        expect(row.median).toBeGreaterThan(0);
        if (process.platform === "linux") expect(row.medianWorkerCpuUs).toBeGreaterThan(0);
        // the server here is the throwaway one, on this machine: its processes are read (in clock
        // ticks of 10 ms: 300 tasks may take the server less than one, so 0 is a reading too)
        if (process.platform === "linux") expect(row.medianServerCpuUs).toBeGreaterThanOrEqual(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("machine limit", () => {
  it("is min(clients / I/O time, cores / CPU time)", () => {
    expect(machineLimit(PROFILES.io, 100, 2, 2)).toMatchObject({
      io_ms_per_task: 60,
      io_bound_tps: 1666.7,
      cpu_bound_tps: 1000,
      limit_tps: 1000,
    });
    expect(machineLimit(PROFILES.io, 50, 0.5, 2)).toMatchObject({ io_bound_tps: 833.3, limit_tps: 833.3 });
    expect(machineLimit(PROFILES.overhead, 100, 0.01, 2)).toMatchObject({
      io_bound_tps: null,
      limit_tps: 200_000,
    });
  });
});
