// Correlation ids through the built binary, on SQLite, the handler on a thread (THREADS=1): submit
// --correlation-id stores it; serve's every log line about each attempt (the handler's own lines
// on its thread, the worker's retries and success) carries it; status shows it; list finds the
// task by it; a bad one is one line naming the flag.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startTaskq, taskq, until, workdir } from "./helpers.js";

const handler = fileURLToPath(new URL("./fixtures/logs-each-attempt.mjs", import.meta.url));

describe("taskq submit --correlation-id", () => {
  it("every log line of every attempt on the thread and the worker carries it; status and list show it", async () => {
    const dir = workdir();
    const submit = (args: string[]) =>
      taskq(dir, ["submit", "--kind", "mail", "--payload", '{"to":"a@example.com"}', ...args]);
    const id = (await submit(["--correlation-id", "req-7f3a"])).stdout.trim();
    const other = (
      await taskq(dir, ["submit", "--kind", "mail", "--payload", '{"to":"b@example.com"}'])
    ).stdout.trim();
    // serve runs until every line of the last attempts is out, then is stopped: a thread's lines
    // still buffered when serve exits can be lost (its pino destination is asynchronous and the
    // thread is terminated), which is not what this test is about
    const serving = startTaskq(
      dir,
      ["serve", "--handler", `mail=${handler}`, "--backoff-base-ms", "0", "--backoff-max-ms", "0"],
      { LOG_LEVEL: "debug", THREADS: "1" },
    );
    const count = (text: string) => serving.output().stderr.split(text).length - 1;
    await until(
      () => count('"msg":"sent"') === 2 && count('"msg":"task succeeded"') === 2,
      "both tasks done",
    );
    serving.child.kill("SIGTERM");
    const serve = await serving.exited;
    const lines = serve.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.task_id === id);
    // the handler's lines (from its thread) and the worker's, for each of the three attempts
    // (on a failure, serve's whole stderr is shown: a line missing or one too many)
    expect(mine.map((l) => `${l.attempt}:${l.msg}`).sort(), serve.stderr).toEqual(
      [
        "1:sending",
        "1:mail server refused, attempt 1",
        "2:sending",
        "2:mail server refused, attempt 2",
        "3:sending",
        "3:sent",
        "3:task succeeded",
      ].sort(),
    );
    expect(mine.filter((l) => l.correlation_id !== "req-7f3a")).toEqual([]);
    const theirs = lines.filter((l) => l.task_id === other);
    expect(theirs.length, serve.stderr).toBe(7);
    expect(theirs.filter((l) => "correlation_id" in l)).toEqual([]);

    expect((await taskq(dir, ["status", id])).stdout).toMatch(/\ncorrelation id: +req-7f3a\n/);
    expect(JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout)).toMatchObject({
      correlationId: "req-7f3a",
      traceContext: null,
    });
    expect((await taskq(dir, ["status", other])).stdout).not.toContain("correlation id");
    const listed = await taskq(dir, ["list", "--correlation-id", "req-7f3a"]);
    expect(
      listed.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("\t")[1]),
    ).toEqual([id]);
    expect((await taskq(dir, ["list", "--correlation-id", "nobody"])).stdout).toBe("no tasks\n");
  });

  it("a bad correlation id is one line naming the flag, exit 2, nothing stored", async () => {
    const dir = workdir();
    for (const [cmd, extra] of [
      ["submit", ["--kind", "mail", "--payload", "{}"]],
      ["list", []],
    ] as const) {
      const bad = await taskq(dir, [cmd, ...extra, "--correlation-id", "two words"]);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe("");
      expect(bad.stderr.trim().split("\n")).toHaveLength(1);
      expect(bad.stderr).toMatch(/--correlation-id "two words" must be printable ASCII without spaces/);
    }
  });
});
