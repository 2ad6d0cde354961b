/** Machine-readable reasons a storage call can fail. */
export type StorageErrorCode =
  | "ERR_INVALID_KEY"
  | "ERR_INVALID_BUCKET"
  | "ERR_NOT_FOUND"
  | "ERR_INJECTED_FAULT"
  | "ERR_NO_SPACE"
  | "ERR_IO"
  | "ERR_DISPOSED";

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set(["ERR_INJECTED_FAULT", "ERR_NO_SPACE", "ERR_IO"]);

/**
 * The one error class of the object store. `retryable` says whether the same call may succeed
 * later (an injected fault, a full disk), so callers can classify it without knowing the codes.
 */
export class StorageError extends Error {
  override readonly name = "StorageError";
  readonly code: StorageErrorCode;
  readonly retryable: boolean;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = RETRYABLE.has(code);
  }
}
