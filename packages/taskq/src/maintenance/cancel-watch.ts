import type { TaskStoreDriver } from "@taskq/idempotency";
import type { MaintenanceService } from "./service.js";

/** How often a process asks the store whether a task it holds was cancelled, ms. */
export const CANCEL_WATCH_MS = 1000;

/**
 * Delivers cancels of running tasks to the process that holds them: every CANCEL_WATCH_MS it asks
 * the store which of its tasks have a cancel requested, and cancels those in its orchestrator
 * (which aborts the handler's `ctx.signal`). On PostgreSQL a notification delivers them sooner;
 * this pass is what SQLite has, and PostgreSQL's fallback when a notification was missed.
 */
export function cancelWatchService(
  store: Pick<TaskStoreDriver, "cancelRequested">,
  held: { heldSeqs(): number[]; cancel(seq: number): boolean },
): MaintenanceService {
  return {
    name: "cancel-watch",
    everyMs: CANCEL_WATCH_MS,
    oncePerCluster: false,
    async run() {
      const seqs = held.heldSeqs();
      if (seqs.length === 0) return 0;
      let cancelled = 0;
      for (const seq of await store.cancelRequested(seqs)) if (held.cancel(seq)) cancelled++;
      return cancelled;
    },
  };
}
