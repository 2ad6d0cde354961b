// `taskq serve --isolate KIND=thread|process --memory-limit KIND=MB`, the built binary on SQLite:
// a handler that runs out of memory, aborts or exits in its process ends that attempt only (each
// dead-lettered once its attempts run out, saying what happened); the other tasks of its kind and
// of another kind run once each. On the shared threads (no --isolate), running out of heap ends
// the thread only. Mistakes in the flags are one line, exit 2.
import { join } from "node:path";
import { SqliteSyncStore } from "@taskq/idempotency";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

// the library's crash fixture: what a handler can do to its thread or process
const crash = new URL("../../../packages/taskq/test/fixtures/crash.mjs", import.meta.url).pathname;
const upper = new URL("./fixtures/upper.mjs", import.meta.url).pathname;

/** Submits one task of `kind` with `attempts`, and answers its id. */
async function submit(dir: string, kind: string, payload: unknown, attempts = 2): Promise<string> {
  const out = await taskq(dir, [
    "submit",
    "--kind",
    kind,
    "--payload",
    JSON.stringify(payload),
    "--attempts",
    String(attempts),
    "--json",
  ]);
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout)[0].id;
}

async function status(dir: string, id: string) {
  return JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout) as {
    status: string;
    attempts: number;
    errorClass: string | null;
    errorMessage: string | null;
  };
}

const serveFlags = [
  "serve",
  "--exit-when-idle",
  "--threads",
  "2",
  "--backoff-base-ms",
  "0",
  "--poll-ms",
  "20",
];

describe("taskq serve --isolate", () => {
  it("monitor says a worker's child processes beside its threads, only when it has any", async () => {
    const dir = workdir();
    await submit(dir, "upper", { text: "a" }); // creates the store
    const store = new SqliteSyncStore({ path: join(dir, ".taskq", "tasks.db"), recover: false });
    try {
      const worker = (threads: number, processes: number) =>
        store.reportWorker({ threads, processes, slots: 4, executing: 0, leased: 0, kinds: ["upper"] });
      const monitor = async () => (await taskq(dir, ["monitor", "--once"])).stdout;
      worker(2, 2);
      expect(await monitor()).toContain("executing 0 of 4 slots on 2 thread(s) and 2 process(es)");
      worker(0, 3);
      expect(await monitor()).toContain("executing 0 of 4 slots on 3 process(es)");
      worker(2, 0);
      expect(await monitor()).toContain("executing 0 of 4 slots on 2 thread(s), leased");
    } finally {
      store.close();
    }
  });

  it("a kind in processes: out of memory, abort and exit each end their attempts only; the rest run once", async () => {
    const dir = workdir();
    const crashes = {
      oom: await submit(dir, "crash", { do: "oom" }),
      abort: await submit(dir, "crash", { do: "abort" }),
      exit: await submit(dir, "crash", { do: "exit" }),
    };
    const fine = [await submit(dir, "crash", { n: 1 }), await submit(dir, "upper", { text: "a" })];
    const serve = await taskq(dir, [
      ...serveFlags,
      "--handler",
      `crash=${crash}`,
      "--handler",
      `upper=${upper}`,
      "--isolate",
      "crash=process",
      "--memory-limit",
      "crash=32",
    ]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("SERVE: 8 task(s) taken"); // 3 x 2 attempts, and the 2 fine ones
    expect(await status(dir, crashes.oom)).toMatchObject({
      status: "failed",
      attempts: 2,
      errorClass: "worker_crash",
      errorMessage: expect.stringMatching(/^out of memory \(memoryLimitMb 32\): the handler's process/),
    });
    expect(await status(dir, crashes.abort)).toMatchObject({
      status: "failed",
      attempts: 2,
      errorMessage: expect.stringContaining("killed by signal SIGABRT"),
    });
    expect(await status(dir, crashes.exit)).toMatchObject({
      status: "failed",
      attempts: 2,
      errorMessage: expect.stringContaining("exited with code 3"),
    });
    for (const id of fine) expect(await status(dir, id)).toMatchObject({ status: "succeeded", attempts: 1 });
  }, 60_000);

  it("on the shared threads, a handler past V8's heap limit ends its thread only", async () => {
    const dir = workdir();
    const oom = await submit(dir, "crash", { do: "oom" }, 1);
    const serve = await taskq(dir, [...serveFlags, "--handler", `crash=${crash}`], {
      // the threads' heap is the process's: small, so that a test reaches it quickly
      NODE_OPTIONS: "--max-old-space-size=96",
    });
    expect(serve.code).toBe(0);
    expect(await status(dir, oom)).toMatchObject({
      status: "failed",
      errorMessage: expect.stringMatching(
        /^out of memory: an attempt on this thread went past V8's heap limit/,
      ),
    });
    const after = await submit(dir, "crash", { n: 2 }, 1);
    expect((await taskq(dir, [...serveFlags, "--handler", `crash=${crash}`])).code).toBe(0);
    expect(await status(dir, after)).toMatchObject({ status: "succeeded", attempts: 1 });
  }, 60_000);

  it("refuses a mistake in the flags, naming it, exit 2", async () => {
    const dir = workdir();
    const cases: [string[], string][] = [
      [["--isolate", "crash=fork"], 'taskq: --isolate takes KIND=thread or KIND=process, got "crash=fork"\n'],
      [
        ["--memory-limit", "crash=4"],
        'taskq: --memory-limit takes KIND=MB (MB an integer from 16 to 1048576), got "crash=4"\n',
      ],
      [
        ["--isolate", "email=process"],
        'taskq: --isolate names "email", a kind this worker does not serve (it serves crash)\n',
      ],
      [
        ["--memory-limit", "crash=64"],
        "taskq: --memory-limit crash: the limit is of the kind's own threads or processes; give --isolate crash=thread or --isolate crash=process too\n",
      ],
    ];
    for (const [flags, stderr] of cases) {
      const out = await taskq(dir, [...serveFlags, "--handler", `crash=${crash}`, ...flags]);
      expect([out.code, out.stderr]).toEqual([2, stderr]);
    }
    const builtIn = await taskq(dir, [...serveFlags, "--isolate", "noop=process"]);
    expect([builtIn.code, builtIn.stderr]).toEqual([
      2,
      "taskq: --isolate and --memory-limit are for handler kinds: give --handler KIND=FILE\n",
    ]);
  }, 60_000);
});
