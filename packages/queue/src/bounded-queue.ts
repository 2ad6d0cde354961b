import { QueueClosedError, QueueFullError, QueueTimeoutError } from "./errors.js";
import { RingDeque } from "./ring-deque.js";

/** What to do when a put finds the queue full. */
export type OnFull = "block" | "reject";

/** Options of a bounded queue. */
export interface BoundedQueueOptions {
  /**
   * Most items the queue holds (QUEUE_SIZE).
   * @default 200
   */
  readonly maxSize?: number;
  /**
   * `block`: a put waits for space; `reject`: a put on a full queue throws QueueFullError at once.
   * @default "block"
   */
  readonly onFull?: OnFull;
}

/** Options of one waiting call. */
export interface WaitOptions {
  /** Gives up the wait (the call rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Gives up the wait after this many ms with QueueTimeoutError. */
  readonly timeoutMs?: number;
}

/** Options of a put. */
export interface PutOptions extends WaitOptions {
  /** Overrides the queue's `onFull` for this put (re-admitted retries always block). */
  readonly onFull?: OnFull;
}

interface Waiter<V> {
  settled: boolean;
  resolve(value: V): void;
  reject(error: unknown): void;
}

interface PutWaiter<T> extends Waiter<void> {
  readonly item: T;
}

/** Rebuild a waiter list once this many cancelled waiters are in it (and they outnumber the live). */
const COMPACT_AT = 1024;

/**
 * A FIFO queue of at most `maxSize` items (Python's `queue.Queue(maxsize)`): puts wait for space
 * (or are rejected), takes wait for items; waiters are served in arrival order, a new put never
 * overtakes a waiting one. Waits honour AbortSignal and timeouts and leave no listener or timer.
 */
export class BoundedQueue<T> {
  readonly maxSize: number;
  readonly onFull: OnFull;
  readonly #items: RingDeque<T>;
  readonly #takers = new RingDeque<Waiter<T>>();
  readonly #putters = new RingDeque<PutWaiter<T>>();
  #liveTakers = 0;
  #livePutters = 0;
  #closed = false;
  /** Puts turned away because the queue was full (reject mode). */
  rejections = 0;

