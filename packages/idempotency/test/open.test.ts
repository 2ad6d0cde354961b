import { readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, SQLITE_MIGRATIONS, SqliteSyncStore, type StoreError } from "../src/index.js";
import { distUrl, holdWriteLock, runNode, tempDb } from "./helpers.js";

const open: SqliteSyncStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function openError(path: string): StoreError {
  try {
    open.push(new SqliteSyncStore({ path }));
  } catch (error) {
    return error as StoreError;
  }
  throw new Error("expected the store to refuse to open");
}

describe("opening a task store", () => {
  it("sets WAL, synchronous=NORMAL, foreign keys and the latest schema", () => {
    const path = tempDb();
    open.push(new SqliteSyncStore({ path }));
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("upgrades a version-1 file and keeps its rows", () => {
    const path = tempDb();
    const db = new Database(path);
    db.exec(SQLITE_MIGRATIONS[0]?.sql as string);
    db.pragma("user_version = 1");
    db.prepare(
      "INSERT INTO tasks (id, idempotency_key, type, payload, status, max_attempts, created_at, updated_at) VALUES ('old', 'k#thumb', 'image', '{}', 'queued', 3, 1, 1)",
    ).run();
    db.close();
    const store = new SqliteSyncStore({ path });
    open.push(store);
    expect(store.getByKey("image", "k#thumb")).toMatchObject({
      id: "old",
      status: "queued",
      nextRunAt: 0,
      leaseOwner: null,
    });
    expect(store.takeNext(1)[0]?.id).toBe("old");
  });

  it("refuses a file from a newer version and leaves it as it was", () => {
    const path = tempDb();
    open.push(new SqliteSyncStore({ path }));
    open.pop()?.close();
    const db = new Database(path);
    db.pragma("user_version = 99");
    db.close();
    const before = readFileSync(path);
    const error = openError(path);
    expect(error).toMatchObject({ code: "ERR_SCHEMA_TOO_NEW" });
    expect(error.message).toContain(
      `task store ${path} has schema version 99, newer than this taskq understands (${SCHEMA_VERSION})`,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses a file that is not SQLite, naming it, and does not touch it", () => {
    const path = tempDb();
    writeFileSync(path, "this is a task list, not a database\n".repeat(100));
    const before = readFileSync(path);
    const error = openError(path);
    expect(error).toMatchObject({
      code: "ERR_NOT_A_DATABASE",
      message: `task store ${path} is not a SQLite database (the file was left untouched)`,
    });
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses a directory and an unwritable location with a clear error", () => {
    const dir = tempDb().replace(/tasks\.db$/, "");
    expect(openError(dir)).toMatchObject({
      code: "ERR_CANNOT_OPEN",
      message: expect.stringContaining("it is a directory"),
    });
    expect(openError("/proc/taskq-test/tasks.db")).toMatchObject({
      code: "ERR_CANNOT_OPEN",
      message: "cannot open task store /proc/taskq-test/tasks.db: directory /proc/taskq-test does not exist",
    });
    // /proc is read-only even for root, so this holds however the tests run.
    expect(openError("/proc/tasks.db")).toMatchObject({
      code: "ERR_CANNOT_OPEN",
      message: expect.stringContaining("cannot open task store /proc/tasks.db"),
    });
  });

  it("a database locked by another process past the busy timeout is a retryable ERR_STORE_BUSY", async () => {
    const path = tempDb();
    const store = new SqliteSyncStore({ path, busyTimeoutMs: 50 });
    open.push(store);
    const lock = await holdWriteLock(path);
    try {
      let error: unknown;
      try {
        store.claim({ id: "a", idempotencyKey: "a", kind: "noop", payload: {} });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "ERR_STORE_BUSY", retryable: true });
    } finally {
      lock.release();
    }
  });
});

describe("two processes on one file", () => {
  it("claiming the same 500 keys at once: each key is won exactly once", async () => {
    const path = tempDb();
    open.push(new SqliteSyncStore({ path }));
    const script = `
      import { SqliteSyncStore } from ${JSON.stringify(distUrl)};
      const store = new SqliteSyncStore({ path: ${JSON.stringify(path)}, busyTimeoutMs: 10000 });
      const won = [];
      for (let n = 0; n < 500; n++) {
        const r = store.claim({ id: "t" + n, idempotencyKey: "key-" + n, kind: "noop", payload: { n } });
        if (r.created) won.push(n);
      }
      store.close();
      console.log(JSON.stringify(won));`;
    const [a, b] = await Promise.all([runNode(script), runNode(script)]);
    const wonA: number[] = JSON.parse(a);
    const wonB: number[] = JSON.parse(b);
    expect(wonA.length + wonB.length).toBe(500);
    expect(new Set([...wonA, ...wonB]).size).toBe(500);
  });
});
