import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, realpath, rm, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { ensureDirectory } from "./ensure-directory.js";
import { StorageError } from "./errors.js";
import { type FileIo, type FileIoMode, fileIo } from "./file-io.js";
import { assertValidBucket, assertValidKey, describeKey } from "./keys.js";
import {
  type CallOptions,
  checkChunkSize,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutResult,
  toChunks,
} from "./object-store.js";

/** Options of the local-directory store. */
export interface FsStoreOptions {
  /** Directory that holds every bucket; created when missing. */
  readonly root: string;
  /**
   * Size of the chunks reads are cut into, in bytes.
   * @default 65536
   */
  readonly chunkSize?: number;
  /**
   * fsync each object before it is renamed into place (survives power loss, not only process death).
   * @default false
   */
  readonly durable?: boolean;
  /**
   * How files are read and written: `async` through libuv's thread pool, or `sync` with
   * blocking calls, one chunk per call (cheapest for small objects; for worker threads).
   * @default "async"
   */
  readonly io?: FileIoMode;
}

const TMP_DIR = ".tmp";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ioError(error: unknown, what: string): StorageError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new StorageError("ERR_NOT_FOUND", `${what}: no such object`, { cause: error });
  if (code === "ENOSPC")
    return new StorageError("ERR_NO_SPACE", `${what}: no space left on device`, { cause: error });
  if (error instanceof StorageError) return error;
  return new StorageError("ERR_IO", `${what}: ${(error as Error).message}`, { cause: error });
}

