import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTaskFile, parseTaskText, streamTaskFile, TaskFileError } from "../src/index.js";

describe("task files", () => {
  it("reads a JSON array; bad tasks are reported and the good ones kept", () => {
    const file = parseTaskText(
      JSON.stringify([
        { id: "a", image_key: "a.ppm", variant: "gray" },
        { id: "b", image_key: "b.ppm", variant: "sepia" },
        { id: "c", type: "noop" },
      ]),
      "tasks.json",
    );
    expect(file.tasks.map((t) => t.id)).toEqual(["a", "c"]);
    expect(file.invalid).toEqual([
      expect.objectContaining({
        position: 2,
        id: "b",
        message: expect.stringContaining('task "b" (tasks.json item 2): field "variant"'),
      }),
    ]);
  });

  it("reads JSON Lines; a line that is JSON but not a task is reported with its line number", () => {
    const file = parseTaskText(
      '{"id":"a","type":"noop"}\n\n{"id":"b","type":"teleport"}\r\n{"id":"c","type":"noop"}\n',
      "t.jsonl",
    );
    expect(file.tasks.map((t) => t.id)).toEqual(["a", "c"]);
    expect(file.invalid).toEqual([
      expect.objectContaining({
        position: 3,
        id: "b",
        raw: { id: "b", type: "teleport" },
        message: expect.stringMatching(/^task "b" \(t\.jsonl line 3\): field "type"/),
      }),
    ]);
  });

  it("a malformed JSON line refuses the whole file, as a malformed array does: line, column, reason", () => {
    const refused = (text: string) => () => parseTaskText(text, "bad.jsonl");
    const good = '{"id":"a","type":"noop"}\n';
    expect(refused(`${good}{"id":"b",\n${good}`)).toThrow(TaskFileError);
    expect(refused(`${good}{"id":"b",\n${good}`)).toThrow(
      /^bad\.jsonl line 2: malformed JSON: Expected double-quoted property name at column 11$/,
    );
    expect(refused(`${good}${good}{"id":`)).toThrow(
      /^bad\.jsonl line 3: malformed JSON: Unexpected end of JSON input$/,
    );
    expect(refused(`${good}{"id": "b" "type": "noop"}\n`)).toThrow(
      /^bad\.jsonl line 2: malformed JSON: Expected ',' or '}' after property value at column 12$/,
    );
    // V8 echoes the line, cut short with "..." when long: the echo is left out, not half of it
    expect(refused(`${good}not json at all, and a line long enough to be cut short\n`)).toThrow(
      /^bad\.jsonl line 2: malformed JSON: Unexpected token 'o'$/,
    );
    expect(refused(`${good}nope\n`)).toThrow(/^bad\.jsonl line 2: malformed JSON: Unexpected token 'o'$/);
  });

  it("a malformed JSON array is a TaskFileError with line and column", () => {
    const text = '[\n  {"id": "a", "type": "noop"},\n  {"id": "b" "type": "noop"}\n]';
    expect(() => parseTaskText(text, "bad.json")).toThrow(TaskFileError);
    expect(() => parseTaskText(text, "bad.json")).toThrow(/^bad\.json: malformed JSON at line 3, column 14/);
    expect(() => parseTaskText('[{"id": "a"', "cut.json")).toThrow(/cut\.json: malformed JSON at line 1/);
    expect(() => parseTaskText("  \n", "empty.json")).toThrow("empty.json: the task file is empty");
  });

  it("a missing file or a directory is a TaskFileError naming the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taskq-files-"));
    await expect(loadTaskFile(join(dir, "nope.json"))).rejects.toThrow(
      `cannot read task file ${join(dir, "nope.json")}: no such file`,
    );
    await expect(loadTaskFile(dir)).rejects.toThrow("it is a directory");
    await writeFile(join(dir, "ok.json"), '[{"id":"x","type":"noop"}]');
    expect((await loadTaskFile(join(dir, "ok.json"))).tasks).toHaveLength(1);
  });
});

describe("streamTaskFile", () => {
  it("yields tasks and invalid lines one at a time, with line numbers", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taskq-stream-"));
    const path = join(dir, "t.jsonl");
    await writeFile(
      path,
      '{"id":"a","type":"noop"}\n\n{"id":"b",\n{"id":"c","variant":"sepia","image_key":"x"}\r\n{"id":"d","type":"noop"}\n',
    );
    const seen: string[] = [];
    for await (const item of streamTaskFile(path)) {
      seen.push(
        "task" in item
          ? `task ${item.task.id}`
          : `invalid line ${item.invalid.position}: ${item.invalid.message}`,
      );
    }
    expect(seen).toEqual([
      "task a",
      expect.stringMatching(/^invalid line 3: .*t\.jsonl line 3: malformed JSON/),
      expect.stringMatching(/^invalid line 4: task "c" \(.*t\.jsonl line 4\): field "variant"/),
      "task d",
    ]);
  });

  it("a file that cannot be opened is a TaskFileError naming it", async () => {
    const stream = streamTaskFile("/nonexistent/t.jsonl");
    await expect(stream.next()).rejects.toThrow("cannot read task file /nonexistent/t.jsonl: no such file");
  });
});
