// Workflows through the built binary, on SQLite (issue 35): `taskq submit --after ID,ID` stores a
// task that waits for its parents, `taskq status` lists its parents and children and says it
// waits; `serve` runs it once they succeeded; bad --after values and unknown ids are refused with
// one line and exit 2, nothing stored.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { taskq, workdir } from "./helpers.js";

const handler = fileURLToPath(new URL("./fixtures/flow-echo.mjs", import.meta.url));

describe("taskq submit --after, taskq status", () => {
  it("a task after two others waits, shows its links, and runs once they succeeded", async () => {
    const dir = workdir();
    const submit = async (payload: string, ...extra: string[]) =>
      (await taskq(dir, ["submit", "--kind", "step", "--payload", payload, ...extra])).stdout.trim();
    const a = await submit('{"n":1}');
    const b = await submit('{"n":2}');
    const child = await taskq(dir, [
      "submit",
      "--kind",
      "step",
      "--payload",
      '{"n":3}',
      "--after",
      `${a},${b}`,
    ]);
    expect(child.code).toBe(0);
    const c = child.stdout.trim();
    const status = (await taskq(dir, ["status", c])).stdout;
    expect(status).toMatch(/\nstatus: {10}queued \(waiting for 2 of its parents\)\n/);
    expect(status).toContain(`\nparents:         ${a} (queued), ${b} (queued)\n`);
    expect(status).not.toMatch(/runs at/);
    expect((await taskq(dir, ["status", a])).stdout).toContain(`\nchildren:        ${c} (queued)\n`);
    const json = JSON.parse((await taskq(dir, ["status", c, "--json"])).stdout);
    expect(json).toMatchObject({ waitingFor: 2, parents: [{ id: a }, { id: b }], children: [] });

    const serve = await taskq(dir, ["serve", "--handler", `step=${handler}`, "--exit-when-idle"]);
    expect(serve.code).toBe(0);
    const done = (await taskq(dir, ["status", c])).stdout;
    expect(done).toMatch(/\nstatus: {10}succeeded\n/);
    expect(done).toContain(`\nparents:         ${a} (succeeded), ${b} (succeeded)\n`);
    // the child's handler read both parents' results
    expect(done).toMatch(/\nresult: {10}\{"n":3,"parents":\[1,2\]\}\n/);
  });

  it("refuses a bad --after and an unknown id in one line (exit 2), storing nothing", async () => {
    const dir = workdir();
    const empty = await taskq(dir, ["submit", "--kind", "step", "--payload", "{}", "--after", ","]);
    expect(empty.code).toBe(2);
    const errors = (stderr: string) => stderr.split("\n").filter((l) => l !== "" && !l.includes("warning"));
    expect(errors(empty.stderr)).toHaveLength(1);
    expect(empty.stderr).toMatch(/--after takes task ids/);
    const unknown = await taskq(dir, ["submit", "--kind", "step", "--payload", '{"x":1}', "--after", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/after: no task with id nope/);
    expect(errors(unknown.stderr)).toHaveLength(1);
    const delayed = await taskq(dir, [
      "submit",
      "--kind",
      "step",
      "--payload",
      "{}",
      "--after",
      "x",
      "--delay-ms",
      "5",
    ]);
    expect(delayed.code).toBe(2);
    const list = await taskq(dir, ["list", "--json"]);
    expect(list.stdout).not.toContain('"x":1');
  });

  it("taskq flow submit FILE.json enqueues a graph in one go; serve runs it in order; a cycle is refused", async () => {
    const dir = workdir();
    const file = join(dir, "flow.json");
    writeFileSync(
      file,
      JSON.stringify({
        tasks: {
          a: { kind: "step", payload: { n: 1 } },
          b: { kind: "step", payload: { n: 2 } },
          sum: { kind: "step", payload: { n: 3 }, after: ["a", "b"], group: "tenant-1", priority: 2 },
        },
      }),
    );
    const submitted = await taskq(dir, ["flow", "submit", file]);
    expect(submitted.code).toBe(0);
    const ids = Object.fromEntries(
      submitted.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")),
    );
    expect(Object.keys(ids)).toEqual(["a", "b", "sum"]);
    expect((await taskq(dir, ["status", ids.sum])).stdout).toContain(
      `\nparents:         ${ids.a} (queued), ${ids.b} (queued)\n`,
    );
    expect(JSON.parse((await taskq(dir, ["status", ids.sum, "--json"])).stdout)).toMatchObject({
      group: "tenant-1",
      priority: 2,
    });
    expect((await taskq(dir, ["serve", "--handler", `step=${handler}`, "--exit-when-idle"])).code).toBe(0);
    expect((await taskq(dir, ["status", ids.sum])).stdout).toMatch(
      /\nresult: {10}\{"n":3,"parents":\[1,2\]\}\n/,
    );
    writeFileSync(
      file,
      JSON.stringify({
        tasks: { x: { kind: "step", after: ["y"] }, y: { kind: "step", payload: { y: 1 }, after: ["x"] } },
      }),
    );
    const cycle = await taskq(dir, ["flow", "submit", file]);
    expect(cycle.code).toBe(2);
    expect(cycle.stderr.trim()).toBe("taskq: after: the flow has a cycle (through tasks x, y)");
  });
});