/**
 * An object store over a local directory: `root/<bucket>/<key>`. A put streams into
 * `root/.tmp/<pid>-<uuid>` while hashing, then renames into place, so a crash never leaves a
 * half-written object; leftovers of dead processes are swept when a store opens.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;
  readonly chunkSize: number;
  readonly durable: boolean;
  readonly io: FileIoMode;
  readonly #files: FileIo;
  #realRoot: string;
  #disposed = false;
  readonly #etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();
  /** Directories this store created or checked, confined to the root (saves two syscalls a put). */
  readonly #knownDirs = new Set<string>();

  private constructor(root: string, realRoot: string, chunkSize: number, durable: boolean, io: FileIoMode) {
    this.root = root;
    this.#realRoot = realRoot;
    this.chunkSize = chunkSize;
    this.durable = durable;
    this.io = io;
    this.#files = fileIo(io);
  }

  /** Opens (creating when missing) the store at `options.root` and sweeps dead temporary files. */
  static async open(options: FsStoreOptions): Promise<FsObjectStore> {
    const chunkSize = checkChunkSize(options.chunkSize);
    if (typeof options.root !== "string" || options.root.length === 0) {
      throw new TypeError("root must be a non-empty directory path");
    }
    const io = options.io ?? "async";
    if (io !== "async" && io !== "sync")
      throw new TypeError(`io must be "async" or "sync", got ${String(io)}`);
    try {
      await ensureDirectory(join(options.root, TMP_DIR));
    } catch (error) {
      throw new StorageError(
        "ERR_IO",
        `cannot open object store ${options.root}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const store = new FsObjectStore(
      options.root,
      await realpath(options.root),
      chunkSize,
      options.durable ?? false,
      io,
    );
    await store.sweepTemporaryFiles();
    return store;
  }

  /**
   * Removes temporary files whose writing process is gone; returns how many. With
   * `includeThisProcess`, also this process's own: for a caller that knows none of its writers
   * is still running (after its worker threads were stopped).
   */
  async sweepTemporaryFiles(options: { includeThisProcess?: boolean } = {}): Promise<number> {
    let removed = 0;
    for (const name of await readdir(join(this.root, TMP_DIR))) {
      const pid = Number.parseInt(name.split("-")[0] ?? "", 10);
      if (pid === process.pid ? !options.includeThisProcess : Number.isInteger(pid) && isAlive(pid)) continue;
      await rm(join(this.root, TMP_DIR, name), { force: true });
      removed++;
    }
    return removed;
  }

  /** Temporary files currently present (tests and the crash checks use it). */
  async temporaryFiles(): Promise<string[]> {
    return readdir(join(this.root, TMP_DIR));
  }

  #check(bucket: string, key: string, signal?: AbortSignal): string {
    if (this.#disposed) throw new StorageError("ERR_DISPOSED", "the object store was disposed");
    signal?.throwIfAborted();
    assertValidBucket(bucket);
    assertValidKey(key);
    return join(this.#realRoot, bucket, key);
  }

  /** Throws unless `path` (after resolving symlinks) stays inside the root. */
  async #confine(path: string, key: string): Promise<void> {
    const real = await this.#files.realpath(path);
    const rel = relative(this.#realRoot, real);
    if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || rel.startsWith(sep)) {
      throw new StorageError(
        "ERR_INVALID_KEY",
        `invalid object key ${describeKey(key)}: resolves outside the store root`,
      );
    }
  }

  async putObject(
    bucket: string,
    key: string,
    body: ObjectBody,
    options: CallOptions = {},
  ): Promise<PutResult> {
    const target = this.#check(bucket, key, options.signal);
    const what = `put ${bucket}/${key}`;
    const dir = dirname(target);
    if (!this.#knownDirs.has(dir)) {
      try {
        await ensureDirectory(dir);
        await this.#confine(dir, key);
      } catch (error) {
        throw ioError(error, what);
      }
      this.#knownDirs.add(dir);
    }
    const tmp = join(this.root, TMP_DIR, `${process.pid}-${randomUUID()}`);
    const hash = createHash("md5");
    let size = 0;
    const file = await this.#files.create(tmp).catch((error: unknown) => {
      throw ioError(error, what);
    });
    try {
      for await (const chunk of toChunks(body)) {
        options.signal?.throwIfAborted();
        hash.update(chunk);
        size += chunk.byteLength;
        await file.write(chunk);
      }
      if (this.durable) await file.sync();
      await file.close();
      await this.#files.rename(tmp, target);
    } catch (error) {
      await file.close().catch(() => undefined);
      await this.#files.remove(tmp);
      if (options.signal?.aborted && error === options.signal.reason) throw error;
      throw ioError(error, what);
    }
    return { etag: hash.digest("hex"), size };
  }

  async getObject(bucket: string, key: string, options: CallOptions = {}): Promise<Readable> {
    const path = this.#check(bucket, key, options.signal);
    try {
      await this.#confine(path, key);
      return await this.#files.read(path, this.chunkSize, options.signal);
    } catch (error) {
      throw ioError(error, `get ${bucket}/${key}`);
    }
  }

  async statObject(bucket: string, key: string, options: CallOptions = {}): Promise<ObjectInfo> {
    const path = this.#check(bucket, key, options.signal);
    try {
      await this.#confine(path, key);
      const info = await stat(path);
      if (!info.isFile()) throw new StorageError("ERR_NOT_FOUND", `stat ${bucket}/${key}: no such object`);
      return {
        key,
        size: info.size,
        lastModified: info.mtime,
        etag: await this.#etagOf(path, info.mtimeMs, info.size),
      };
    } catch (error) {
      throw ioError(error, `stat ${bucket}/${key}`);
    }
  }

  async #etagOf(path: string, mtimeMs: number, size: number): Promise<string> {
    const cached = this.#etags.get(path);
    if (cached && cached.mtimeMs === mtimeMs && cached.size === size) return cached.etag;
    const hash = createHash("md5");
    for await (const chunk of createReadStream(path, { highWaterMark: this.chunkSize }))
      hash.update(chunk as Buffer);
    const etag = hash.digest("hex");
    this.#etags.set(path, { mtimeMs, size, etag });
    return etag;
  }

  async listObjects(bucket: string, prefix = "", options: CallOptions = {}): Promise<ObjectInfo[]> {
    if (this.#disposed) throw new StorageError("ERR_DISPOSED", "the object store was disposed");
    options.signal?.throwIfAborted();
    assertValidBucket(bucket);
    const base = join(this.#realRoot, bucket);
    const out: ObjectInfo[] = [];
    let entries: string[];
    try {
      entries = await readdir(base, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return out;
      throw ioError(error, `list ${bucket}`);
    }
    for (const entry of entries.sort()) {
      const key = entry.split(sep).join("/");
      if (!key.startsWith(prefix)) continue;
      const path = join(base, entry);
      // lstat semantics: a symlink is never listed (it could point anywhere).
      const info = await stat(path, { bigint: false }).catch(() => undefined);
      const real = await realpath(path).catch(() => undefined);
      if (!info?.isFile() || real !== path) continue;
      out.push({
        key,
        size: info.size,
        lastModified: info.mtime,
        etag: await this.#etagOf(path, info.mtimeMs, info.size),
      });
    }
    return out;
  }

  async removeObject(bucket: string, key: string, options: CallOptions = {}): Promise<void> {
    const path = this.#check(bucket, key, options.signal);
    try {
      await this.#confine(dirname(path), key);
      await rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw ioError(error, `remove ${bucket}/${key}`);
    }
    this.#etags.delete(path);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#etags.clear();
    this.#knownDirs.clear();
  }
}
