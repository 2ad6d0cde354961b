// The query-file parser and the `@name` compiler both drivers load their SQL with.
import { describe, expect, it } from "vitest";
import { bindNamed, compileNamed, parseQueryFile } from "../src/sql/query-file.js";

describe("query files", () => {
  it("splits statements by `-- name:` header, dropping whole-line comments", () => {
    const text = [
      "-- the file's header comment",
      "",
      "-- name: task_get",
      "SELECT * FROM tasks WHERE seq = @seq",
      "",
      "-- what the next one does",
      "-- name: task_count",
      "SELECT count(*) FROM tasks -- a trailing comment stays",
      "WHERE status = 'queued'",
    ].join("\n");
    expect(parseQueryFile(text, "q.sql")).toEqual({
      task_get: "SELECT * FROM tasks WHERE seq = @seq",
      task_count: "SELECT count(*) FROM tasks -- a trailing comment stays\nWHERE status = 'queued'",
    });
    expect(() => parseQueryFile("-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "q.sql")).toThrow(
      "q.sql: statement a is named twice",
    );
    expect(() => parseQueryFile("-- name: a\n-- name: b\nSELECT 2", "q.sql")).toThrow(
      "q.sql: statement a has no SQL",
    );
  });

  it("compiles @name to $1..$n once per name, leaving casts, literals and quoted names alone", () => {
    const compiled = compileNamed(
      `SELECT @now::bigint, '@not_a_param', "@col", @seqs::bigint[] WHERE a = @now AND b = ANY(@seqs::bigint[])`,
    );
    expect(compiled).toEqual({
      text: `SELECT $1::bigint, '@not_a_param', "@col", $2::bigint[] WHERE a = $1 AND b = ANY($2::bigint[])`,
      names: ["now", "seqs"],
    });
    expect(bindNamed(compiled, { seqs: [1, 2], now: null, extra: 1 })).toEqual([null, [1, 2]]);
    expect(() => bindNamed(compiled, { now: 1 })).toThrow("missing parameter @seqs");
  });

  it("compiles @name to one ? per use for SQLite", () => {
    expect(compileNamed("VALUES (@now, @id, @now)", "?")).toEqual({
      text: "VALUES (?, ?, ?)",
      names: ["now", "id", "now"],
    });
  });
});
