// LISTEN/NOTIFY for the PostgreSQL store, on a connection of its own (opened on first use,
// reopened after a loss): three channels per store schema.
// - `taskq_work_<schema>`: the turn statement (and recover, redrive) notify when tasks become
//   queued; idle workers wait on it (waitForWork).
// - `taskq_done_<schema>`: the turn statement (at most once per turn) and the cancels notify when
//   a task finished (succeeded, failed, cancelled); callers waiting for results wait on it
//   (waitForChange).
// - `taskq_cancel_<schema>`: a cancel requested for a running task, payload its seq
//   (onCancelRequested).
import pg from "pg";
import { waitOn } from "../wait.js";

/** The channels of one store. */
export interface NotifierChannels {
  readonly work: string;
  readonly done: string;
  readonly cancel: string;
}

/** Wakes `waitForWork` and `waitForChange` callers and tells cancel listeners, by notification. */
export class PgNotifier {
  readonly #config: pg.ClientConfig;
  readonly #channels: NotifierChannels;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  /** A notification of work (or a reason to look) arrived since the last take. */
  #notified = false;
  readonly #wakers = new Set<() => void>();
  readonly #changeWakers = new Set<() => void>();
  readonly #cancelListeners = new Set<(seq: number) => void>();
  /** The channels someone has waited or listened on: only those are LISTENed to. */
  readonly #wanted = new Set<string>();
  /** The channels the open connection LISTENs to. */
  readonly #listened = new Set<string>();
  #closed = false;

  constructor(config: pg.ClientConfig, channels: NotifierChannels) {
    this.#config = config;
    this.#channels = channels;
  }

  /** Forgets the notifications received so far (a take is about to look for work). */
  clear(): void {
    this.#notified = false;
  }

  /**
   * LISTENs on `channel` from now on (and on every channel wanted before), on a connection of its
   * own. Each channel is listened to only once someone needs it: every NOTIFY on a channel a
   * connection LISTENs to costs it (and the server) something, and a worker that never waits for
   * results need not hear of every finished turn.
   */
  async #ensure(channel: string): Promise<void> {
    this.#wanted.add(channel);
    await this.#listen();
    const client = this.#listener;
    if (!client || this.#listened.has(channel)) return;
    this.#listened.add(channel);
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch {
      this.#listened.delete(channel); // a lost connection: the next open LISTENs to it
    }
  }

  /** Opens the listening connection (on first use, and after a loss) with the channels wanted so far. */
  #listen(): Promise<void> {
    if (this.#listener || this.#closed) return Promise.resolve();
    this.#listening ??= (async () => {
      const client = new pg.Client({ ...this.#config });
      const drop = () => {
        if (this.#listener === client) {
          this.#listener = undefined;
          this.#listened.clear();
        }
        client.end().catch(() => undefined);
        this.#wakeAll(); // a lost listener may have missed a notification: look once
        // cancel listeners need the channel back without a waiter asking for it
        if (this.#cancelListeners.size > 0 && !this.#closed) void this.#listen();
      };
      client.on("error", drop);
      client.on("end", drop);
      client.on("notification", (message) => {
        if (message.channel === this.#channels.work) this.#wake();
        else if (message.channel === this.#channels.done) this.#changed();
        else if (message.channel === this.#channels.cancel) {
          const seq = Number(message.payload);
          for (const listener of this.#cancelListeners) listener(seq);
        }
      });
      try {
        await client.connect();
        const channels = [...this.#wanted];
        if (channels.length > 0) await client.query(channels.map((c) => `LISTEN "${c}"`).join("; "));
        if (this.#closed) await client.end();
        else {
          this.#listener = client;
          for (const channel of channels) this.#listened.add(channel);
          this.#wakeAll(); // what happened before LISTEN took effect sent nothing here: look once
        }
      } catch {
        client.end().catch(() => undefined);
      } finally {
        this.#listening = undefined;
      }
    })();
    return this.#listening;
  }

  #wake(): void {
    this.#notified = true;
    for (const wake of this.#wakers) wake();
  }

  #changed(): void {
    for (const wake of this.#changeWakers) wake();
  }

  #wakeAll(): void {
    this.#wake();
    this.#changed();
  }

  /** See TaskStoreDriver.waitForWork. */
  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return;
    await this.#ensure(this.#channels.work);
    if (this.#notified) {
      this.#notified = false;
      return;
    }
    try {
      await waitOn(this.#wakers, timeoutMs, signal);
    } finally {
      this.#notified = false;
    }
  }

  /** See TaskStoreDriver.waitForChange. */
  async waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return;
    const started = performance.now();
    const fresh = !this.#listened.has(this.#channels.done);
    await this.#ensure(this.#channels.done);
    // a channel just listened to may have missed a finish: the caller looks again (unless the
    // connection could not open: then this is the poll interval)
    if (fresh && this.#listened.has(this.#channels.done)) return;
    const left = timeoutMs - (performance.now() - started);
    if (left > 0 && !this.#closed && !signal?.aborted) await waitOn(this.#changeWakers, left, signal);
  }

  /** See TaskStoreDriver.onCancelRequested: listens from now on, until the returned function is called. */
  onCancelRequested(listener: (seq: number) => void): () => void {
    this.#cancelListeners.add(listener);
    void this.#ensure(this.#channels.cancel);
    return () => {
      this.#cancelListeners.delete(listener);
    };
  }

  /** Resolves once the listening connection is up (tests, and callers that must not miss a notification). */
  async listening(): Promise<void> {
    const { work, done, cancel } = this.#channels;
    for (const channel of [work, done, cancel]) await this.#ensure(channel);
  }

  /** Wakes every waiter and closes the listening connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeAll();
    await this.#listening;
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
  }
}