  constructor(options: BoundedQueueOptions = {}) {
    const maxSize = options.maxSize ?? 200;
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`maxSize must be a positive integer, got ${options.maxSize}`);
    const onFull = options.onFull ?? "block";
    if (onFull !== "block" && onFull !== "reject")
      throw new RangeError(`onFull must be "block" or "reject", got ${JSON.stringify(onFull)}`);
    this.maxSize = maxSize;
    this.onFull = onFull;
    this.#items = new RingDeque(Math.min(maxSize, 1024));
  }

  /** Items in the queue now (never more than maxSize). */
  get size(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Producers waiting for space. */
  get waitingPutters(): number {
    return this.#livePutters;
  }

  /** Consumers waiting for an item. */
  get waitingTakers(): number {
    return this.#liveTakers;
  }

  /** Adds an item if there is room now and nobody waits ahead; false otherwise. */
  tryPut(item: T): boolean {
    if (this.#closed) throw new QueueClosedError();
    if (this.#livePutters > 0) return false;
    if (this.#handToTaker(item)) return true;
    if (this.#items.length >= this.maxSize) return false;
    this.#items.push(item);
    return true;
  }

  /**
   * Adds an item whatever the capacity (handed to a waiting taker, else queued behind what is
   * there): for items bounded elsewhere, such as the tasks a worker's fetcher took from the
   * durable queue (its own capacity bounds them, and they are leased already).
   */
  putBeyondCapacity(item: T): void {
    if (this.#closed) throw new QueueClosedError();
    if (!this.#handToTaker(item)) this.#items.push(item);
  }

  /** Hands `item` to the consumer waiting longest, if any waits. */
  #handToTaker(item: T): boolean {
    const taker = this.#nextLive(this.#takers);
    if (!taker) return false;
    this.#liveTakers--;
    taker.settled = true;
    taker.resolve(item);
    return true;
  }

  /** Adds an item, waiting for space (block) or throwing QueueFullError (reject). */
  put(item: T, options: PutOptions = {}): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.#closed) return Promise.reject(new QueueClosedError());
    if (this.tryPut(item)) return Promise.resolve();
    if ((options.onFull ?? this.onFull) === "reject") {
      this.rejections++;
      return Promise.reject(new QueueFullError(this.maxSize));
    }
    return this.#wait<void, PutWaiter<T>>(
      this.#putters,
      "put",
      options,
      (w) => Object.assign(w, { item }),
      +1,
    );
  }

  /** Removes the oldest item if there is one. */
  tryTake(): T | undefined {
    const item = this.#items.shift();
    if (item === undefined) return undefined;
    this.#admitPutter();
    return item;
  }

  /** Removes the oldest item, waiting for one; throws QueueClosedError once closed and drained. */
  take(options: WaitOptions = {}): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const item = this.tryTake();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#closed) return Promise.reject(new QueueClosedError());
    return this.#wait<T, Waiter<T>>(this.#takers, "take", options, (w) => w, -1);
  }

  /** No more puts (waiting ones are rejected); takers drain what is left, then get QueueClosedError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let w = this.#putters.shift(); w; w = this.#putters.shift()) {
      if (!w.settled) {
        w.settled = true;
        w.reject(new QueueClosedError());
      }
    }
    this.#livePutters = 0;
    if (this.#items.length === 0) {
      for (let w = this.#takers.shift(); w; w = this.#takers.shift()) {
        if (!w.settled) {
          w.settled = true;
          w.reject(new QueueClosedError());
        }
      }
      this.#liveTakers = 0;
    }
  }

  #nextLive<W extends Waiter<never>>(waiters: RingDeque<W>): W | undefined {
    for (let w = waiters.shift(); w; w = waiters.shift()) if (!w.settled) return w;
    return undefined;
  }

  /** After a take made room: the first waiting putter's item moves in. */
  #admitPutter(): void {
    const putter = this.#nextLive(this.#putters);
    if (putter) {
      this.#livePutters--;
      this.#items.push(putter.item);
      putter.settled = true;
      putter.resolve();
    } else if (this.#closed && this.#items.length === 0) {
      for (let w = this.#takers.shift(); w; w = this.#takers.shift()) {
        if (!w.settled) {
          w.settled = true;
          w.reject(new QueueClosedError());
        }
      }
      this.#liveTakers = 0;
    }
  }

  #wait<V, W extends Waiter<V>>(
    waiters: RingDeque<W>,
    what: string,
    options: WaitOptions,
    build: (waiter: Waiter<V>) => W,
    kind: 1 | -1,
  ): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const { signal, timeoutMs } = options;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const cancel = (error: unknown) => {
        if (waiter.settled) return;
        waiter.settled = true;
        cleanup();
        if (kind === 1) this.#livePutters--;
        else this.#liveTakers--;
        this.#compact(waiters);
        reject(error);
      };
      const onAbort = () => cancel(signal?.reason);
      const waiter = build({
        settled: false,
        resolve: (value: V) => {
          cleanup();
          resolve(value);
        },
        reject: (error: unknown) => {
          cleanup();
          reject(error);
        },
      });
      waiters.push(waiter);
      if (kind === 1) this.#livePutters++;
      else this.#liveTakers++;
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined)
        timer = setTimeout(() => cancel(new QueueTimeoutError(what, timeoutMs)), timeoutMs);
    });
  }

  #compact<W extends Waiter<never>>(waiters: RingDeque<W>): void {
    const live = waiters === (this.#putters as unknown) ? this.#livePutters : this.#liveTakers;
    if (waiters.length - live >= COMPACT_AT && waiters.length - live > live)
      waiters.retain((w) => !w.settled);
  }
}
