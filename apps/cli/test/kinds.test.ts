// taskq kinds pause|resume|list (issue 36), the built binary on SQLite: a paused kind's tasks wait
// through a serve that runs the other kind's, and run after a resume; monitor and the Prometheus
// export say it is paused; bad input is one line.
import { describe, expect, it } from "vitest";
import { startTaskq, taskq, until, workdir } from "./helpers.js";

describe("taskq kinds", () => {
  it("pause, list, monitor, serve passes the paused kind by, resume, serve runs it", async () => {
    const dir = workdir();
    const submit = (payload: string) =>
      taskq(dir, ["submit", "--payload", payload]).then((r) => r.stdout.trim());
    // the built-in task types: a type is a kind
    const held = await submit('{"id":"a","type":"noop"}');
    expect(held).toBe("a");
    const paused = await taskq(dir, ["kinds", "pause", "noop"]);
    expect([paused.code, paused.stdout]).toEqual([
      0,
      "noop paused in .taskq/tasks.db: no worker starts its tasks from its next take; running ones finish\n",
    ]);
    expect((await taskq(dir, ["kinds", "pause", "noop"])).stdout).toBe("noop was paused already\n");
    expect((await taskq(dir, ["kinds", "list"])).stdout).toMatch(
      /^noop {2}PAUSED since \d{4}-\d\d-\d\dT[\d:.]+Z {2}queued 1 {2}scheduled 0 {2}running 0 {2}no live worker serves it\n$/,
    );
    const listed = JSON.parse((await taskq(dir, ["kinds", "list", "--json"])).stdout);
    expect(listed).toEqual([expect.objectContaining({ kind: "noop", paused: true, queued: 1 })]);
    expect((await taskq(dir, ["monitor", "--once"])).stdout).toMatch(
      /\n {4}noop {2}paused since \S+ \(taskq kinds resume noop\)\n/,
    );
    expect((await taskq(dir, ["monitor", "--once", "--export", "prometheus"])).stdout).toContain(
      'taskq_store_kind_paused{kind="noop"} 1',
    );
    // a serve that exits when idle finds nothing it may start
    await taskq(dir, ["serve", "--exit-when-idle"]);
    expect((await taskq(dir, ["status", "a", "--json"])).stdout).toMatch(/"status": "queued"/);
    expect((await taskq(dir, ["kinds", "resume", "noop"])).stdout).toBe(
      "noop resumed: the workers take its tasks again\n",
    );
    expect((await taskq(dir, ["kinds", "resume", "noop"])).stdout).toBe("noop was not paused\n");
    await taskq(dir, ["serve", "--exit-when-idle"]);
    expect((await taskq(dir, ["status", "a", "--json"])).stdout).toMatch(/"status": "succeeded"/);
    expect((await taskq(dir, ["kinds", "list", "--json"])).stdout).toContain('"paused": false');
  });

  it("serve --name: monitor and kinds list show the worker by its name, beside its id", async () => {
    const dir = workdir();
    expect((await taskq(dir, ["submit", "--payload", '{"id":"a","type":"noop"}'])).code).toBe(0);
    const serve = startTaskq(dir, ["serve", "--name", "mailer-1", "--threads", "1"]);
    try {
      let reading: { workers: { name: string | null; owner: string }[] } = { workers: [] };
      await until(async () => {
        reading = JSON.parse((await taskq(dir, ["monitor", "--once", "--export", "json"])).stdout);
        return reading.workers.length === 1;
      }, "the worker's first report");
      expect(reading.workers[0]).toMatchObject({
        name: "mailer-1",
        owner: expect.stringMatching(/^.+:\d+:/),
      });
      expect((await taskq(dir, ["monitor", "--once"])).stdout).toMatch(
        /\n {4}mailer-1 \S+:\d+:\S+ {2}executing/,
      );
      expect((await taskq(dir, ["kinds", "list"])).stdout).toMatch(
        /^noop {2}running .* 1 live worker\(s\)$/m,
      );
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  });

  it("a kind paused (or limited) before any worker serves it is a kind the store knows: submit --strict takes it", async () => {
    const dir = workdir();
    expect((await taskq(dir, ["submit", "--payload", '{"id":"a","type":"noop"}'])).code).toBe(0);
    const refused = await taskq(dir, ["submit", "--kind", "email", "--payload", "{}", "--strict"]);
    expect(refused.code).toBe(2);
    expect((await taskq(dir, ["kinds", "pause", "email"])).code).toBe(0);
    const taken = await taskq(dir, ["submit", "--kind", "email", "--payload", "{}", "--strict"]);
    expect([taken.code, taken.stderr]).toEqual([0, ""]);
  });

  it("refuses bad input in one line", async () => {
    const name = await taskq(workdir(), ["serve", "--name", ""]);
    expect([name.code, name.stderr]).toEqual([
      2,
      'taskq: --name must be 1-100 printable characters, got ""\n',
    ]);
    const dir = workdir();
    const none = await taskq(dir, ["kinds", "pause"]);
    expect([none.code, none.stderr]).toEqual([2, "taskq: kinds pause needs a KIND\n"]);
    const bad = await taskq(dir, ["kinds", "pause", "a b"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^taskq: kind must be a short plain identifier[^\n]*\n$/);
    const action = await taskq(dir, ["kinds", "stop", "email"]);
    expect(action.code).not.toBe(0);
    expect(action.stderr.trim().split("\n").at(-1)).toMatch(/Invalid values|Choices/);
  });
});
