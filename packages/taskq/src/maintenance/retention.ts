import { setImmediate as yieldTurn } from "node:timers/promises";
import type { TaskStoreDriver } from "@taskq/idempotency";
import type { MaintenanceService } from "./service.js";

/** Options of the retention service. */
export interface RetentionOptions {
  /** Keep succeeded tasks this long (ms); must be > 0 (0, "keep forever", starts no service). */
  readonly retentionMs: number;
  /**
   * How often to prune, in ms.
   * @default retentionMs / 10, between 1 s and 60 s
   */
  readonly everyMs?: number;
  /**
   * Tasks deleted per transaction: each batch holds the store for a few milliseconds, and the
   * event loop turns between batches.
   * @default 500
   */
  readonly batch?: number;
}

/**
 * Retention as a maintenance service: deletes the succeeded tasks past the window (their keys
 * may run again), in small batches, until none is left; once per cluster per interval.
 */
export function retentionService(
  store: Pick<TaskStoreDriver, "prune">,
  options: RetentionOptions,
): MaintenanceService {
  const { retentionMs } = options;
  if (!Number.isInteger(retentionMs) || retentionMs < 1)
    throw new RangeError(`retentionMs must be a positive integer, got ${retentionMs}`);
  const batch = options.batch ?? 500;
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`batch must be a positive integer, got ${batch}`);
  return {
    name: "retention",
    everyMs: options.everyMs ?? Math.min(60_000, Math.max(1000, Math.floor(retentionMs / 10))),
    oncePerCluster: true,
    async run(signal) {
      let total = 0;
      while (!signal.aborted) {
        const n = await store.prune({ olderThanMs: retentionMs, limit: batch });
        total += n;
        if (n < batch) break;
        await yieldTurn(); // let the queue's own commits in between batches
      }
      return total;
    },
  };
}
