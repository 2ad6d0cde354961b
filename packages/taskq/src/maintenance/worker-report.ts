import type { TaskStoreDriver, WorkerInfo } from "@taskq/idempotency";

export { WORKER_STALE_MS } from "@taskq/idempotency";

import type { MaintenanceService } from "./service.js";

/** How often a worker reports itself to the workers registry, ms. */
export const WORKER_REPORT_MS = 2000;

/**
 * The worker's own row in the store's workers registry, every WORKER_REPORT_MS (and at start):
 * its threads and slots, the attempts executing now, and the tasks it holds. Per process, not
 * once per cluster: every worker reports itself.
 */
export function workerReportService(
  store: Pick<TaskStoreDriver, "reportWorker">,
  state: () => WorkerInfo,
): MaintenanceService {
  return {
    name: "worker-report",
    everyMs: WORKER_REPORT_MS,
    oncePerCluster: false,
    runAtStart: true,
    async run() {
      await store.reportWorker(state());
      return 1;
    },
  };
}
