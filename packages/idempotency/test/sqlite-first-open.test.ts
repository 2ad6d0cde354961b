import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION, SqliteSyncStore } from "../src/index.js";
import { distUrl, holdWriteLock, tempDb } from "./helpers.js";

// Issue 38, fault 3: processes opening a fresh store at once each read user_version 0 before
// taking the write lock, so every one after the first ran the migrations again ("table tasks
// already exists"); and turning a fresh file to WAL failed "database is locked" at once, busy
// timeout or not, while another process held the lock.

const PROCESSES = 12;

/**
 * One process: loads the built package, says "ready", waits for a line on stdin (the barrier),
 * then opens the store, claims its own key and a shared one, and prints what happened as one
 * JSON line (an open that fails is reported, not thrown, so every failure is counted).
 */
const CHILD = `
  import { createInterface } from "node:readline";
  import { openTaskStore } from ${JSON.stringify(distUrl)};
  const [path, me] = process.argv.slice(-2);
  const lines = createInterface({ input: process.stdin });
  console.log("ready");
  await new Promise((resolve) => lines.once("line", resolve));
  lines.close();
  let answer;
  try {
    const store = await openTaskStore(path);
    const own = await store.claim({ id: "own-" + me, idempotencyKey: "own-" + me, kind: "noop", payload: {} });
    const shared = await store.claim({ id: "shared-" + me, idempotencyKey: "shared", kind: "noop", payload: {} });
    await store.close();
    answer = { ok: true, own: own.created, shared: shared.created };
  } catch (error) {
    answer = { ok: false, code: error.code, message: error.message };
  }
  console.log(JSON.stringify(answer));
`;

interface Answer {
  ok: boolean;
  own?: boolean;
  shared?: boolean;
  code?: string;
  message?: string;
}

/** Starts a child; resolves once it is ready, with a `go` that releases it and its answer. */
async function startChild(path: string, me: number) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, "--", path, String(me)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== "ready") throw new Error(`child ${me} did not start: ${String(first.value)}`);
  const answer = (async (): Promise<Answer> => {
    const line = await lines.next();
    const [code] = await exited;
    if (line.done) return { ok: false, message: `child ${me} exited ${code} without an answer` };
    return JSON.parse(line.value) as Answer;
  })();
  return { go: () => child.stdin.end("go\n"), answer };
}

describe("first opens of one fresh SQLite store at once", () => {
  it(`${PROCESSES} processes opening it together all open, and the schema is migrated once`, async () => {
    const path = tempDb();
    const children = await Promise.all(Array.from({ length: PROCESSES }, (_, me) => startChild(path, me)));
    // every process has loaded the package and waits: release them together
    for (const child of children) child.go();
    const answers = await Promise.all(children.map((child) => child.answer));

    const failed = answers.filter((answer) => !answer.ok);
    expect(failed).toEqual([]);
    expect(answers.every((answer) => answer.own === true)).toBe(true);
    expect(answers.filter((answer) => answer.shared === true)).toHaveLength(1);

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'tasks'").get(),
      ).toEqual({ n: 1 });
      expect(db.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: PROCESSES + 1 });
    } finally {
      db.close();
    }

    // the migrated store works for a later open too
    const store = new SqliteSyncStore({ path });
    try {
      expect(store.claim({ id: "after", idempotencyKey: "after", kind: "noop", payload: {} }).created).toBe(
        true,
      );
      expect(store.claim({ id: "again", idempotencyKey: "shared", kind: "noop", payload: {} }).created).toBe(
        false,
      );
    } finally {
      store.close();
    }
  });

  it("turning a fresh file to WAL waits for another process's write lock instead of failing", async () => {
    const path = tempDb();
    // a fresh file, still in rollback mode, its write (RESERVED) lock held: the change to WAL
    // reads the file and is then refused the write lock, which SQLite answers SQLITE_BUSY at once
    const lock = await holdWriteLock(path);
    // The child says "refused" (synchronously, from inside the open) when SQLite first refuses
    // the change, and the lock is let go only then: the refusal is certain to have happened.
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
        import { writeSync } from "node:fs";
        import Database from "better-sqlite3";
        import { SqliteSyncStore } from ${JSON.stringify(distUrl)};
        const pragma = Database.prototype.pragma;
        let refused = false;
        Database.prototype.pragma = function (source, options) {
          try {
            return pragma.call(this, source, options);
          } catch (error) {
            if (!refused && source === "journal_mode = WAL" && error.code === "SQLITE_BUSY") {
              refused = true;
              writeSync(1, "refused\\n");
            }
            throw error;
          }
        };
        try {
          new SqliteSyncStore({ path: ${JSON.stringify(path)}, busyTimeoutMs: 600000 }).close();
          console.log("opened");
        } catch (error) {
          console.log(error.code + " " + error.message);
        }`,
      ],
      { stdio: ["ignore", "pipe", "inherit"], cwd: new URL("..", import.meta.url).pathname },
    );
    const exited = once(child, "exit");
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      expect((await lines.next()).value).toBe("refused");
    } finally {
      lock.release();
    }
    expect((await lines.next()).value).toBe("opened");
    await exited;
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });
});
