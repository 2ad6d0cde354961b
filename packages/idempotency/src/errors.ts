/** Machine-readable reasons a task-store call can fail. */
export type StoreErrorCode =
  | "ERR_STALE_TRANSITION"
  | "ERR_STORE_BUSY"
  | "ERR_STORE_UNAVAILABLE"
  | "ERR_STORE_FULL"
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
 * database past the busy timeout), ERR_STORE_UNAVAILABLE (the server could not be reached for
 * longer than the driver retries) and ERR_STORE_FULL (the disk holding a SQLite store is full):
 * the same call may succeed later.
 */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  readonly code: StoreErrorCode;
  readonly retryable: boolean;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable =
      code === "ERR_STORE_BUSY" || code === "ERR_STORE_UNAVAILABLE" || code === "ERR_STORE_FULL";
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
