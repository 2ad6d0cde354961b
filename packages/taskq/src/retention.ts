import { setImmediate as yieldTurn } from "node:timers/promises";
import type { TaskStoreDriver } from "@taskq/idempotency";
import type { LoggerPort } from "@taskq/queue";

/** A week: how long a succeeded task's record (and the deduplication of its key) is kept by default. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Options of background retention. */
export interface RetentionOptions {
  /** Keep succeeded tasks this long (ms); 0 keeps them forever (no pruning). */
  readonly retentionMs: number;
  /**
   * How often to prune, in ms.
   * @default retentionMs / 10, between 1 s and 60 s
   */
  readonly intervalMs?: number;
  /**
   * Tasks deleted per transaction: each batch holds the store for a few milliseconds, and the
   * event loop turns between batches.
   * @default 500
   */
  readonly batch?: number;
  /** Where a pass that failed (an unreachable store) is logged; the next pass tries again. @default none */
  readonly logger?: LoggerPort;
}

/** Background retention: `pruned` so far; `stop()` waits for a pass under way. */
export interface Retention {
  readonly pruned: number;
  /** Runs one pass now (every batch until nothing is left past the window). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Prunes succeeded tasks past the window every `intervalMs`, in small batches; the timer keeps no process alive. */
export function startRetention(store: TaskStoreDriver, options: RetentionOptions): Retention {
  const batch = options.batch ?? 500;
  let pruned = 0;
  let pass: Promise<number> | undefined;
  let stopped = false;
  const runOnce = (): Promise<number> => {
    pass ??= (async () => {
      let total = 0;
      try {
        for (;;) {
          if (stopped) break;
          const n = await store.prune({ olderThanMs: options.retentionMs, limit: batch });
          total += n;
          if (n < batch) break;
          await yieldTurn(); // let the queue's own commits in between batches
        }
      } finally {
        pruned += total;
        pass = undefined;
      }
      return total;
    })();
    return pass;
  };
  let timer: NodeJS.Timeout | undefined;
  if (options.retentionMs > 0) {
    const every =
      options.intervalMs ?? Math.min(60_000, Math.max(1000, Math.floor(options.retentionMs / 10)));
    timer = setInterval(() => {
      runOnce().catch((error) =>
        options.logger?.warn(
          { error_class: "retention" },
          `retention pass failed: ${(error as Error).message}`,
        ),
      );
    }, every);
    timer.unref();
  }
  return {
    get pruned() {
      return pruned;
    },
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pass?.catch(() => undefined);
    },
  };
}
