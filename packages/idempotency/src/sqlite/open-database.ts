import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError } from "../errors.js";
import { redactUrl } from "../redact-url.js";
import { pendingMigrations, SCHEMA_VERSION } from "../sql/migrations.js";
import { fromSqlite } from "./errors.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";

const SQLITE_MAGIC = "SQLite format 3\0";

/** Refuses, without writing a byte, a file that exists and is not a SQLite database. */
function assertSqliteFile(path: string): void {
  if (!existsSync(path)) return;
  const info = statSync(path);
  if (info.isDirectory())
    throw new StoreError("ERR_CANNOT_OPEN", `cannot open task store ${redactUrl(path)}: it is a directory`);
  if (info.size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_MAGIC) {
    throw new StoreError(
      "ERR_NOT_A_DATABASE",
      `task store ${redactUrl(path)} is not a SQLite database (the file was left untouched)`,
    );
  }
}

/** SQLite's own busy handler's pauses (sqliteDefaultBusyCallback), in ms: the last repeats. */
const BUSY_PAUSES_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Puts the file in WAL mode, waiting up to the busy timeout for the lock. The change reads page 1
 * and then upgrades that read to a write, and SQLite answers a refused upgrade SQLITE_BUSY at
 * once, without the busy handler (waiting there could deadlock): of processes opening a fresh
 * file together, most failed "database is locked" now and then (14 to 19 of 20, in 3 rounds
 * of 70, issue 38) while one of them held the lock to make the same change. So the change is tried
 * again, pausing as SQLite's busy handler does, until the pauses add up to the busy timeout; a
 * file already in WAL is left as it is without a lock.
 */
function setWal(db: Database.Database, busyTimeoutMs: number): void {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== "string" || !code.startsWith("SQLITE_BUSY") || waited >= busyTimeoutMs) throw error;
      const pause = Math.min(
        BUSY_PAUSES_MS[Math.min(attempt, BUSY_PAUSES_MS.length - 1)] as number,
        busyTimeoutMs - waited,
      );
      Atomics.wait(pauseCell, 0, 0, pause);
      waited += pause;
    }
  }
}

/** The schema version the file records (PRAGMA user_version). */
function schemaVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings the schema up to date in one transaction; refuses a file written by a newer version.
 * The version that decides what to run is read inside the transaction, after its write lock is
 * taken: of processes opening a fresh file at once, each read 0 before, waited for the lock, and
 * every one after the first ran the migrations again ("table tasks already exists", issue 38). The
 * read before the transaction only spares an up-to-date store the write lock.
 */
function migrate(db: Database.Database, path: string): void {
  const store = `task store ${redactUrl(path)}`;
  if (pendingMigrations(SQLITE_MIGRATIONS, schemaVersion(db), store).length === 0) return;
  // A migration may rebuild a table that others reference (007 rebuilds `tasks`): SQLite's
  // procedure for that is foreign keys off (a no-op inside a transaction, so around it) and a
  // foreign_key_check before the commit.
  db.pragma("foreign_keys = OFF");
  try {
    db.transaction(() => {
      // holding the write lock: what another process migrated meanwhile is seen here
      const pending = pendingMigrations(SQLITE_MIGRATIONS, schemaVersion(db), store);
      if (pending.length === 0) return;
      for (const migration of pending) db.exec(migration.sql);
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length > 0)
        throw new StoreError(
          "ERR_SQLITE",
          `migrating task store ${redactUrl(path)} would break ${broken.length} foreign key(s)`,
        );
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  } finally {
    db.pragma("foreign_keys = ON");
  }
}

/**
 * Opens (creating the file when missing; its directory must exist) a task database: checks it is SQLite before touching it, sets
 * WAL, synchronous=NORMAL, foreign keys and the busy timeout, and migrates the schema.
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  const memory = path === ":memory:";
  if (!memory) {
    assertSqliteFile(path);
    if (!existsSync(dirname(path))) {
      throw new StoreError(
        "ERR_CANNOT_OPEN",
        `cannot open task store ${redactUrl(path)}: directory ${redactUrl(dirname(path))} does not exist`,
      );
    }
  }
  let db: Database.Database | undefined;
  try {
    // the busy timeout is set first thing, before any statement (better-sqlite3 sets it on open)
    db = new Database(path, { timeout: busyTimeoutMs });
    if (!memory) setWal(db, busyTimeoutMs);
    db.pragma("synchronous = NORMAL");
    migrate(db, path);
    db.pragma("foreign_keys = ON");
    return db;
  } catch (error) {
    db?.close();
    const wrapped = fromSqlite(error, `cannot open task store ${redactUrl(path)}`);
    if (wrapped.code === "ERR_STORE_BUSY") throw wrapped;
    if (wrapped.code === "ERR_SQLITE" || wrapped.code === "ERR_NOT_A_DATABASE") {
      throw new StoreError(wrapped.code, `${wrapped.message} (the file was left untouched)`, {
        cause: error,
      });
    }
    throw wrapped;
  }
}
