import { join } from "node:path";
import { everyTask, MAX_COUNT_CAP, type StatusTotals, statusTotals } from "@taskq/idempotency";
import { PgTaskStore } from "@taskq/idempotency/postgres";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { pgCtl } from "../../../scripts/postgres-server.mjs";
import {
  cleanOutputs,
  mistypedKinds,
  monitorAndDashboard,
  outputs,
  startTaskq,
  taskq,
  until,
  workdir,
} from "./helpers.js";

const serverUrl = inject("pgUrl");
let databases = 0;

/** A new, empty database on the test server; its URL. */
async function freshDatabase(): Promise<string> {
  const name = `cli_${process.pid}_${++databases}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const watchers: PgTaskStore[] = [];
afterAll(async () => {
  for (const w of watchers) await w.close();
});

/** A read-only view of the store, as `monitor` opens it. */
async function watch(url: string): Promise<PgTaskStore> {
  const store = await PgTaskStore.open({ url, recover: false, create: false });
  watchers.push(store);
  return store;
}

/**
 * Every task of the store counted by status: statusCounts with the largest cap (exact here),
 * summed over the kinds; `queued` is the due ones, `scheduled` the queued ones due later.
 */
async function totals(store: PgTaskStore): Promise<StatusTotals> {
  return statusTotals(await store.statusCounts(MAX_COUNT_CAP));
}

/** Generates a workload in a new directory; its unique key count. */
async function workload(count: number, seed: number): Promise<{ dir: string; unique: number }> {
  const dir = workdir();
  const gen = await taskq(dir, [
    "generate",
    "--count",
    String(count),
    "--seed",
    String(seed),
    "--out",
    "tasks.json",
  ]);
  expect(gen.code).toBe(0);
  return { dir, unique: Number(/\((\d+) unique keys\)/.exec(gen.stdout)?.[1]) };
}

/** A generated workload submitted to a new database (for `serve` to take); its URL and directory. */
async function submittedWorkload(count: number, seed: number) {
  const url = await freshDatabase();
  const generated = await workload(count, seed);
  expect((await taskq(generated.dir, ["submit", "--payload-file", "tasks.json", "--store", url])).code).toBe(
    0,
  );
  return { url, ...generated };
}

/** A small worker (4 slots, holding only what they can start): several of them share a workload. */
const smallWorker = (url: string) => ["serve", "--store", url, "--threads", "1", "--concurrency", "4"];

/** The same workload run by one process on SQLite: what every fleet run must produce, byte for byte. */
const ownerOf = (stderr: string) => /taskq serve: (\S+) taking tasks/.exec(stderr)?.[1];

describe("the CLI on a PostgreSQL store", () => {
  it("submit, serve, monitor, status, dlq and run all work with a postgres:// URL", async () => {
    const url = await freshDatabase();
    const dir = workdir();
    const submitted = await taskq(dir, [
      "submit",
      "--random",
      "--count",
      "12",
      "--seed",
      "4",
      "--store",
      url,
      "--json",
    ]);
    expect(submitted.code).toBe(0);
    const ids = (JSON.parse(submitted.stdout) as { id: string }[]).map((r) => r.id);
    expect(ids).toHaveLength(12);
    const serve = await taskq(dir, ["serve", "--exit-when-idle", "--threads", "2", "--store", url]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("SERVE: 12 task(s) taken from postgres://taskq:***@");
    const monitor = await taskq(dir, ["monitor", "--once", "--export", "json", "--store", url]);
    const reading = JSON.parse(monitor.stdout);
    expect(reading).toMatchObject({
      queued: 0,
      running: 0,
      oldest_due_age_ms: null,
      workers: [],
    });
    expect(reading.succeeded + reading.failed).toBe(12);
    expect(reading.dead_letters).toBe(reading.failed);
    const prometheus = await taskq(dir, ["monitor", "--once", "--export", "prometheus", "--store", url]);
    expect(prometheus.stdout).toContain(`taskq_store_tasks{status="succeeded"} ${reading.succeeded}`);
    const status = await taskq(dir, ["status", ids[0] as string, "--store", url, "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: ids[0], attempts: 1 });
    const dlq = await taskq(dir, ["dlq", "list", "--store", url, "--json"]);
    const letters = JSON.parse(dlq.stdout) as { taskId: string; kind: string; errorClass: string }[];
    expect(letters.length).toBe(reading.failed);
    expect(letters.every((d) => d.errorClass === "permanent" && d.kind === "fail")).toBe(true);
    // the list shows each dead letter's kind, after its task id
    const lines = (await taskq(dir, ["dlq", "list", "--store", url])).stdout.trim().split("\n");
    expect(lines).toHaveLength(letters.length);
    for (const line of lines) expect(line).toMatch(/^\S+\tfail\tpermanent\t1 attempt\(s\)\t/);
    const retry = await taskq(dir, ["dlq", "retry", "--all", "--store", url]);
    expect(retry.stdout).toBe(`re-drove ${reading.failed} task(s) back to queued\n`);
    // `run` on the same store: its own tasks, the same guarantees
    await taskq(dir, ["generate", "--count", "30", "--seed", "2", "--out", "img.json"]);
    const run = await taskq(dir, ["run", "--tasks", "img.json", "--store", url, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ fail_count: 0 });
    const all = await watch(url);
    const counted = await totals(all);
    expect(counted.queued + counted.scheduled).toBe(reading.failed); // the re-driven ones wait for a serve
  });

  it("a kind the store does not know: a warning naming the known kinds, or refused with --strict", async () => {
    await mistypedKinds(workdir(), ["--store", await freshDatabase()]);
  });

  it.each([
    [
      "a wrong password",
      (u: URL) => Object.assign(u, { password: "wrong-secret" }),
      /refused the credentials/,
    ],
    [
      "a missing database",
      (u: URL) => Object.assign(u, { pathname: "/nosuchdb" }),
      /database "nosuchdb" does not exist/,
    ],
    [
      "a closed port",
      (u: URL) => Object.assign(u, { port: "1" }),
      /cannot reach PostgreSQL at .*: connection refused/,
    ],
  ] as const)(
    "%s: one line without the password, exit 1, for every command",
    async (_what, spoil, pattern) => {
      const bad = spoil(new URL(serverUrl));
      const dir = workdir();
      for (const args of [
        ["submit", "--random"],
        ["serve", "--exit-when-idle"],
        ["monitor", "--once"],
        ["status", "x"],
        ["dlq", "list"],
      ]) {
        const result = await taskq(dir, [...args, "--store", bad.toString()]);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(pattern);
        expect(result.stderr.trim().split("\n")).toHaveLength(1);
        expect(result.stderr).not.toContain(bad.password);
        expect(result.stderr).not.toContain("taskq-test-pw");
      }
    },
  );

  it("taskq breaker on a postgres:// URL: a serve opens it, the next task waits queued, list and /metrics say so, reset", async () => {
    const url = await freshDatabase();
    const dir = workdir();
    const set = await taskq(dir, [
      "breaker",
      "set",
      "fail",
      "--failures",
      "1",
      "--cooldown",
      "1h",
      "--count",
      "all",
      "--store",
      url,
    ]);
    expect([set.code, set.stdout]).toEqual([
      0,
      expect.stringMatching(/^breaker set in postgres:\/\/taskq:\*\*\*@[^\n]*: fail {2}closed/),
    ]);
    const submit = (id: string) =>
      taskq(dir, [
        "submit",
        "--store",
        url,
        "--payload",
        JSON.stringify({ id, type: "fail", errorMessage: "down" }),
      ]);
    await submit("a");
    expect((await taskq(dir, ["serve", "--exit-when-idle", "--threads", "1", "--store", url])).code).toBe(0);
    await submit("b");
    expect((await taskq(dir, ["breaker", "list", "--store", url])).stdout).toMatch(/^fail {2}OPEN since /);
    const metrics = (await taskq(dir, ["monitor", "--once", "--export", "prometheus", "--store", url]))
      .stdout;
    expect(metrics).toContain('taskq_store_breaker_state{kind="fail",state="open"} 1');
    expect(JSON.parse((await taskq(dir, ["status", "b", "--store", url, "--json"])).stdout)).toMatchObject({
      status: "queued",
      attempts: 0,
    });
    expect((await taskq(dir, ["breaker", "reset", "fail", "--store", url])).stdout).toBe(
      "fail: breaker closed; the workers take its tasks again\n",
    );
    expect(
      JSON.parse((await taskq(dir, ["breaker", "list", "--json", "--store", url])).stdout),
    ).toMatchObject([{ kind: "fail", state: "closed", countErrors: "all" }]);
  });

  it("an unparsable URL is a usage error (exit 2), without the password", async () => {
    const result = await taskq(workdir(), ["status", "x", "--store", "postgres://taskq:hunter2@[bad/taskq"]);
    expect([result.code, result.stderr]).toEqual([
      2,
      "taskq: not a valid PostgreSQL URL: postgres://taskq:***@[bad/taskq\n",
    ]);
  });

  it("three workers share the work: every task runs to success once, outputs byte-identical to one process on SQLite", async () => {
    const { url, dir, unique } = await submittedWorkload(150, 3);
    const args = [...smallWorker(url), "--exit-when-idle"];
    const nodes = [0, 1, 2].map(() => startTaskq(dir, args, { BASE_LATENCY_MS: "20" }));
    const results = await Promise.all(nodes.map((n) => n.exited));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const taken = results.map((r) => Number(/SERVE: (\d+) task\(s\) taken/.exec(r.stdout)?.[1]));
    expect(taken.reduce((a, b) => a + b, 0)).toBe(unique);
    expect(taken.every((n) => n > 0)).toBe(true);
    const records = await everyTask(await watch(url));
    expect(records).toHaveLength(unique);
    expect(records.every((r) => r.status === "succeeded" && r.attempts === 1)).toBe(true);
    expect(records.every((r) => r.leaseExpiresAt === null)).toBe(true); // leases all released
    expect(new Set(records.map((r) => r.leaseOwner)).size).toBe(3); // each task names the worker that ran it
    expect(outputs(join(dir, ".taskq", "objects"))).toEqual(await cleanOutputs(150, 3));
  });

  it("a SIGKILLed worker's leased tasks are taken over by another once its lease expires", async () => {
    const { url, dir, unique } = await submittedWorkload(120, 5);
    const watcher = await watch(url);
    const args = [...smallWorker(url), "--lease-ms", "1500"];
    const victim = startTaskq(dir, args, { BASE_LATENCY_MS: "30" });
    await until(async () => ownerOf(victim.output().stderr) !== undefined, "the first worker to start");
    const victimOwner = ownerOf(victim.output().stderr) as string;
    const survivor = startTaskq(dir, [...args, "--exit-when-idle", "--poll-ms", "100"], {
      BASE_LATENCY_MS: "30",
    });
    await until(async () => (await totals(watcher)).succeeded >= 20, "20 tasks to succeed");
    await until(
      async () => (await watcher.leaseHolders()).some((h) => h.owner === victimOwner && h.running > 0),
      "the first worker to hold leases",
    );
    victim.child.kill("SIGKILL");
    expect((await victim.exited).code).toBe(137);
    const orphaned = (await watcher.leaseHolders()).find((h) => h.owner === victimOwner)?.running ?? 0;
    expect(orphaned).toBeGreaterThan(0);
    const last = await survivor.exited;
    expect(last.code).toBe(0);
    expect(await totals(watcher)).toMatchObject({
      queued: 0,
      scheduled: 0,
      running: 0,
      succeeded: unique,
      failed: 0,
    });
    const records = await everyTask(watcher);
    const rerun = records.filter((r) => r.attempts > 1).length;
    expect(rerun).toBeGreaterThan(0);
    expect(rerun).toBeLessThanOrEqual(orphaned);
    expect(outputs(join(dir, ".taskq", "objects"))).toEqual(await cleanOutputs(120, 5));
  });

  it("PostgreSQL restarted mid-run: the worker reconnects and finishes; nothing is lost", async () => {
    const { url, dir, unique } = await submittedWorkload(300, 6);
    const watcher = await watch(url);
    const node = startTaskq(
      dir,
      ["serve", "--exit-when-idle", "--store", url, "--threads", "2", "--lease-ms", "3000"],
      {
        BASE_LATENCY_MS: "30",
      },
    );
    await until(async () => (await totals(watcher)).succeeded >= 50, "50 tasks to succeed");
    expect((await totals(watcher)).succeeded).toBeLessThan(unique); // the restart lands mid-run
    pgCtl(process.env["TASKQ_TEST_PG_DIR"] as string, ["restart", "-m", "fast"]);
    const result = await node.exited;
    expect(result.code).toBe(0);
    expect(await totals(watcher)).toMatchObject({
      queued: 0,
      scheduled: 0,
      running: 0,
      succeeded: unique,
      failed: 0,
    });
    expect(outputs(join(dir, ".taskq", "objects"))).toEqual(await cleanOutputs(300, 6));
  });

  it("taskq dashboard and serve --ui-port serve the dashboard over the store, its password masked", async () => {
    const url = await freshDatabase();
    const dir = workdir();
    await taskq(dir, ["submit", "--random", "--count", "3", "--store", url]);
    const portOf = (stderr: string) => Number(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1]);
    const node = startTaskq(dir, ["serve", "--store", url, "--ui-port", "0", "--threads", "1"]);
    const board = startTaskq(dir, ["dashboard", "--store", url, "--port", "0"]);
    for (const [process, what] of [
      [node, "serve --ui-port"],
      [board, "taskq dashboard"],
    ] as const) {
      await until(async () => portOf(process.output().stderr) > 0, `the dashboard of ${what}`);
      expect(process.output().stderr).not.toContain("taskq-test-pw");
      const base = `http://127.0.0.1:${portOf(process.output().stderr)}`;
      const page = await (await fetch(`${base}/`)).text();
      expect(page).toContain('data-count="queued"');
      expect(page).toContain(new URL(url).host);
      expect(page).not.toContain("taskq-test-pw");
      const tasks = await (await fetch(`${base}/tasks`)).text();
      expect([...tasks.matchAll(/<tr data-seq="/g)]).toHaveLength(3);
    }
    board.child.kill("SIGTERM");
    node.child.kill("SIGTERM");
    expect((await board.exited).code).toBe(0);
    expect((await node.exited).code).toBe(0);
  });

  it("monitor and the dashboard show the same figures for one store (the one read model)", async () => {
    const { monitor, dashboard } = await monitorAndDashboard(workdir(), ["--store", await freshDatabase()]);
    expect(monitor).toMatchObject({ queued: 2, scheduled: 2, running: 0, cancelled: 1 });
    expect(monitor.succeeded + monitor.failed).toBe(10);
    expect(dashboard).toEqual(monitor);
  });

  it("serve --metrics-port serves /metrics labelled by node and /healthz", async () => {
    const url = await freshDatabase();
    const dir = workdir();
    await taskq(dir, ["submit", "--random", "--count", "5", "--store", url]);
    const node = startTaskq(dir, ["serve", "--store", url, "--metrics-port", "0", "--threads", "1"]);
    await until(
      async () => /metrics on http:\/\/127\.0\.0\.1:\d+/.test(node.output().stderr),
      "the metrics port",
    );
    const port = Number(/127\.0\.0\.1:(\d+)\/metrics/.exec(node.output().stderr)?.[1]);
    const watcher = await watch(url);
    await until(async () => {
      const counted = await totals(watcher);
      return counted.queued + counted.scheduled === 0 && counted.running === 0;
    }, "the tasks to run");
    const owner = ownerOf(node.output().stderr) as string;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain(`taskq_store_tasks{status="queued",node="${owner}"} 0`);
    expect(metrics).toMatch(
      new RegExp(`taskq_tasks_succeeded_total\\{node="${owner.replaceAll(".", "\\.")}"\\} \\d`),
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      ok: true,
      store: "ok",
      threads: "1 of 1 alive",
      node: owner,
    });
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    node.child.kill("SIGTERM");
    expect((await node.exited).code).toBe(0);
  });
});
