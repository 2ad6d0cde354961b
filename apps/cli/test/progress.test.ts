// A task's progress and log (issue 35) through the built binary, on SQLite: a handler on a thread
// (THREADS=1) reports progress and logs 12 lines under `taskq serve`; `taskq status` shows the last
// progress and the last 10 lines (--log every line, --json the whole log).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startTaskq, taskq, until, workdir } from "./helpers.js";

const handler = fileURLToPath(new URL("./fixtures/progress-log.mjs", import.meta.url));

describe("taskq status: progress and log", () => {
  it("shows a task's last progress and its log's last lines; --log every line; --json the whole log", async () => {
    const dir = workdir();
    const id = (await taskq(dir, ["submit", "--kind", "steps", "--payload", "{}"])).stdout.trim();
    const serving = startTaskq(dir, ["serve", "--handler", `steps=${handler}`], { THREADS: "1" });
    await until(
      async () => (await taskq(dir, ["status", id])).stdout.includes("succeeded"),
      "the task succeeded",
    );
    serving.child.kill("SIGTERM");
    await serving.exited;
    const status = (await taskq(dir, ["status", id])).stdout;
    expect(status).toContain('progress:        {"done":12,"of":12}');
    expect(status).toContain("log (12 lines):\n  … 2 earlier lines (--log shows every line)\n");
    const shown = status.split("\n").filter((l) => / \[1\] step /.test(l));
    expect(shown.map((l) => l.replace(/^ {2}\S+ \[1\] /, ""))).toEqual(
      Array.from({ length: 10 }, (_, i) => `step ${i + 3} of 12`),
    );
    const all = (await taskq(dir, ["status", id, "--log"])).stdout;
    expect(all.split("\n").filter((l) => / \[1\] step /.test(l))).toHaveLength(12);
    expect(all).not.toContain("earlier line");
    const json = JSON.parse((await taskq(dir, ["status", id, "--json"])).stdout);
    expect(json.progress).toEqual({ done: 12, of: 12 });
    expect(json.log.dropped).toBe(0);
    expect(json.log.lines.map((l: { line: string }) => l.line)).toEqual(
      Array.from({ length: 12 }, (_, i) => `step ${i + 1} of 12`),
    );
  });
});
