// taskq breaker set|list|reset|remove (issue 34), the built binary on SQLite: a breaker on the
// built-in `fail` kind (which fails permanently: counted here with --count permanent) opens on its
// first failure in a serve; the next task of the kind waits queued, attempts untouched; list,
// monitor, its JSON and the Prometheus export say it is open; a reset closes it; bad input is one line.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

describe("taskq breaker", () => {
  it("set, a serve opens it, list, monitor and /metrics say so, the backlog waits, reset, remove", async () => {
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
      "permanent",
    ]);
    expect([set.code, set.stdout]).toEqual([
      0,
      "breaker set in .taskq/tasks.db: fail  closed (0/1 failures in the window)  opens after 1 failures of class permanent in 1m, cool-down 1h\n",
    ]);
    const submit = (id: string) =>
      taskq(dir, [
        "submit",
        "--payload",
        JSON.stringify({ id, type: "fail", errorMessage: "the mail server is down" }),
      ]);
    await submit("a");
    await taskq(dir, ["serve", "--exit-when-idle"]);
    await submit("b");
    expect((await taskq(dir, ["breaker", "list"])).stdout).toMatch(
      /^fail {2}OPEN since \d{4}-\d\d-\d\dT[\d:.]+Z, half-open in \d+ s {2}opens after 1 failures of class permanent in 1m, cool-down 1h\n$/,
    );
    const listed = JSON.parse((await taskq(dir, ["breaker", "list", "--json"])).stdout);
    expect(listed).toEqual([
      expect.objectContaining({
        kind: "fail",
        state: "open",
        failures: 1,
        cooldownMs: 3_600_000,
        countErrors: ["permanent"],
      }),
    ]);
    expect((await taskq(dir, ["monitor", "--once"])).stdout).toMatch(
      /\n {2}breakers: 1\n {4}fail {2}OPEN since /,
    );
    const reading = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
    expect(reading.limits).toEqual([
      expect.objectContaining({
        kind: "fail",
        held_back: "breaker",
        breaker: expect.objectContaining({ state: "open", failures: 1 }),
      }),
    ]);
    const metrics = (await taskq(dir, ["monitor", "--once", "--export", "prometheus"])).stdout;
    expect(metrics).toContain('taskq_store_breaker_state{kind="fail",state="open"} 1');
    expect(metrics).toContain('taskq_store_breaker_state{kind="fail",state="closed"} 0');
    expect(metrics).toContain('taskq_store_kind_held_back{kind="fail",reason="breaker"} 1');
    // the backlog waits: queued, never attempted
    expect((await taskq(dir, ["status", "b", "--json"])).stdout).toMatch(
      /"status": "queued"[\s\S]*"attempts": 0/,
    );
    expect((await taskq(dir, ["breaker", "reset", "fail"])).stdout).toBe(
      "fail: breaker closed; the workers take its tasks again\n",
    );
    expect((await taskq(dir, ["breaker", "reset", "fail"])).stdout).toBe("fail: the breaker was not open\n");
    expect((await taskq(dir, ["breaker", "list"])).stdout).toMatch(
      /^fail {2}closed \(0\/1 failures in the window\)/,
    );
    expect((await taskq(dir, ["breaker", "remove", "fail"])).stdout).toBe("fail: breaker removed\n");
    expect((await taskq(dir, ["breaker", "list"])).stdout).toBe("no breakers in .taskq/tasks.db\n");
    const ratio = await taskq(dir, [
      "breaker",
      "set",
      "fail",
      "--failures",
      "10",
      "--ratio",
      "0.5",
      "--min-attempts",
      "4",
    ]);
    expect(ratio.stdout).toContain(
      "opens after 10 retryable failures or 50% of 4 or more attempts in 1m, cool-down 30s",
    );
  });

  it("refuses bad input in one line", async () => {
    const dir = workdir();
    const cases: [string[], RegExp][] = [
      [["breaker", "set", "email"], /^taskq: breaker set needs --failures N\n$/],
      [
        ["breaker", "set", "email", "--failures", "0"],
        /^taskq: --failures must be an integer from 1 to 1000000, got 0\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "1000001"],
        /^taskq: --failures must be an integer from 1 to 1000000, got 1000001\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "many"],
        /^taskq: --failures must be an integer from 1 to 1000000, got many\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "3", "--window", "5x"],
        /^taskq: --window must be a duration such as 500ms, 30s, 5m or 1h[^\n]*"5x"\n$/,
      ],
      [["breaker", "set", "email", "--failures", "3", "--count", "a b"], /^taskq: --count must be [^\n]*\n$/],
      [["breaker", "reset"], /^taskq: breaker reset needs a KIND\n$/],
      [
        ["breaker", "reset", "email", "--failures", "3"],
        /^taskq: --failures, --window, --cooldown, --count, --ratio and --min-attempts go with breaker set\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "3", "--ratio", "2"],
        /^taskq: --ratio must be a number above 0 and at most 1, got 2\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "3", "--min-attempts", "5"],
        /^taskq: --min-attempts goes with --ratio\n$/,
      ],
      [
        ["breaker", "set", "email", "--failures", "3", "--ratio", "0.5", "--min-attempts", "0"],
        /^taskq: --min-attempts must be an integer from 1 to 1000000, got 0\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await taskq(dir, args);
      expect([run.code, run.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
    // refused before the store is opened: none was made
    expect(existsSync(join(dir, ".taskq"))).toBe(false);
  });
});
