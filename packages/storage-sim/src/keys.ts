import { StorageError } from "./errors.js";

/** Longest key accepted, in UTF-8 bytes (S3's limit). */
export const MAX_KEY_BYTES = 1024;

const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Shortens a key for an error message so a 1 MB key does not become a 1 MB message. */
export function describeKey(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
}

function invalidKey(key: string, why: string): never {
  throw new StorageError("ERR_INVALID_KEY", `invalid object key ${describeKey(key)}: ${why}`);
}

/**
 * Checks that a key names a place inside its bucket: a relative, '/'-separated path with no
 * empty, `.` or `..` segment, no NUL and no backslash. Throws a StorageError naming the reason.
 */
export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== "string") {
    throw new StorageError("ERR_INVALID_KEY", `invalid object key: expected a string, got ${typeof key}`);
  }
  if (key.length === 0) invalidKey(key, "it is empty");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) invalidKey(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (key.includes("\0")) invalidKey(key, "contains a NUL byte");
  if (key.includes("\\")) invalidKey(key, "contains a backslash");
  if (key.startsWith("/")) invalidKey(key, "is an absolute path");
  for (const segment of key.split("/")) {
    if (segment === "..") invalidKey(key, 'contains a ".." segment');
    if (segment === "." || segment === "") invalidKey(key, "contains an empty or '.' segment");
  }
}

/** Bucket names: lower-case letters, digits, `.`, `_`, `-`; 1–63 characters, not starting with a dot. */
export function assertValidBucket(bucket: unknown): asserts bucket is string {
  if (typeof bucket !== "string" || !BUCKET_RE.test(bucket)) {
    throw new StorageError(
      "ERR_INVALID_BUCKET",
      `invalid bucket name ${JSON.stringify(bucket)}: use 1-63 of a-z 0-9 . _ - (not starting with . _ -)`,
    );
  }
}
