// Fair groups (issue 35) through the built binary, on SQLite: submit --group stores it, status
// and list --group show and find it; limits set --per-group-concurrency makes the kind grouped,
// shown by limits list (and --json) and monitor; serve then runs each group's tasks in turn; a
// bad --group or --per-group-concurrency is one line naming the flag, exit 2, nothing stored.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

const echo = fileURLToPath(new URL("../../../packages/taskq/test/fixtures/echo.mjs", import.meta.url));

describe("taskq and fair groups", () => {
  it("submit --group, status, list --group; limits set --per-group-concurrency, limits list, monitor; serve runs them", async () => {
    const dir = workdir();
    const submit = (group: string, n: number) =>
      taskq(dir, ["submit", "--kind", "imports", "--payload", JSON.stringify({ n }), "--group", group]);
    const id = (await submit("tenant-42", 1)).stdout.trim();
    await submit("tenant-7", 2);
    await submit("tenant-42", 3);
    const other = (await taskq(dir, ["submit", "--kind", "imports", "--payload", '{"n":4}'])).stdout.trim();
    expect((await taskq(dir, ["status", id])).stdout).toMatch(/\ngroup: +tenant-42\n/);
    expect((await taskq(dir, ["status", other])).stdout).not.toMatch(/\ngroup:/);
    expect(JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout)).toMatchObject({
      group: "tenant-42",
    });
    const listed = (await taskq(dir, ["list", "--group", "tenant-42"])).stdout.trim().split("\n");
    expect(listed).toHaveLength(2);
    expect(listed.at(-1)?.split("\t")[1]).toBe(id);
    expect((await taskq(dir, ["list", "--group", "nobody"])).stdout).toBe("no tasks\n");

    expect((await taskq(dir, ["limits", "set", "imports", "--per-group-concurrency", "2"])).code).toBe(0);
    expect((await taskq(dir, ["limits", "list"])).stdout).toBe(
      "imports  per group at most 2 running (groups taken in rotation)  open\n",
    );
    expect(JSON.parse((await taskq(dir, ["limits", "list", "--json"])).stdout)).toEqual([
      expect.objectContaining({ kind: "imports", concurrency: null, perGroup: { concurrency: 2 } }),
    ]);
    expect((await taskq(dir, ["monitor", "--once"])).stdout).toContain(
      "    imports  per group at most 2 running (groups taken in rotation)  open",
    );
    // a grouped kind's tasks, with a group or without, all run
    const served = await taskq(dir, ["serve", "--handler", `imports=${echo}`, "--exit-when-idle"]);
    expect(served.code).toBe(0);
    const tasks = JSON.parse((await taskq(dir, ["list", "--kind", "imports", "--json"])).stdout);
    expect(tasks.map((t: { status: string }) => t.status)).toEqual(Array(4).fill("succeeded"));
    // set again without it: the kind is no longer grouped
    await taskq(dir, ["limits", "set", "imports", "--concurrency", "3"]);
    expect((await taskq(dir, ["limits", "list"])).stdout).toBe("imports  concurrency 0/3 running  open\n");
  });

  it("a bad --group or --per-group-concurrency is one line naming the flag, exit 2, nothing stored", async () => {
    const dir = workdir();
    for (const args of [
      ["submit", "--kind", "imports", "--payload", "{}", "--group", ""],
      ["submit", "--kind", "imports", "--payload", "{}", "--group", "x".repeat(101)],
      ["list", "--group", "a\u0001b"],
    ]) {
      const bad = await taskq(dir, args);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe("");
      expect(bad.stderr.trim().split("\n")).toHaveLength(1);
      expect(bad.stderr).toMatch(/^taskq: --group /);
    }
    for (const value of ["0", "1.5", "many"]) {
      const bad = await taskq(dir, ["limits", "set", "imports", "--per-group-concurrency", value]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /^taskq: --per-group-concurrency must be an integer >= 1, got "?[\w.]+"?\n$/,
      );
      expect(bad.stderr).toContain(value);
    }
    // nothing was stored: no store was made by any of them
    expect((await taskq(dir, ["limits", "list"])).code).not.toBe(0);
  });
});
