import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const RUNNING = 0;
const STOPPING = 1;
const STOPPED = 2;

// The thread's whole program (CommonJS, run with `eval`): its own connection to the database,
// a PASSIVE checkpoint every interval (it never waits for a lock, so it never holds up the
// writer), a RESTART one when the WAL has grown past the limit, and a clean close when told to stop. Atomics.wait is its timer: the thread has
// nothing else to do, and the main thread can wait for it to stop without an event loop turn.
const PROGRAM = `
const { workerData } = require("node:worker_threads");
const state = new Int32Array(workerData.state);
let db;
try {
  const Database = require(workerData.module);
  db = new Database(workerData.path, { timeout: 0 });
  while (Atomics.load(state, 0) === ${RUNNING}) {
    Atomics.wait(state, 0, ${RUNNING}, workerData.intervalMs);
    if (Atomics.load(state, 0) !== ${RUNNING}) break;
    try {
      const [passive] = db.pragma("wal_checkpoint(PASSIVE)");
      // A writer that never pauses keeps appending frames, and a PASSIVE checkpoint never rewinds
      // the WAL: it grew without bound (1.7 GB beside a 340 MB database at 1.4 million tasks,
      // bench/growth.mjs). Past the limit, a RESTART checkpoint waits (briefly) for the writer's
      // transaction, finishes the little that PASSIVE left, and makes the next write start the
      // WAL from its beginning: the file stays near the limit.
      if (passive && passive.log >= workerData.restartFrames) {
        db.pragma("busy_timeout = 100");
        try {
          db.pragma("wal_checkpoint(RESTART)");
        } finally {
          db.pragma("busy_timeout = 0");
        }
      }
    } catch {
      // busy or failing this time: the next interval tries again; the WAL only grows meanwhile
    }
    Atomics.add(state, 1, 1); // a pass done (tests pace a writer by it)
  }
} finally {
  try { db?.close(); } catch {}
  Atomics.store(state, 0, ${STOPPED});
  Atomics.notify(state, 0);
}
`;

/**
 * Checkpoints a WAL database from a worker thread with its own connection, so that the writer
 * (the main thread, which turns automatic checkpoints off) never pays for copying pages back
 * into the database file and the fsyncs that go with it (bench/run.mjs measures both ways).
 */
export class BackgroundCheckpointer {
  readonly intervalMs: number;
  readonly #state: Int32Array;
  readonly #worker: Worker;

  /** WAL frames past which a RESTART checkpoint rewinds the log (8192 frames: 32 MiB at 4 KiB pages). */
  readonly restartFrames: number;

  constructor(path: string, intervalMs = 100, restartFrames = 8192) {
    if (!(Number.isInteger(intervalMs) && intervalMs >= 1))
      throw new RangeError(`checkpointIntervalMs must be a positive integer, got ${intervalMs}`);
    this.intervalMs = intervalMs;
    this.restartFrames = restartFrames;
    // [0] the thread's state, [1] its passes so far
    this.#state = new Int32Array(new SharedArrayBuffer(8));
    this.#worker = new Worker(PROGRAM, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve("better-sqlite3"),
        path,
        intervalMs,
        restartFrames,
        state: this.#state.buffer,
      },
    });
    this.#worker.unref(); // never keeps the process alive
    this.#worker.on("error", () => undefined); // a failed checkpointer only means no checkpoints
  }

  /** Checkpoint passes the thread has made so far (one per interval it got to run). */
  get passes(): number {
    return Atomics.load(this.#state, 1);
  }

  /**
   * Stops the thread and waits (synchronously, at most the length of one checkpoint) until it
   * has closed its connection, so the writer's own close is the last and removes the WAL.
   * Idempotent.
   */
  stop(): void {
    if (Atomics.compareExchange(this.#state, 0, RUNNING, STOPPING) !== RUNNING) {
      if (Atomics.load(this.#state, 0) === STOPPED) return;
    } else {
      Atomics.notify(this.#state, 0);
    }
    // A thread that never got going (still starting, or failed to load) cannot answer: do not
    // wait longer than a generous bound for it.
    const deadline = Date.now() + 5_000;
    while (Atomics.load(this.#state, 0) !== STOPPED && Date.now() < deadline) {
      Atomics.wait(this.#state, 0, STOPPING, 50);
    }
  }
}
