import type { Readable } from "node:stream";

/** What a put accepts: a stream or any async iterable of byte chunks, or one buffer. */
export type ObjectBody = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and, for a put, leaves no object and no temporary file). */
  readonly signal?: AbortSignal;
}

/** What a successful put reports. */
export interface PutResult {
  /** MD5 of the content, hex, computed while streaming. */
  readonly etag: string;
  /** Bytes written. */
  readonly size: number;
}

/** One object's metadata. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

/**
 * The MinIO-like driver interface every backend implements. Reads and writes move in chunks;
 * a put is atomic (a reader sees the old object or the whole new one, never part of it).
 */
export interface ObjectStore {
  putObject(bucket: string, key: string, body: ObjectBody, options?: CallOptions): Promise<PutResult>;
  /** A stream of the object's bytes in chunks of the store's chunk size. */
  getObject(bucket: string, key: string, options?: CallOptions): Promise<Readable>;
  statObject(bucket: string, key: string, options?: CallOptions): Promise<ObjectInfo>;
  /** Every object of the bucket whose key starts with `prefix`, in key order. */
  listObjects(bucket: string, prefix?: string, options?: CallOptions): Promise<ObjectInfo[]>;
  /** Removes the object; removing a missing object is not an error (as in S3). */
  removeObject(bucket: string, key: string, options?: CallOptions): Promise<void>;
  /** Releases what the store holds. Calls after dispose fail with ERR_DISPOSED. */
  dispose(): Promise<void>;
}

/** Turns any accepted body into an async iterable of chunks. */
export function toChunks(body: ObjectBody): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  return body instanceof Uint8Array ? [body] : body;
}

/** Default size of the chunks reads are cut into, in bytes. */
export const DEFAULT_CHUNK_SIZE = 65_536;

/** Validates a `chunkSize` option (a positive integer), naming it in the error. */
export function checkChunkSize(value: number | undefined): number {
  const chunkSize = value ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a positive integer, got ${value}`);
  return chunkSize;
}
