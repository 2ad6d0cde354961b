import { StoreError } from "../errors.js";

/** Maps a better-sqlite3 error to a StoreError (busy → retryable). */
export function fromSqlite(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error).message;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StoreError(
      "ERR_STORE_BUSY",
      `${what}: the database is locked by another process (${message})`,
      { cause: error },
    );
  }
  if (code === "SQLITE_FULL" || /\bENOSPC\b|database or disk is full/i.test(message)) {
    // the transaction was rolled back: nothing of it was written, nothing acknowledged is lost
    return new StoreError(
      "ERR_STORE_FULL",
      `${what}: the disk holding the task store is full; nothing of this call was stored (free space and it goes on)`,
      { cause: error },
    );
  }
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return new StoreError("ERR_NOT_A_DATABASE", `${what}: ${message}`, { cause: error });
  }
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    code.startsWith("SQLITE_READONLY") ||
    code.startsWith("SQLITE_IOERR")
  ) {
    return new StoreError("ERR_CANNOT_OPEN", `${what}: ${message}`, { cause: error });
  }
  return new StoreError("ERR_SQLITE", `${what}: ${message}`, { cause: error });
}
