import {
  closeSync,
  createReadStream,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { open, realpath, rename, rm } from "node:fs/promises";
import { addAbortSignal, Readable } from "node:stream";

/**
 * How the file store calls the file system.
 * - `async`: libuv's thread pool. Never blocks the event loop; every call costs a hand-off to a
 *   pool thread and a wake-up of the loop (futex, eventfd, epoll): about 50 µs of CPU on small
 *   objects, more than the I/O itself when the data is in the page cache.
 * - `sync`: blocking calls on the calling thread, a few µs each on a local disk. Meant for
 *   worker threads, whose event loop only serves the attempts they run; reads and writes still
 *   move one chunk per call.
 */
export type FileIoMode = "async" | "sync";

/** A file being written (a put's temporary file). */
export interface WritableFile {
  write(chunk: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file system calls the store makes, in one of the two modes. */
export interface FileIo {
  realpath(path: string): Promise<string>;
  /** Creates `path` exclusively (fails when it exists) for writing. */
  create(path: string): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /**
   * A stream of the file's bytes in chunks of at most `chunkSize`. The sync mode opens the file
   * here (and fails here); the async mode opens it on the first read (the store checks the path
   * with realpath first, so a missing object still fails before).
   */
  read(path: string, chunkSize: number, signal?: AbortSignal): Promise<Readable>;
}

const asyncIo: FileIo = {
  realpath: (path) => realpath(path),
  async create(path) {
    const handle = await open(path, "wx");
    return {
      async write(chunk) {
        let offset = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
          offset += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  read: async (path, chunkSize, signal) =>
    createReadStream(path, { highWaterMark: chunkSize, ...(signal ? { signal } : {}) }),
};

/** Reads an open file descriptor chunk by chunk with blocking calls; closes it at the end. */
function syncReader(fd: number, chunkSize: number): Readable {
  const size = fstatSync(fd).size;
  let position = 0;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      closeSync(fd);
    }
  };
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      try {
        // Objects are immutable once renamed into place: the size read at open is the size.
        const length = Math.min(chunkSize, size - position);
        const buffer = length > 0 ? Buffer.allocUnsafe(length) : undefined;
        const bytes = buffer ? readSync(fd, buffer, 0, length, position) : 0;
        position += bytes;
        if (bytes > 0) this.push(bytes === length ? buffer : buffer?.subarray(0, bytes));
        if (bytes === 0 || position >= size) {
          close();
          this.push(null);
        }
      } catch (error) {
        this.destroy(error as Error);
      }
    },
    destroy(error, callback) {
      try {
        close();
      } catch (closeError) {
        callback(error ?? (closeError as Error));
        return;
      }
      callback(error);
    },
  });
}

const syncIo: FileIo = {
  realpath: async (path) => realpathSync.native(path),
  async create(path) {
    const fd = openSync(path, "wx");
    let closed = false; // a descriptor number is reused at once: never close it twice
    return {
      async write(chunk) {
        let offset = 0;
        while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset, chunk.byteLength - offset);
      },
      sync: async () => fsyncSync(fd),
      async close() {
        if (closed) return;
        closed = true;
        closeSync(fd);
      },
    };
  },
  rename: async (from, to) => renameSync(from, to),
  remove: async (path) => rmSync(path, { force: true }),
  async read(path, chunkSize, signal) {
    signal?.throwIfAborted();
    const fd = openSync(path, "r");
    let stream: Readable;
    try {
      stream = syncReader(fd, chunkSize);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return signal ? addAbortSignal(signal, stream) : stream;
  },
};

/** The file system calls of a mode. */
export function fileIo(mode: FileIoMode): FileIo {
  return mode === "sync" ? syncIo : asyncIo;
}
