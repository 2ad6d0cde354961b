// The placeholders a query file's statements are completed with when it is parsed: `-- fragment:`
// blocks (SQL several statements share, such as PostgreSQL's one task insert) and `:rank_at` (the
// queue rank, one formula for both dialects); and `:schema.`, which the PostgreSQL statements keep
// for the driver to fill in.
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { PRIORITY_AGING_MS } from "../src/defaults.js";
import { PG_QUERIES, pgQueryIn } from "../src/postgres/queries.js";
import { parseQueryFile } from "../src/sql/query-file.js";
import { rankAtSql } from "../src/sql/rank.js";
import { SQLITE_QUERIES } from "../src/sqlite/queries.js";

describe("query file placeholders", () => {
  it("puts a fragment where a statement names it, leaving literals, casts and other placeholders", () => {
    const text = [
      "-- the rows of `picked`",
      "-- fragment: pick",
      "SELECT seq FROM tasks WHERE kind = @kind",
      "-- name: task_a",
      "WITH picked AS (:pick) SELECT ':pick', x::text FROM :schema.tasks, picked",
      "-- name: task_b",
      'SELECT * FROM (:pick) p WHERE ":pick" = 1',
    ].join("\n");
    expect(parseQueryFile(text, "q.sql")).toEqual({
      task_a:
        "WITH picked AS (SELECT seq FROM tasks WHERE kind = @kind) SELECT ':pick', x::text FROM :schema.tasks, picked",
      task_b: 'SELECT * FROM (SELECT seq FROM tasks WHERE kind = @kind) p WHERE ":pick" = 1',
    });
  });

  it("fills in the fragments a fragment uses; refuses one that uses itself", () => {
    const text = [
      "-- fragment: ready",
      "SELECT seq FROM task_ready",
      "-- fragment: turn",
      "WITH r AS (:ready)",
      "-- name: plain",
      ":turn SELECT 1",
      "-- name: more",
      ":turn, x AS (:ready) SELECT 2",
    ].join("\n");
    expect(parseQueryFile(text, "q.sql")).toEqual({
      plain: "WITH r AS (SELECT seq FROM task_ready) SELECT 1",
      more: "WITH r AS (SELECT seq FROM task_ready), x AS (SELECT seq FROM task_ready) SELECT 2",
    });
    const loop = "-- fragment: a\nSELECT :b\n-- fragment: b\nSELECT :a\n-- name: s\n:a";
    expect(() => parseQueryFile(loop, "q.sql")).toThrow("q.sql: fragment a uses itself (a -> b -> a)");
  });

  it("refuses a fragment no statement uses, and a name given to a statement and a fragment", () => {
    expect(() => parseQueryFile("-- fragment: f\nSELECT 1\n-- name: a\nSELECT 2", "q.sql")).toThrow(
      "q.sql: fragment f is used by no statement",
    );
    expect(() => parseQueryFile("-- fragment: a\nSELECT 1\n-- name: a\nSELECT :a", "q.sql")).toThrow(
      "q.sql: statement a is named twice",
    );
    expect(() => parseQueryFile("-- fragment: f\n-- name: a\nSELECT :f", "q.sql")).toThrow(
      "q.sql: fragment f has no SQL",
    );
  });

  it("writes :rank_at(run time, priority) as the one rank formula; refuses one it cannot read", () => {
    expect(parseQueryFile("-- name: a\nSELECT :rank_at(@next_run_at, t.priority)", "q.sql")).toEqual({
      a: `SELECT ${rankAtSql("@next_run_at", "t.priority")}`,
    });
    expect(() => parseQueryFile("-- name: a\nSELECT :rank_at(f(x), 1)", "q.sql")).toThrow(
      "q.sql: statement a: write :rank_at(<run time>, <priority>)",
    );
  });

  it("the rank is the run time less priority × PRIORITY_AGING_MS, in 64-bit integers", () => {
    const db = new Database(":memory:");
    try {
      const rank = db.prepare(`SELECT ${rankAtSql("?", "?")} AS r`);
      for (const [runAt, priority] of [
        [1_700_000_000_000, 0],
        [1_700_000_000_000, 3],
        [5, -2],
        [1_700_000_000_000, 2 ** 31 - 1],
        [0, -(2 ** 31 - 1)],
      ] as const)
        expect((rank.get(runAt, priority) as { r: number }).r).toBe(runAt - priority * PRIORITY_AGING_MS);
    } finally {
      db.close();
    }
  });

  it("leaves no placeholder of the parse in either dialect's statements", () => {
    for (const statement of [...Object.values(SQLITE_QUERIES), ...Object.values(PG_QUERIES)]) {
      expect(statement.text).not.toMatch(/:rank_at|:insert_tasks|aging_ms/);
      expect(statement.text).not.toContain(":schema.");
    }
    // the insert of new tasks is the one fragment of the PostgreSQL statements that insert (the
    // turn with and without its breaker part)
    const inserts = ["task_turn", "task_turn_breakers", "task_claim_with", "schedule_fire"] as const;
    for (const name of inserts)
      expect(PG_QUERIES[name].text).toContain("INSERT INTO tasks (seq, id, idempotency_key");
    expect(Object.values(PG_QUERIES).filter((s) => s.text.includes("INSERT INTO tasks")).length).toBe(
      inserts.length,
    );
  });

  it("PostgreSQL: `:schema.` is the store's quoted schema for the application's connection", () => {
    const claim = pgQueryIn("app_store", "task_claim_with");
    expect(claim.text).toContain('INSERT INTO "app_store".tasks (');
    expect(claim.text).toContain(`nextval('"app_store".tasks_seq_seq'::regclass)`);
    expect(claim.names).toEqual(PG_QUERIES.task_claim_with.names);
    expect(pgQueryIn("app_store", "task_list_by_keys").text).toContain('FROM "app_store".tasks t');
  });
});
