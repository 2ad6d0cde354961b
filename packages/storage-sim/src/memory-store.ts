import { createHash } from "node:crypto";
import { addAbortSignal, Readable } from "node:stream";
import { StorageError } from "./errors.js";
import { assertValidBucket, assertValidKey } from "./keys.js";
import {
  type CallOptions,
  checkChunkSize,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutResult,
  toChunks,
} from "./object-store.js";

interface StoredObject {
  readonly chunks: readonly Buffer[];
  readonly info: ObjectInfo;
}

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /**
   * Size of the chunks reads are cut into, in bytes.
   * @default 65536
   */
  readonly chunkSize?: number;
}

/**
 * An object store held in memory: same contract as the local-directory store (it passes the
 * same driver test suite), for tests and for runs where disk I/O is not the subject.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly chunkSize: number;
  readonly #objects = new Map<string, StoredObject>();
  #disposed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.chunkSize = checkChunkSize(options.chunkSize);
  }

  #path(bucket: string, key: string, signal?: AbortSignal): string {
    if (this.#disposed) throw new StorageError("ERR_DISPOSED", "the object store was disposed");
    signal?.throwIfAborted();
    assertValidBucket(bucket);
    assertValidKey(key);
    return `${bucket}/${key}`;
  }

  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: CallOptions = {},
  ): Promise<PutResult> {
    const path = this.#path(bucket, key, options.signal);
    const hash = createHash("md5");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of toChunks(body)) {
      options.signal?.throwIfAborted();
      hash.update(chunk);
      chunks.push(Buffer.from(chunk));
      size += chunk.byteLength;
    }
    const etag = hash.digest("hex");
    this.#objects.set(path, { chunks, info: { key, size, etag, lastModified: new Date() } });
    return { etag, size };
  }

  #get(bucket: string, key: string, signal?: AbortSignal): StoredObject {
    const object = this.#objects.get(this.#path(bucket, key, signal));
    if (!object) throw new StorageError("ERR_NOT_FOUND", `get ${bucket}/${key}: no such object`);
    return object;
  }

  async getObject(bucket: string, key: string, options: CallOptions = {}): Promise<Readable> {
    const { chunks } = this.#get(bucket, key, options.signal);
    const chunkSize = this.chunkSize;
    function* slices(): Generator<Buffer> {
      for (const chunk of chunks) {
        for (let offset = 0; offset < chunk.byteLength; offset += chunkSize)
          yield chunk.subarray(offset, offset + chunkSize);
      }
    }
    const stream = Readable.from(slices(), { objectMode: false, highWaterMark: chunkSize });
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async statObject(bucket: string, key: string, options: CallOptions = {}): Promise<ObjectInfo> {
    return this.#get(bucket, key, options.signal).info;
  }

  async listObjects(bucket: string, prefix = "", options: CallOptions = {}): Promise<ObjectInfo[]> {
    if (this.#disposed) throw new StorageError("ERR_DISPOSED", "the object store was disposed");
    options.signal?.throwIfAborted();
    assertValidBucket(bucket);
    const start = `${bucket}/${prefix}`;
    return [...this.#objects.entries()]
      .filter(([path]) => path.startsWith(start))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object.info);
  }

  async removeObject(bucket: string, key: string, options: CallOptions = {}): Promise<void> {
    this.#objects.delete(this.#path(bucket, key, options.signal));
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#objects.clear();
  }
}
