import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openTaskStore, StoreError, storeLocationProblem } from "../src/index.js";

describe("store locations", () => {
  it.each([
    "postgres://u:pw@h/db",
    "postgresql://h/db",
    "POSTGRES://h/db",
    ":memory:",
    "a.db",
    "/x/y.db",
    "C://x/y.db",
    "postgres://u:p%2F%3F%23%40w@h:5432/db?sslmode=require",
    "postgres://u:pw@[::1]:5432/db",
    "postgres:///db?host=/var/run/postgresql",
    "./my tasks/a b.db",
  ])("%s is a store location", (location) => expect(storeLocationProblem(location)).toBeUndefined());

  it.each([
    [
      "postgress://u:secret@h:5432/db",
      /^store location: unknown scheme "postgress:\/\/" in postgress:\/\/u:\*\*\*@h:5432\/db: a store location is a postgres:\/\/ or postgresql:\/\/ URL, :memory:, or a SQLite file path$/,
    ],
    ["mysql://u:secret@h/db", /^store location: unknown scheme "mysql:\/\/" in mysql:\/\/u:\*\*\*@h\/db: /],
    ["sqlite://x.db", /^store location: unknown scheme "sqlite:\/\/" in sqlite:\/\/x\.db: /],
    ["postgres:/u:secret@h/db", /^store location: postgres:\/u:\*\*\*@h\/db is not a PostgreSQL URL/],
    ["postgres//u:secret@h/db", /^store location: postgres\/\/u:\*\*\*@h\/db is not a PostgreSQL URL/],
    // a password with an unencoded /, ? or # (issue 37): pg would read `taskq:2024` as a host and a port
    [
      "postgres://taskq:2024/secret@h:5432/db",
      /^store location: postgres:\/\/taskq:\*\*\*@h:5432\/db has an @ after a \/, \? or #: write them percent-encoded in a user name or password \(\/ as %2F, \? as %3F, # as %23, @ as %40\), and an @ elsewhere as %40$/,
    ],
    [
      "postgresql://taskq:2024?secret@h/db",
      /^store location: postgresql:\/\/taskq:\*\*\*@h\/db has an @ after/,
    ],
    ["postgres://u:a#secret@b@h/db", /^store location: postgres:\/\/u:\*\*\*@h\/db has an @ after/],
    // a space or a control character: taken as a path, it would have made directories named after it
    [
      " postgres://u:secret@h/db",
      /^store location: " postgres:\/\/u:\*\*\*@h\/db" starts or ends with a space/,
    ],
    [
      "postgres://u:secret@h/db\n",
      /^store location: "postgres:\/\/u:\*\*\*@h\/db\\n" starts or ends with a space or holds a control character: /,
    ],
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

  it("a file path holding user:password@ (a URL missing its colon) is shown masked in a SQLite error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskq-location-"));
    const missing = (await openTaskStore(`${dir}/postgres//u:secret@h/db`, { create: false }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(missing.message).toMatch(/^no task store at .*\/postgres\/\/u:\*\*\*@h\/db \(nothing was run/);
    const noDirectory = (await openTaskStore(`${dir}/postgres//u:secret@h/db`).catch(
      (e: unknown) => e,
    )) as Error;
    expect(noDirectory.message).toMatch(
      /^cannot open task store .*\/postgres\/\/u:\*\*\*@h\/db: directory .*\/postgres\/\/u:\*\*\*@h does not exist$/,
    );
    for (const error of [missing, noDirectory]) expect(error.message).not.toContain("secret");
  });
});
