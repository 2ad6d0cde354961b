// Every attempt of a task (issue 36) through the built binary, on SQLite: a task whose handler
// fails twice and then succeeds shows its three attempts in `status`, each with its outcome,
// start, duration and worker, the failures with their error; --json carries them with the stack.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

const handler = fileURLToPath(new URL("./fixtures/third-time.mjs", import.meta.url));

describe("taskq status: every attempt", () => {
  it("a task that fails twice and succeeds shows three attempts, the failures with their errors", async () => {
    const dir = workdir();
    const id = (
      await taskq(dir, ["submit", "--kind", "mail", "--payload", '{"to":"a@example.com"}'])
    ).stdout.trim();
    const serve = await taskq(dir, [
      "serve",
      "--handler",
      `mail=${handler}`,
      "--exit-when-idle",
      "--backoff-base-ms",
      "0",
      "--backoff-max-ms",
      "0",
    ]);
    expect(serve.code).toBe(0);
    const status = (await taskq(dir, ["status", id])).stdout;
    const time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    // a duration in words: "12 ms", or "1.3 s" on a loaded machine
    const took = "(\\d+ ms|\\d+\\.\\d s)";
    expect(status).toMatch(
      new RegExp(
        [
          "\\neach attempt:",
          `  1\\. failed, retried, started ${time}, ${took} on \\S+:\\d+:\\S+`,
          "      error: mail server refused, attempt 1",
          `  2\\. failed, retried, started ${time}, ${took} on \\S+:\\d+:\\S+`,
          "      error: mail server refused, attempt 2",
          `  3\\. succeeded, started ${time}, ${took} on \\S+:\\d+:\\S+\\n$`,
        ].join("\\n"),
      ),
    );
    expect(status).toMatch(/\nattempts: {8}attempt 3 of 3, succeeded\n/);
    const json = JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout);
    expect(json.attemptHistory.map((a: { outcome: string }) => a.outcome)).toEqual([
      "retried",
      "retried",
      "succeeded",
    ]);
    expect(json.attemptHistory[0].errorStack).toMatch(
      /^Error: mail server refused, attempt 1\n {4}at thirdTime \(.*third-time\.mjs:3:/,
    );
  });
});
