// LISTEN/NOTIFY wake-ups for idle managers: the turn statement (and recover, redrive) NOTIFY a
// channel when tasks become queued; a manager waiting for work LISTENs on a connection of its own.
import pg from "pg";

/** Wakes `waitForWork` callers when the store's channel is notified. */
export class PgNotifier {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  /** A notification (or a reason to look) arrived since the last take. */
  #notified = false;
  readonly #wakers = new Set<() => void>();
  #closed = false;

  constructor(config: pg.ClientConfig, channel: string) {
    this.#config = config;
    this.#channel = channel;
  }

  /** Forgets the notifications received so far (a take is about to look for work). */
  clear(): void {
    this.#notified = false;
  }

  /** LISTENs on a connection of its own (opened on first use, reopened after a loss). */
  #listen(): Promise<void> {
    if (this.#listener) return Promise.resolve();
    this.#listening ??= (async () => {
      const client = new pg.Client({ ...this.#config });
      const drop = () => {
        if (this.#listener === client) this.#listener = undefined;
        client.end().catch(() => undefined);
        this.#wake(); // a lost listener may have missed a notification: look once
      };
      client.on("error", drop);
      client.on("end", drop);
      client.on("notification", () => this.#wake());
      try {
        await client.connect();
        await client.query(`LISTEN "${this.#channel}"`);
        if (this.#closed) await client.end();
        else {
          this.#listener = client;
          this.#wake(); // what was queued before LISTEN took effect sent nothing here: look once
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

  /** See TaskStoreDriver.waitForWork. */
  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return;
    await this.#listen();
    if (this.#notified) {
      this.#notified = false;
      return;
    }
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => wake?.();
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#wakers.add(resolve);
        timer = setTimeout(resolve, timeoutMs);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (wake) this.#wakers.delete(wake);
      signal?.removeEventListener("abort", onAbort);
      this.#notified = false;
    }
  }

  /** Wakes every waiter and closes the listening connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await this.#listening;
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
  }
}
