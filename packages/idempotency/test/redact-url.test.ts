// redactUrl and redactLocationIn over what a user can type (issue 37): a password holding `/`, `?`,
// `#`, `@` or `:`, digits first (`host:2024` to a URL parser), percent-encoded, in a query
// parameter; URLs that do not parse; file paths, which stay as they are.
import { describe, expect, it } from "vitest";
import { redactLocationIn, redactUrl } from "../src/index.js";
import { fromPg, redactUrl as redactUrlOfPostgresEntry } from "../src/postgres.js";

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

/** Each form below holds this (or a piece of it, split at its `/`): none may be shown. */
const SECRET = "Qv7Secret";

describe("redactUrl over malformed and unusual locations", () => {
  it.each([
    // digits first and an unencoded /, ? or #: a parser reads `taskq:2024` as a host and a port
    [`postgres://taskq:2024/${SECRET}@host:5432/db`, "postgres://taskq:***@host:5432/db"],
    [`postgres://taskq:2024?${SECRET}@host:5432/db`, "postgres://taskq:***@host:5432/db"],
    [`postgres://taskq:2024#${SECRET}@host:5432/db`, "postgres://taskq:***@host:5432/db"],
    [`postgresql://taskq:2024/${SECRET}@host:5432/db`, "postgresql://taskq:***@host:5432/db"],
    [`POSTGRES://taskq:2024/${SECRET}@host/db`, "POSTGRES://taskq:***@host/db"],
    // @ and : in the password, a backslash, a space, a second ://
    [`postgres://u:a@b:c/${SECRET}@host/db`, "postgres://u:***@host/db"],
    [`postgres://u:${SECRET}:x@host/db`, "postgres://u:***@host/db"],
    [`postgres://u:a\\${SECRET}@host/db`, "postgres://u:***@host/db"],
    [`postgres://u:my ${SECRET}@host/db`, "postgres://u:***@host/db"],
    [`postgres://u:x://${SECRET}@host/db`, "postgres://u:***@host/db"],
    // percent-encoded, well-formed or not
    [`postgres://u:${SECRET}%2F%40x@host/db`, "postgres://u:***@host/db"],
    [`postgres://u:${SECRET}%zz@host/db`, "postgres://u:***@host/db"],
    [`postgres://us%40er:${SECRET}@host/db`, "postgres://us%40er:***@host/db"],
    // an IPv6 host, a socket directory as the host or in the query
    [`postgres://u:${SECRET}@[::1]:5432/db`, "postgres://u:***@[::1]:5432/db"],
    [`postgres://u:${SECRET}@%2Fvar%2Frun%2Fpostgresql/db`, "postgres://u:***@%2Fvar%2Frun%2Fpostgresql/db"],
    [
      `postgres:///db?host=/var/run/postgresql&password=${SECRET}`,
      "postgres:///db?host=/var/run/postgresql&password=***",
    ],
    // an empty password, and none
    ["postgres://u:@host/db", "postgres://u:***@host/db"],
    ["postgresql://u@host:5432/db?sslmode=require", "postgresql://u@host:5432/db?sslmode=require"],
    ["postgres://host/db", "postgres://host/db"],
    // no user to tell apart from the password: all of it masked
    [`postgres://2024/${SECRET}@host/db`, "postgres://***@host/db"],
    [`postgres://h/db?user=x:${SECRET}@host/db`, "postgres://***@host/db"],
    // query parameters that hold a secret, as typed, whatever their case
    [`postgres://u@host/db?password=${SECRET}`, "postgres://u@host/db?password=***"],
    [
      `postgres://u@host/db?sslmode=require&sslpassword=${SECRET}&x=1`,
      "postgres://u@host/db?sslmode=require&sslpassword=***&x=1",
    ],
    [`postgres://u@host/db?PASSWORD=${SECRET}%26x`, "postgres://u@host/db?PASSWORD=***"],
    [`postgres://u@host/db?password=${SECRET}#x`, "postgres://u@host/db?password=***"],
    [`postgres://u:${SECRET}@host/db?password=${SECRET}`, "postgres://u:***@host/db?password=***"],
    // no authority: a scheme without //, user:password@host alone, a leading space
    [`postgres:taskq:2024/${SECRET}@host/db`, "postgres:taskq:***@host/db"],
    [`taskq:2024/${SECRET}@host/db`, "taskq:***@host/db"],
    [` postgres://taskq:2024/${SECRET}@host/db`, " postgres://taskq:***@host/db"],
    [`'postgres://taskq:2024/${SECRET}@host/db'`, "'postgres:***@host/db'"],
    [`postgres//taskq:2024/${SECRET}@host/db`, "postgres//taskq:***@host/db"],
    // other schemes, refused by name and still masked
    [`mysql://root:2024/${SECRET}@db/app`, "mysql://root:***@db/app"],
    [`http://u:2024/${SECRET}@h/`, "http://u:***@h/"],
    // one line: a control character is shown escaped
    [`postgres://u:${SECRET}@host/db\nsecond`, "postgres://u:***@host/db\\nsecond"],
  ])("%s → %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toContain(SECRET.slice(3));
  });

  it.each([
    "./dir/tasks.db",
    "/var/lib/taskq/tasks.db",
    "tasks.db",
    "C:\\taskq\\tasks.db",
    "C://taskq/tasks.db",
    "/home/me@corp/tasks.db",
    "./a b/tasks (2).db",
    ":memory:",
  ])("the file path %s stays as it is", (path) => expect(redactUrl(path)).toBe(path));
});

