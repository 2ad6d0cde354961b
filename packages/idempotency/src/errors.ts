/** Machine-readable reasons a task-store call can fail. */
export type StoreErrorCode =
  | "ERR_STALE_TRANSITION"
  | "ERR_STORE_BUSY"
  | "ERR_STORE_UNAVAILABLE"
  | "ERR_NOT_A_DATABASE"
  | "ERR_CANNOT_OPEN"
  | "ERR_SCHEMA_TOO_NEW"
  | "ERR_INVALID_INPUT"
  | "ERR_NOT_FOUND"
  | "ERR_CLOSED"
  | "ERR_SQLITE"
  | "ERR_POSTGRES";

/**
 * The task store's error. `retryable` is true only for ERR_STORE_BUSY (another process held the
 * database past the busy timeout) and ERR_STORE_UNAVAILABLE (the server could not be reached
 * for longer than the driver retries): the same call may succeed later.
 */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: StoreErrorCode;
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = code === "ERR_STORE_BUSY" || code === "ERR_STORE_UNAVAILABLE";
  }
}

/** A transition whose expected version or status no longer holds: refused, nothing written. */
export class StaleTransitionError extends StoreError {
  override readonly name = "StaleTransitionError";
  readonly seq: number;
  readonly expectedVersion: number;

  constructor(what: string, seq: number, expectedVersion: number) {
    super(
      "ERR_STALE_TRANSITION",
      `refused stale transition ${what} of task #${seq}: it is no longer at version ${expectedVersion} in the expected state`,
    );
    this.seq = seq;
    this.expectedVersion = expectedVersion;
  }
}

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
