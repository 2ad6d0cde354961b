import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mistypedKinds, monitorAndDashboard, startTaskq, taskq, until, workdir } from "./helpers.js";

describe("taskq (the built binary, as a subprocess)", () => {
  it("--help on every command has examples; --version prints one", async () => {
    const dir = workdir();
    for (const command of [
      "generate",
      "run",
      "submit",
      "serve",
      "monitor",
      "status",
      "list",
      "dlq",
      "schedule",
      "limits",
    ]) {
      const { code, stdout } = await taskq(dir, [command, "--help"]);
      expect(code, command).toBe(0);
      expect(stdout, command).toContain(command === "dlq" || command === "status" ? "taskq" : "Examples:");
    }
    expect((await taskq(dir, ["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("generate, run, and a second run of the same file processes nothing again (same outputs)", async () => {
    const dir = workdir();
    const gen = await taskq(dir, ["generate", "--count", "60", "--out", "tasks.json", "--seed", "4"]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(
      /^wrote 60 tasks \((\d+) unique keys\) to tasks\.json and \d+ images into \.taskq\/objects\n$/,
    );
    const unique = Number(/\((\d+) unique keys\)/.exec(gen.stdout)?.[1]);

    const first = await taskq(dir, [
      "run",
      "--tasks",
      "tasks.json",
      "--threads",
      "2",
      "--metrics-out",
      "m1.json",
      "--csv",
      "runs.csv",
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("BENCHMARK RESULTS");
    const m1 = JSON.parse(readFileSync(join(dir, "m1.json"), "utf8"));
    expect(m1).toMatchObject({ success_count: unique, duplicate_count: 60 - unique, fail_count: 0 });

    const second = await taskq(dir, [
      "run",
      "--tasks",
      "tasks.json",
      "--threads",
      "2",
      "--metrics-out",
      "m2.json",
      "--csv",
      "runs.csv",
    ]);
    const m2 = JSON.parse(readFileSync(join(dir, "m2.json"), "utf8"));
    expect(second.code).toBe(0);
    expect(m2).toMatchObject({ success_count: 0, duplicate_count: 60, enqueue_count: 0 });
    const csv = readFileSync(join(dir, "runs.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    expect(csv[0]?.startsWith("timestamp,duration_seconds,")).toBe(true);

    const status = await taskq(dir, ["status", "t-00001", "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: "t-00001", status: "succeeded", attempts: 1 });
  });

  it("run --benchmark generates the default workload into a fresh store and runs it", async () => {
    const dir = workdir();
    const run = await taskq(dir, ["run", "--benchmark", "--json"], { BENCHMARK_TASK_COUNT: "30" });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.success_count + report.duplicate_count).toBe(30);
    expect(report.fail_count).toBe(0);
    expect(readdirSync(join(dir, ".taskq")).filter((d) => d.startsWith("benchmark-"))).toHaveLength(1);
  });

  it("--json prints the metrics report; retries show under fault injection", async () => {
    const dir = workdir();
    await taskq(dir, ["generate", "--count", "30", "--out", "t.json"]);
    const run = await taskq(dir, [
      "run",
      "--tasks",
      "t.json",
      "--json",
      "--error-rate",
      "0.3",
      "--attempts",
      "10",
      "--backoff-base-ms",
      "1",
    ]);
    const report = JSON.parse(run.stdout);
    expect(report.retry_count).toBeGreaterThan(0);
    expect(report.fail_count).toBe(0);
    expect(report.error_classification.transient).toBe(report.retry_count);
  });

  it("submit, serve and monitor work as separate processes on one store", async () => {
    const dir = workdir();
    const submitted = await taskq(dir, [
      "submit",
      "--payload",
      '{"type":"compute","operation":"factorial","value":10}',
    ]);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    // ids the tasks do not give are the client's: time-ordered
    expect(id).toMatch(/^task-[0-9a-z]+-[0-9a-f]{4}[0-9a-z]+$/);
    const random = await taskq(dir, ["submit", "--random", "--count", "8", "--seed", "2"]);
    expect(random.stdout.trim().split("\n")).toHaveLength(8);
    const before = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(before.queued).toBe(9);

    const serve = await taskq(dir, ["serve", "--exit-when-idle", "--threads", "2"]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("SERVE: 9 task(s) taken");

    const after = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(after).toMatchObject({ queued: 0, running: 0 });
    expect(after.succeeded + after.failed).toBe(9);
    expect(after.dead_letters).toBe(after.failed);
    // the result as JSON, as the payload is; the times and the run time from the one task view
    expect(JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout)).toMatchObject({
      status: "succeeded",
      result: 3628800,
      payload: { type: "compute", operation: "factorial", value: 10 },
      scheduled: false,
      runMs: expect.any(Number),
    });
    expect((await taskq(dir, ["status", id])).stdout).toMatch(
      /\nresult: {10}3628800\ncreated: +\S+\nstarted: +\S+\nfinished: +\S+\nduration: +\d+ ms\neach attempt:\n/,
    );

    const prom = (await taskq(dir, ["monitor", "--once", "--export", "prometheus"])).stdout;
    expect(prom).toContain(`taskq_store_tasks{status="succeeded"} ${after.succeeded}`);
    const human = (await taskq(dir, ["monitor", "--once"])).stdout;
    expect(human).toMatch(
      /queued 0 \(scheduled for later 0\) {2}running 0 \(executing 0, leased and waiting for a slot 0\) {2}succeeded \d+/,
    );
  });

  it("submit stores a task file through the client, in chunks: its ids kept, the others the client's; duplicates and bad tasks answered", async () => {
    const dir = workdir();
    const tasks = [
      { id: "c1", type: "compute", operation: "double", value: 3, max_attempts: 2 },
      { type: "noop" }, // no id: the client's
      { id: "c2", type: "compute", operation: "double", value: 3 }, // c1's key: a duplicate
      { id: "bad", type: "compute", operation: "nope", value: 1 }, // not a task: dead-lettered
      ...Array.from({ length: 1500 }, (_, n) => ({ id: `s${n}`, type: "sleep", duration: 0 })),
    ];
    writeFileSync(join(dir, "tasks.jsonl"), tasks.map((t) => JSON.stringify(t)).join("\n"));
    const submitted = await taskq(dir, [
      "submit",
      "--payload-file",
      "tasks.jsonl",
      "--json",
      "--attempts",
      "4",
    ]);
    expect([submitted.code, submitted.stderr]).toEqual([
      0,
      expect.stringMatching(/^taskq: skipped .* \(dead-lettered\)\n$/),
    ]);
    const results = JSON.parse(submitted.stdout) as Record<string, unknown>[];
    expect(results).toHaveLength(1503);
    expect(results.slice(0, 3)).toEqual([
      { id: "c1", kind: "compute", status: "queued", duplicate: false },
      { id: expect.stringMatching(/^task-/), kind: "noop", status: "queued", duplicate: false },
      { id: "c1", kind: "compute", status: "queued", duplicate: true },
    ]);
    expect(results.at(-1)).toEqual({ id: "s1499", kind: "sleep", status: "queued", duplicate: false });
    // --attempts wins over the task's own max_attempts
    expect(JSON.parse((await taskq(dir, ["status", "c1", "--json"])).stdout).maxAttempts).toBe(4);
    const dlq = JSON.parse((await taskq(dir, ["dlq", "list", "--json"])).stdout) as { taskId: string }[];
    expect(dlq.map((d) => d.taskId)).toEqual(["bad"]);
  });

  it("status: when a task was created, started, finished or will run, its duration and attempts in words; internals only in --json", async () => {
    const dir = workdir();
    const submit = (task: Record<string, unknown>, extra: string[] = []) =>
      taskq(dir, ["submit", "--payload", JSON.stringify(task), ...extra]);
    const status = async (id: string) => (await taskq(dir, ["status", id])).stdout;
    // every attempt fails (an injected transient fault): retried, then failed for good
    await submit({ id: "flaky", type: "compute", operation: "double", value: 2 }, ["--attempts", "2"]);
    const faulty = ["--error-rate", "1", "--backoff-base-ms", "0", "--backoff-max-ms", "0"];
    expect((await taskq(dir, ["serve", "--exit-when-idle", "--threads", "1", ...faulty])).code).toBe(0);
    // one that succeeds, one that fails at once (a permanent error is not retried), one cancelled
    await submit({ id: "ok", type: "compute", operation: "factorial", value: 5 });
    await submit({ id: "bad", type: "fail", error_message: "no such address" });
    await submit({ id: "later", type: "noop" }, ["--delay-ms", "3600000"]);
    expect((await taskq(dir, ["cancel", "later"])).code).toBe(0);
    expect((await taskq(dir, ["serve", "--exit-when-idle", "--threads", "1"])).code).toBe(0);

    const time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    // a duration in words: "12 ms", or "1.3 s" on a loaded machine
    const took = "(\\d+ ms|\\d+\\.\\d s)";
    const lines = (...rows: string[]) => new RegExp(`^${rows.join("\\n")}\\n$`);
    expect(await status("flaky")).toMatch(
      lines(
        "id: {14}flaky",
        "kind: {12}compute",
        "status: {10}failed",
        "attempts: {8}attempt 2 of 2 failed, the last",
        "priority: {8}0",
        "idempotency key: compute:double:2",
        "last error: {6}transient: injected transient fault \\(attempt 2\\)",
        `created: {9}${time}`,
        `started: {9}${time}`,
        `finished: {8}${time}`,
        `duration: {8}${took} \\(attempt 2\\)`,
        "each attempt:",
        `  1\\. failed, retried, started ${time}, ${took} on \\S+`,
        "      transient: injected transient fault \\(attempt 1\\)",
        `  2\\. failed, dead-lettered, started ${time}, ${took} on \\S+`,
        "      transient: injected transient fault \\(attempt 2\\)",
      ),
    );
    expect(await status("ok")).toMatch(/\nattempts: {8}attempt 1 of 3, succeeded\n.*\nresult: {10}120\n/s);
    expect(await status("bad")).toMatch(
      /\nattempts: {8}attempt 1 of 3 failed, not retried\n(.*\n)*last error: {6}permanent: no such address\n/,
    );
    const cancelled = await status("later");
    expect(cancelled).toMatch(
      /\nstatus: {10}cancelled\nattempts: {8}cancelled before any attempt \(up to 3 attempts\)\n/,
    );
    expect(cancelled).toMatch(new RegExp(`\\nfinished: {8}${time}\\n$`));
    expect(cancelled).not.toMatch(/\n(started|duration):/);
    // the record's internals are --json's: the view's fields, every one of the record's
    for (const id of ["flaky", "ok", "bad", "later"]) {
      expect(await status(id)).not.toMatch(/output|etag|version|updated|lease|seq/i);
      expect(Object.keys(JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout))).toEqual(
        expect.arrayContaining([
          "outputKey",
          "etag",
          "version",
          "updatedAt",
          "leaseOwner",
          "seq",
          "runMs",
          "asOf",
        ]),
      );
    }
  });

  it("monitor and status tell tasks executing now from tasks leased and waiting for a slot", async () => {
    const dir = workdir();
    // one slot and a prefetch of 2: the worker holds 3 sleeping tasks and executes 1 of them
    const sleepers = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, type: "sleep", duration: 3600 }));
    writeFileSync(join(dir, "sleep.json"), JSON.stringify(sleepers));
    expect((await taskq(dir, ["submit", "--payload-file", "sleep.json"])).code).toBe(0);
    const serve = startTaskq(dir, ["serve", "--threads", "1", "--concurrency", "1", "--prefetch", "2"]);
    try {
      let reading: Record<string, unknown> & { workers: Record<string, unknown>[] } = { workers: [] };
      await until(async () => {
        reading = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
        return reading.executing === 1 && reading.running === 3;
      }, "the worker's report of 1 executing among 3 leased");
      expect(reading).toMatchObject({ queued: 3, running: 3, executing: 1, waiting: 2 });
      expect(reading.workers).toEqual([
        expect.objectContaining({ leased: 3, executing: 1, threads: 1, slots: 1 }),
      ]);
      const prometheus = (await taskq(dir, ["monitor", "--once", "--export", "prometheus"])).stdout;
      expect(prometheus).toMatch(/^taskq_store_worker_running_tasks\{owner="[^"]+"\} 3$/m);
      expect(prometheus).toMatch(/^taskq_store_worker_executing_tasks\{owner="[^"]+"\} 1$/m);
      const human = (await taskq(dir, ["monitor", "--once"])).stdout;
      expect(human).toContain("running 3 (executing 1, leased and waiting for a slot 2)");
      expect(human).toMatch(/executing 1 of 1 slots on 1 thread\(s\), leased 3 {2}lease expires in/);
      const status = (await taskq(dir, ["status", "s0"])).stdout;
      expect(status).toMatch(/status: +running \(leased to \S+, which executes 1 of the 3 tasks it holds\)/);
      expect(status).toMatch(/\nattempts: +attempt 1 of 3, running\n/);
      expect(status).toMatch(/\nstarted: +\S+\nduration: +\d+(\.\d)? (ms|s) so far\neach attempt:\n/);
    } finally {
      serve.child.kill("SIGKILL");
      await serve.exited;
    }
  });

  it("monitor and the dashboard show the same figures for one store (the one read model)", async () => {
    const { monitor, dashboard } = await monitorAndDashboard(workdir(), []);
    expect(monitor).toMatchObject({ queued: 2, scheduled: 2, running: 0, cancelled: 1 });
    expect(monitor.succeeded + monitor.failed).toBe(10);
    expect(dashboard).toEqual(monitor);
  });

  it("tags: submit --tag (repeatable), status shows them, list --tag finds them with a status and kind too", async () => {
    const dir = workdir();
    const submit = (value: number, ...extra: string[]) =>
      taskq(dir, [
        "submit",
        "--payload",
        JSON.stringify({ type: "compute", operation: "factorial", value }),
        ...extra,
      ]);
    const tagged = (await submit(3, "--tag", "tenant:42", "--tag", "import")).stdout.trim();
    const other = (await submit(4, "--tag", "tenant:7")).stdout.trim();
    expect((await taskq(dir, ["status", tagged])).stdout).toMatch(/^tags: +tenant:42, import$/m);
    expect(JSON.parse((await taskq(dir, ["status", tagged, "--json"])).stdout).tags).toEqual([
      "tenant:42",
      "import",
    ]);
    expect((await taskq(dir, ["serve", "--exit-when-idle", "--threads", "1"])).code).toBe(0);
    // submitted after the serve: a task due in an hour keeps a store from being idle
    const later = (await submit(5, "--tag", "tenant:42", "--delay-ms", "3600000")).stdout.trim();
    const list = await taskq(dir, ["list", "--tag", "tenant:42"]);
    expect(
      list.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("\t")[1]),
    ).toEqual([later, tagged]);
    expect(list.stdout).toMatch(/\tscheduled\t0\/3\t.*\ttenant:42$/m);
    const succeeded = JSON.parse(
      (await taskq(dir, ["list", "--tag", "tenant:42", "--status", "succeeded", "--json"])).stdout,
    );
    expect(succeeded.map((t: { id: string; result: unknown }) => [t.id, t.result])).toEqual([[tagged, 6]]);
    expect((await taskq(dir, ["list", "--tag", "tenant:7", "--kind", "compute"])).stdout).toContain(other);
    expect((await taskq(dir, ["list", "--tag", "nobody"])).stdout).toBe("no tasks\n");
    const paged = await taskq(dir, ["list", "--limit", "1"]);
    expect(paged.stderr).toMatch(/^taskq: more with --before \d+\n$/);
    const bad = await submit(6, "--tag", "x".repeat(101));
    expect([bad.code, bad.stderr]).toEqual([2, "taskq: tags[0] is longer than 100 characters (101)\n"]);
    const limit = await taskq(dir, ["list", "--limit", "501"]);
    expect([limit.code, limit.stderr]).toEqual([2, "taskq: --limit must be at most 500, got 501\n"]);
  });

  it("time and limits: submit --delay-ms/--priority, schedule add/list/pause/remove, limits set/list/remove", async () => {
    const dir = workdir();
    const id = (
      await taskq(dir, [
        "submit",
        "--kind",
        "email",
        "--payload",
        '{"to":"a"}',
        "--delay-ms",
        "600000",
        "--priority",
        "7",
      ])
    ).stdout.trim();
    // many tasks from one launch: one summary line with --quiet
    expect((await taskq(dir, ["submit", "--random", "--count", "5", "--seed", "4", "--quiet"])).stdout).toBe(
      "5 task(s) stored, 0 duplicate(s), in .taskq/tasks.db\n",
    );
    const status = (await taskq(dir, ["status", id])).stdout;
    expect(status).toMatch(/status: {10}queued \(scheduled for \d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    expect(status).toMatch(/\nruns at: {9}\S+ \(in (9\.\d|10\.0) min\)\n/);
    expect(status).not.toMatch(/\n(started|finished|duration):/);
    expect(status).toMatch(/\nattempts: {8}not tried yet \(up to 3 attempts\)\n/);
    expect(status).toContain("priority:        7");
    const added = await taskq(dir, [
      "schedule",
      "add",
      "nightly",
      "--cron",
      "0 3 * * *",
      "--timezone",
      "Europe/Berlin",
      "--kind",
      "report",
    ]);
    expect(added.stdout).toMatch(
      /^scheduled nightly: 0 3 \* \* \* \(Europe\/Berlin\), kind report, next \d{4}-/,
    );
    expect((await taskq(dir, ["limits", "set", "email", "--concurrency", "2", "--rate", "5"])).code).toBe(0);
    expect((await taskq(dir, ["limits", "list"])).stdout).toBe(
      "email  concurrency 0/2 running  rate 0/5 started per 1000 ms  open\n",
    );
    const monitor = (await taskq(dir, ["monitor", "--once"])).stdout;
    // queued counts the due tasks, as the dashboard does; the delayed one is scheduled
    expect(monitor).toContain("queued 5 (scheduled for later 1)");
    expect(monitor).toContain("    email  concurrency 0/2 running  rate 0/5 started per 1000 ms  open");
    expect(monitor).toMatch(/ {4}nightly {2}0 3 \* \* \* \(Europe\/Berlin\) {2}kind report {2}next /);
    expect((await taskq(dir, ["schedule", "pause", "nightly"])).stdout).toContain("paused");
    expect((await taskq(dir, ["schedule", "list"])).stdout).toMatch(/^nightly .* paused /);
    expect((await taskq(dir, ["schedule", "remove", "nightly"])).stdout).toBe(
      "removed nightly (the tasks it enqueued stay)\n",
    );
    expect((await taskq(dir, ["schedule", "remove", "nightly"])).code).toBe(1);
    expect((await taskq(dir, ["limits", "remove", "email"])).code).toBe(0);
    expect((await taskq(dir, ["limits", "list"])).stdout).toMatch(/^no limits in /);
    expect((await taskq(dir, ["cancel", id])).stdout).toMatch(/^cancelled /);
  });

  it("dlq list shows failed tasks; dlq retry re-drives them for serve", async () => {
    const dir = workdir();
    await taskq(dir, ["submit", "--payload", '{"id":"boom","type":"fail","error_message":"nope"}']);
    await taskq(dir, ["serve", "--exit-when-idle"]);
    const list = await taskq(dir, ["dlq", "list", "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        taskId: "boom",
        kind: "fail",
        errorClass: "permanent",
        errorMessage: "nope",
      }),
    ]);
    // each line: the task id, its kind, the error class, attempts, when, the message
    expect((await taskq(dir, ["dlq", "list"])).stdout).toMatch(
      /^boom\tfail\tpermanent\t1 attempt\(s\)\t\d{4}-\d\d-\d\dT[\d:.]+Z\tnope\n$/,
    );
    expect((await taskq(dir, ["dlq", "retry", "boom"])).stdout).toBe("re-drove 1 task(s) back to queued\n");
    expect(JSON.parse((await taskq(dir, ["status", "boom", "--json"])).stdout)).toMatchObject({
      status: "queued",
      attempts: 0,
    });
    expect((await taskq(dir, ["dlq", "list"])).stdout).toBe("no dead letters\n");
    const none = await taskq(dir, ["dlq", "retry", "nobody"]);
    expect([none.code, none.stderr]).toEqual([1, 'taskq: no re-drivable dead letter for task "nobody"\n']);
    expect((await taskq(dir, ["dlq", "retry", "--all"])).stdout).toBe("re-drove 0 task(s) back to queued\n");
  });

  it("dlq retry --all re-drives every failed task, past one re-drive call's 1000; an invalid task's dead letter stays", async () => {
    const dir = workdir();
    const tasks = [
      { id: "bad", type: "compute", operation: "nope", value: 1 }, // not a task: a dead letter, no task
      ...Array.from({ length: 1001 }, (_, n) => ({ id: `f${n}`, type: "fail", error_message: `nope ${n}` })),
    ];
    writeFileSync(join(dir, "tasks.jsonl"), tasks.map((t) => JSON.stringify(t)).join("\n"));
    expect((await taskq(dir, ["submit", "--payload-file", "tasks.jsonl"])).code).toBe(0);
    await taskq(dir, ["serve", "--exit-when-idle"]);
    expect(JSON.parse((await taskq(dir, ["dlq", "list", "--json"])).stdout)).toHaveLength(1002);
    expect((await taskq(dir, ["dlq", "retry", "--all"])).stdout).toBe(
      "re-drove 1001 task(s) back to queued\n",
    );
    const left = JSON.parse((await taskq(dir, ["dlq", "list", "--json"])).stdout) as { taskId: string }[];
    expect(left.map((d) => d.taskId)).toEqual(["bad"]);
    expect((await taskq(dir, ["dlq", "retry", "--all"])).stdout).toBe("re-drove 0 task(s) back to queued\n");
  });

  it("a kind the store does not know: a warning naming the known kinds, or refused with --strict (SQLite)", async () => {
    await mistypedKinds(workdir(), ["--store", "kinds.db"]);
  });

  it("the store from --store-env NAME (the environment or .env), before TASKQ_STORE and DATABASE_URL", async () => {
    const dir = workdir();
    const submit = (id: string, args: string[] = [], env: Record<string, string> = {}) =>
      taskq(dir, ["submit", "--payload", JSON.stringify({ id, type: "noop" }), ...args], env);
    const ids = async (store: string) =>
      JSON.parse((await taskq(dir, ["list", "--json", "--store", store])).stdout)
        .map((t: { id: string }) => t.id)
        .sort();
    // the variable it names, from the environment, and from .env; the environment wins over .env
    expect((await submit("a", ["--store-env", "APP_DB"], { APP_DB: "env.db" })).code).toBe(0);
    writeFileSync(join(dir, ".env"), "APP_DB=dotenv.db\nTASKQ_STORE=taskq-store.db\n");
    expect((await submit("b", ["--store-env", "APP_DB"])).stderr).toBe("");
    expect((await submit("c", ["--store-env", "APP_DB"], { APP_DB: "env.db" })).code).toBe(0);
    // without it: TASKQ_STORE (here from .env) before DATABASE_URL (here from the environment)
    expect((await submit("d", [], { DATABASE_URL: "url.db" })).code).toBe(0);
    // --store-env wins over TASKQ_STORE, as --store does
    expect(
      (await submit("e", ["--store-env", "OTHER"], { OTHER: "other.db", TASKQ_STORE: "x.db" })).code,
    ).toBe(0);
    // every command takes it: a read (status), and the same store by --store
    expect((await taskq(dir, ["status", "b", "--store-env", "APP_DB"])).stdout).toMatch(/^id: +b$/m);
    expect(await ids("env.db")).toEqual(["a", "c"]);
    expect(await ids("dotenv.db")).toEqual(["b"]);
    expect(await ids("taskq-store.db")).toEqual(["d"]);
    expect(await ids("other.db")).toEqual(["e"]);
    expect(existsSync(join(dir, "url.db"))).toBe(false);
    expect(existsSync(join(dir, "x.db"))).toBe(false);
    // the help says why, where it speaks of the password
    const help = (await taskq(dir, ["submit", "--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toContain(
      "a password given here is shown by ps to every user of the machine: use --store-env",
    );
    expect(help).toMatch(
      /--store-env read the task store's URL from this environment variable \(set in the environment or in \.env\)/,
    );
  });

  it("settings come from flags, then the environment, then .env", async () => {
    const dir = workdir();
    writeFileSync(join(dir, ".env"), "TASKQ_STORE=from-dotenv.db\n");
    await taskq(dir, ["submit", "--payload", '{"id":"e1","type":"noop"}']);
    expect((await taskq(dir, ["status", "e1", "--store", "from-dotenv.db"])).code).toBe(0);
    await taskq(dir, ["submit", "--payload", '{"id":"e2","type":"noop"}'], {
      TASKQ_STORE: "from-env.db",
    });
    expect((await taskq(dir, ["status", "e2", "--store", "from-env.db"])).code).toBe(0);
    await taskq(dir, ["submit", "--payload", '{"id":"e3","type":"noop"}', "--store", "from-flag.db"], {
      TASKQ_STORE: "from-env.db",
    });
    expect((await taskq(dir, ["status", "e3", "--store", "from-flag.db"])).code).toBe(0);
    // MAX_RETRIES from the environment sets the attempts of submitted tasks; the flag wins over it
    await taskq(dir, ["submit", "--payload", '{"id":"r1","type":"noop"}', "--store", "r.db"], {
      MAX_RETRIES: "5",
    });
    await taskq(
      dir,
      ["submit", "--payload", '{"id":"r2","type":"noop"}', "--store", "r.db", "--attempts", "7"],
      {
        MAX_RETRIES: "5",
      },
    );
    const maxAttempts = async (id: string) =>
      JSON.parse((await taskq(dir, ["status", id, "--store", "r.db", "--json"])).stdout).maxAttempts;
    expect([await maxAttempts("r1"), await maxAttempts("r2")]).toEqual([5, 7]);
  });
});

describe("bad input: one line on stderr, the right exit code, nothing lost", () => {
  const cases: [string, string[], number, RegExp][] = [
    [
      "missing task file",
      ["run", "--tasks", "nope.json"],
      2,
      /^taskq: cannot read task file nope\.json: no such file\n$/,
    ],
    [
      "task file is a directory",
      ["run", "--tasks", "."],
      2,
      /^taskq: cannot read task file \.: it is a directory\n$/,
    ],
    [
      "malformed JSON",
      ["run", "--tasks", "broken.json"],
      2,
      /^taskq: broken\.json: malformed JSON at line 2, column \d+: .+\n$/,
    ],
    [
      "zero threads",
      ["run", "--tasks", "good.json", "--threads", "0"],
      2,
      /^taskq: --threads must be an integer >= 1, got 0\n$/,
    ],
    [
      "zero threads by the flag's old name",
      ["run", "--tasks", "good.json", "--workers", "0"],
      2,
      /^taskq: --workers must be an integer >= 1, got 0\n$/,
    ],
    [
      "negative queue size",
      ["run", "--tasks", "good.json", "--queue-size", "-5"],
      2,
      /^taskq: --queue-size must be an integer >= 1, got -5\n$/,
    ],
    ["unknown flag", ["run", "--tasks", "good.json", "--turbo"], 2, /^taskq: Unknown argument: turbo\n$/],
    ["unknown command", ["launch"], 2, /^taskq: Unknown argument: launch/],
    [
      "bad on-full",
      ["run", "--tasks", "good.json", "--on-full", "maybe"],
      2,
      /^taskq: Invalid values: .*on-full.*\n$/,
    ],
    ["no tasks given", ["run"], 2, /^taskq: --tasks FILE is required/],
    ["submit bad JSON", ["submit", "--payload", "{nope"], 2, /^taskq: --payload is not valid JSON: /],
    [
      "submit bad task",
      ["submit", "--payload", '{"type":"teleport"}'],
      2,
      /^taskq: task \? \(--payload\): field "type" has unknown value "teleport"/,
    ],
    [
      "submit a missing file",
      ["submit", "--payload-file", "nope.json"],
      2,
      /^taskq: cannot read task file nope\.json: no such file\n$/,
    ],
    [
      "submit two sources",
      ["submit", "--random", "--payload", "{}"],
      2,
      /^taskq: give exactly one of --payload, --payload-file, --random\n$/,
    ],
    [
      "status before any store exists",
      ["status", "ghost"],
      1,
      /^taskq: no task store at \.taskq\/tasks\.db \(nothing was run or submitted there yet\)\n$/,
    ],
    [
      "status of an unknown id",
      ["status", "ghost", "--store", "seeded.db"],
      1,
      /^taskq: no task with id "ghost" in seeded\.db\n$/,
    ],
    [
      "db is not SQLite",
      ["run", "--tasks", "good.json", "--store", "good.json"],
      1,
      /^taskq: task store good\.json is not a SQLite database \(the file was left untouched\)\n$/,
    ],
  ];

  it.each(cases)("%s", async (_name, args, exitCode, stderr) => {
    const dir = workdir();
    writeFileSync(join(dir, "good.json"), '[{"id":"a","type":"noop"}]');
    writeFileSync(join(dir, "broken.json"), '[{"id": "a",\n  "type" "noop"}]');
    if (args.includes("seeded.db"))
      await taskq(dir, ["submit", "--payload", '{"id":"x","type":"noop"}', "--store", "seeded.db"]);
    const result = await taskq(dir, args);
    expect(result.code).toBe(exitCode);
    expect(result.stderr).toMatch(stderr);
    expect(result.stderr).not.toContain("    at ");
    expect(readFileSync(join(dir, "good.json"), "utf8")).toBe('[{"id":"a","type":"noop"}]');
  });

  it("LOG_LEVEL=debug adds the stack trace", async () => {
    const result = await taskq(workdir(), ["run", "--tasks", "nope.json"], { LOG_LEVEL: "debug" });
    expect(result.stderr).toContain("    at ");
  });

  it("a bad task inside a good file is dead-lettered with its reason; the other tasks run", async () => {
    const dir = workdir();
    await taskq(dir, ["generate", "--count", "3", "--out", "g.json", "--duplicates", "0"]);
    const tasks = JSON.parse(readFileSync(join(dir, "g.json"), "utf8"));
    tasks.push(
      { id: "evil", image_key: "/etc/passwd", variant: "gray" },
      { id: "odd", image_key: "a.ppm", variant: "sepia" },
      42,
    );
    writeFileSync(join(dir, "mixed.json"), JSON.stringify(tasks));
    const run = await taskq(dir, ["run", "--tasks", "mixed.json", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      success_count: 3,
      fail_count: 3,
      error_classification: { validation: 3 },
    });
    expect(run.stderr).toContain(
      'taskq: skipped task "evil" (mixed.json item 4): field "image_key" is not a safe object key: is an absolute path (dead-lettered)',
    );
    const dlq = JSON.parse((await taskq(dir, ["dlq", "list", "--json"])).stdout);
    expect(dlq.map((d: { taskId: string }) => d.taskId)).toEqual(["evil", "odd", "#6"]);
    // input that never became a task has no kind: "-" in the list
    expect(dlq.map((d: { kind: string | null }) => d.kind)).toEqual([null, null, null]);
    expect((await taskq(dir, ["dlq", "list"])).stdout).toMatch(/^evil\t-\tvalidation\t/);
  });
});

describe("retention", () => {
  it("prune deletes succeeded records past the window (their keys run again); dlq purge the old dead letters", async () => {
    const dir = workdir();
    await taskq(dir, ["submit", "--random", "--count", "10", "--seed", "2"]);
    expect((await taskq(dir, ["serve", "--exit-when-idle", "--retention-ms", "0"])).code).toBe(0);
    const before = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(before.succeeded + before.failed).toBe(10);
    expect((await taskq(dir, ["prune"])).stdout).toBe(
      "pruned 0 succeeded task(s) that finished more than 604800000 ms ago\n",
    );
    expect((await taskq(dir, ["prune", "--older-than-ms", "0"])).stdout).toBe(
      `pruned ${before.succeeded} succeeded task(s) that finished more than 0 ms ago\n`,
    );
    expect((await taskq(dir, ["dlq", "purge", "--older-than-ms", "0"])).stdout).toBe(
      `purged ${before.failed} dead letter(s) older than 0 ms\n`,
    );
    const after = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(after).toMatchObject({ total_estimate: 0, dead_letters: 0 });
    const missing = await taskq(dir, ["dlq", "purge"]);
    expect([missing.code, missing.stderr]).toEqual([2, "taskq: Missing required argument: older-than-ms\n"]);
  });
});

describe("your own handler module (--handler)", () => {
  const handler = new URL("./fixtures/upper.mjs", import.meta.url).pathname;

  it("run --handler runs a file of payloads through it; duplicates as for built-in tasks; a malformed line refuses the file", async () => {
    const dir = workdir();
    const lines = '{"text": "a"}\n{"text": "b"}\n{"text": "a"}\n{"text": "c", "fail": true}\n';
    writeFileSync(join(dir, "p.jsonl"), lines);
    const run = await taskq(dir, ["run", "--handler", handler, "--tasks", "p.jsonl", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ success_count: 2, duplicate_count: 1, fail_count: 1 });
    // a handler run is not a benchmark
    writeFileSync(join(dir, "q.jsonl"), '{"text": "d"}\n');
    const table = await taskq(dir, ["run", "--handler", handler, "--tasks", "q.jsonl"]);
    expect(table.stdout).toContain(`HANDLER RUN: ${handler} on q.jsonl`);
    expect(table.stdout).not.toContain("BENCHMARK");
    writeFileSync(join(dir, "bad.jsonl"), `${lines}not json\n`);
    const bad = await taskq(dir, ["run", "--handler", handler, "--tasks", "bad.jsonl", "--json"]);
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([
      2,
      "",
      "taskq: bad.jsonl line 5: malformed JSON: Unexpected token 'o'\n",
    ]);
    const dlq = JSON.parse((await taskq(dir, ["dlq", "list", "--json"])).stdout);
    expect(dlq.map((d: { errorClass: string }) => d.errorClass)).toEqual(["permanent"]);
  });

  it("submit --kind then serve --handler: payloads through the durable queue, results stored as JSON", async () => {
    const dir = workdir();
    const submitted = await taskq(dir, [
      "submit",
      "--kind",
      "upper",
      "--payload",
      '{"text": "queued"}',
      "--json",
    ]);
    const [{ id }] = JSON.parse(submitted.stdout);
    // a task of another kind: this worker has no handler for it, and leaves it queued
    await taskq(dir, ["submit", "--kind", "lower", "--payload", '{"text": "left"}']);
    const serve = startTaskq(dir, ["serve", "--handler", handler, "--poll-ms", "20"]);
    await until(
      async () => JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout).status === "succeeded",
      "the upper task to succeed",
    );
    serve.child.kill("SIGTERM");
    const served = await serve.exited;
    // FILE alone: the kind is the file's name, and serve says so
    expect(served.stderr).toContain('taskq serve: serving kind "upper" from');
    expect(served.stdout).toContain("SERVE: 1 task(s) taken");
    const monitor = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(monitor.kinds).toEqual([
      { kind: "lower", queued: 1, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
      { kind: "upper", queued: 0, scheduled: 0, running: 0, succeeded: 1, failed: 0, cancelled: 0 },
    ]);
    const duplicate = await taskq(dir, ["submit", "--kind", "upper", "--payload", '{"text": "queued"}']);
    expect(duplicate.stdout).toBe(`${id} (duplicate, succeeded)\n`);
    const lower = JSON.parse(
      (
        await taskq(dir, [
          "status",
          "--json",
          String(
            JSON.parse(
              (
                await taskq(dir, ["submit", "--kind", "lower", "--payload", '{"text": "left"}', "--json"])
              ).stdout,
            )[0].id,
          ),
        ])
      ).stdout,
    );
    expect(lower).toMatchObject({ kind: "lower", status: "queued" });
    const cancelled = await taskq(dir, ["cancel", lower.id]);
    expect(cancelled.stdout).toMatch(/^cancelled \S+ \(lower\) in /);
    expect((await taskq(dir, ["cancel", lower.id])).stderr).toMatch(
      /cannot be cancelled: it already was cancelled/,
    );
    const status = JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout);
    // the handler sees the stored task's id, not a new one
    expect(status).toMatchObject({ status: "succeeded", result: { text: "QUEUED", attempt: 1, id } });
  });

  it("a handler that does not exist is a usage error naming it, and nothing is created", async () => {
    const dir = workdir();
    writeFileSync(join(dir, "p.jsonl"), '{"text": "a"}\n');
    const run = await taskq(dir, ["run", "--handler", "./missing.mjs", "--tasks", "p.jsonl"]);
    expect([run.code, run.stderr]).toEqual([2, "taskq: handler ./missing.mjs: no such module\n"]);
    expect(existsSync(join(dir, ".taskq"))).toBe(false);
  });
});
