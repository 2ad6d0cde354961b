import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError } from "../errors.js";
import { pendingMigrations, SCHEMA_VERSION } from "../sql/migrations.js";
import { fromSqlite } from "./errors.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";

const SQLITE_MAGIC = "SQLite format 3\0";

/** Refuses, without writing a byte, a file that exists and is not a SQLite database. */
function assertSqliteFile(path: string): void {
  if (!existsSync(path)) return;
  const info = statSync(path);
  if (info.isDirectory())
    throw new StoreError("ERR_CANNOT_OPEN", `cannot open task store ${path}: it is a directory`);
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
      `task store ${path} is not a SQLite database (the file was left untouched)`,
    );
  }
}

/** Brings the schema up to date in one transaction; refuses a file written by a newer version. */
function migrate(db: Database.Database, path: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  const pending = pendingMigrations(SQLITE_MIGRATIONS, current, `task store ${path}`);
  if (pending.length === 0) return;
  // A migration may rebuild a table that others reference (007 rebuilds `tasks`): SQLite's
  // procedure for that is foreign keys off (a no-op inside a transaction, so around it) and a
  // foreign_key_check before the commit.
  db.pragma("foreign_keys = OFF");
  try {
    db.transaction(() => {
      for (const migration of pending) db.exec(migration.sql);
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length > 0)
        throw new StoreError(
          "ERR_SQLITE",
          `migrating task store ${path} would break ${broken.length} foreign key(s)`,
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
        `cannot open task store ${path}: directory ${dirname(path)} does not exist`,
      );
    }
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    if (!memory) db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    migrate(db, path);
    db.pragma("foreign_keys = ON");
    return db;
  } catch (error) {
    db?.close();
    const wrapped = fromSqlite(error, `cannot open task store ${path}`);
    if (wrapped.code === "ERR_STORE_BUSY") throw wrapped;
    if (wrapped.code === "ERR_SQLITE" || wrapped.code === "ERR_NOT_A_DATABASE") {
      throw new StoreError(wrapped.code, `${wrapped.message} (the file was left untouched)`, {
        cause: error,
      });
    }
    throw wrapped;
  }
}