describe("redactLocationIn: a message about a location, without its password", () => {
  it("replaces the location as typed by its redacted form", () => {
    const url = `postgres://taskq:2024/${SECRET}@host:5432/db`;
    expect(redactLocationIn(`cannot reach ${url}: refused`, url)).toBe(
      "cannot reach postgres://taskq:***@host:5432/db: refused",
    );
  });

  it("masks what a driver made of a malformed URL: its password's pieces in a database or host name", () => {
    const url = `postgres://taskq:2024/${SECRET}@host:5432/db`;
    // pg reads the host taskq, the port 2024 and the database `Qv7Secret@host:5432/db`
    expect(redactLocationIn(`database "${SECRET}@host:5432/db" does not exist`, url)).toBe(
      'database "***@host:5432/db" does not exist',
    );
    expect(redactLocationIn(`connect ECONNREFUSED taskq:2024`, url)).toBe("connect ECONNREFUSED taskq:***");
    const query = `postgres://u:1?sslkey=${SECRET}%2Fkey@host/db`;
    expect(
      redactLocationIn(`ENOENT: no such file or directory, open '${SECRET}/key@host/db'`, query),
    ).not.toContain(SECRET);
  });

  it("masks a well-formed URL's password whole, decoded too, and leaves other words", () => {
    const url = `postgres://u:${SECRET}%21@host/db`;
    expect(redactLocationIn(`a ${SECRET}! b ${SECRET}%21 c`, url)).toBe("a *** b *** c");
    expect(redactLocationIn('password authentication failed for user "u"', url)).toBe(
      'password authentication failed for user "u"',
    );
    expect(redactLocationIn("anything", "")).toBe("anything");
  });

  it("is what fromPg keeps of pg's and the server's messages, beside the masked location", () => {
    const url = `postgres://taskq:2024/${SECRET}@host:5432/db`;
    const missing = fromPg(
      { code: "3D000", message: `database "${SECRET}@host:5432/db" does not exist` },
      "cannot open task store",
      url,
    );
    expect(missing.message).toBe(
      'cannot open task store: PostgreSQL at postgres://taskq:***@host:5432/db: database "***@host:5432/db" does not exist',
    );
    const other = fromPg(new Error(`ENOENT: no such file or directory, open '${SECRET}'`), "open", url);
    expect(other.message).toBe("open: ENOENT: no such file or directory, open '***'");
  });
});
