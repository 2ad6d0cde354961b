import type { TaskStoreDriver } from "@taskq/idempotency";
import {
  DEFAULT_HISTORY_MS,
  DEFAULT_WINDOW_MS,
  readThroughput,
  readThroughputHistory,
  type ThroughputReading,
} from "taskq/app";

/** One sample of the charts: rates over the last window, by the store's clock. */
export interface HistoryPoint {
  /** Epoch seconds, fractional (the store's clock). */
  readonly t: number;
  /** Tasks that succeeded per second over the window. */
  readonly succeededPerSec: number;
  /** Tasks that failed for good (dead-lettered) per second over the window. */
  readonly failedPerSec: number;
  /** p95 of the run time (start to finish) of the window's successes, ms; null without any. */
  readonly p95RunMs: number | null;
  /** p95 of the time from enqueue (or due time) to finish, ms; null without any. */
  readonly p95TotalMs: number | null;
}

/** The window each sample covers: smooths the rate over commit batches. */
export const WINDOW_MS = DEFAULT_WINDOW_MS;
/** Samples kept: ten minutes at one a second. */
export const KEEP = 600;
/** How far back the charts reach, and the history read from the store when a page opens. */
export const SPAN_MS = DEFAULT_HISTORY_MS;

/** A reading as a chart's point. */
export function pointOf(t: ThroughputReading): HistoryPoint {
  return {
    t: t.now / 1000,
    succeededPerSec: t.succeededPerSec,
    failedPerSec: t.failedPerSec,
    p95RunMs: t.p95RunMs,
    p95TotalMs: t.p95TotalMs,
  };
}

/**
 * The last ten minutes from the store, one point per window of WINDOW_MS (readThroughputHistory:
 * bounded whatever the store's size), so the charts open drawn; live samples go on from there.
 */
export async function storedHistory(store: TaskStoreDriver): Promise<HistoryPoint[]> {
  return (await readThroughputHistory(store, { spanMs: SPAN_MS, bucketMs: WINDOW_MS })).map(pointOf);
}
/** Sampling stops when no one has read the charts for this long (the overview closed). */
export const IDLE_MS = 30_000;

/**
 * The charts' live data: a sample every `everyMs` from the store (tasks finished in the last five
 * seconds, their run times' p95), kept for ten minutes in memory; what came before a page opened
 * is read from the store (storedHistory, `/api/history`). Starts with a reader, pauses
 * when none has read for IDLE_MS (no overview open), stops on `stop()`; the timer does not keep
 * the process alive.
 */
export class History {
  readonly #store: TaskStoreDriver;
  readonly #everyMs: number;
  readonly #points: HistoryPoint[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;
  #error: string | undefined;
  #lastRead = 0;
  #closed = false;

  constructor(store: TaskStoreDriver, everyMs: number) {
    this.#store = store;
    this.#everyMs = everyMs;
  }

  /** The samples so far, oldest first; starts sampling on the first call. */
  points(): readonly HistoryPoint[] {
    this.#lastRead = Date.now();
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setInterval(() => void this.sample(), this.#everyMs);
      this.#timer.unref();
      void this.sample();
    }
    return this.#points;
  }

  /** Why the last sample failed (the store was unreachable), or undefined. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Takes one sample now (one at a time: a slow store skips ticks rather than piling them up). */
  sample(): Promise<void> {
    this.#sampling ??= this.#take().finally(() => {
      this.#sampling = undefined;
    });
    return this.#sampling;
  }

  async #take(): Promise<void> {
    if (Date.now() - this.#lastRead > IDLE_MS) return this.stop();
    try {
      this.#points.push(pointOf(await readThroughput(this.#store, WINDOW_MS)));
      if (this.#points.length > KEEP) this.#points.splice(0, this.#points.length - KEEP);
      this.#error = undefined;
    } catch (error) {
      this.#error = (error as Error).message;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops for good: a later read gets the samples so far, and none are taken. */
  close(): void {
    this.#closed = true;
    this.stop();
  }
}
