import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openTaskStore, redactUrl, StoreError, storeLocationProblem } from "../src/index.js";
import { redactUrl as redactUrlOfPostgresEntry } from "../src/postgres.js";

describe("redactUrl (pg-free, on the main entry and on ./postgres)", () => {
  it.each([
    ["postgres://u:secret@h:5432/d", "postgres://u:***@h:5432/d"],
    ["postgres://u:p@ss@h/db", "postgres://u:***@h/db"],
    ["postgres://h/db?sslmode=require&password=secret", "postgres://h/db?sslmode=require&password=***"],
    ["postgress://newuser:nu-pass-123@127.0.0.1:5432/app", "postgress://newuser:***@127.0.0.1:5432/app"],
    ["postgres://taskq:secret@[bad/taskq", "postgres://taskq:***@[bad/taskq"],
    ["postgres:/u:secret@h/db", "postgres:/u:***@h/db"],
    ["postgres://u@h/db", "postgres://u@h/db"],
    ["./dir/tasks.db", "./dir/tasks.db"],
    [":memory:", ":memory:"],
  ])("%s → %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrlOfPostgresEntry(url)).toBe(shown);
  });
});

describe("store locations", () => {
  it.each([
    "postgres://u:pw@h/db",
    "postgresql://h/db",
    "POSTGRES://h/db",
    ":memory:",
    "a.db",
    "/x/y.db",
    "C://x/y.db",
  ])("%s is a store location", (location) => expect(storeLocationProblem(location)).toBeUndefined());

  it.each([
    [
      "postgress://u:secret@h:5432/db",
      /^store location: unknown scheme "postgress:\/\/" in postgress:\/\/u:\*\*\*@h:5432\/db: a store location is a postgres:\/\/ or postgresql:\/\/ URL, :memory:, or a SQLite file path$/,
    ],
    ["mysql://u:secret@h/db", /^store location: unknown scheme "mysql:\/\/" in mysql:\/\/u:\*\*\*@h\/db: /],
    ["sqlite://x.db", /^store location: unknown scheme "sqlite:\/\/" in sqlite:\/\/x\.db: /],
    ["postgres:/u:secret@h/db", /^store location: postgres:\/u:\*\*\*@h\/db is not a PostgreSQL URL/],
    ["", /^store location must be .*, got an empty string$/],
  ])("%s is refused, the password masked, nothing created", async (location, message) => {
    expect(storeLocationProblem(location)).toMatch(message);
    const dir = mkdtempSync(join(tmpdir(), "taskq-location-"));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const error = await openTaskStore(location).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: "ERR_INVALID_INPUT", message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain("secret");
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
