import type { ManagerInfo, TaskStoreDriver } from "@taskq/idempotency";

export { MANAGER_STALE_MS } from "@taskq/idempotency";

import type { MaintenanceService } from "./service.js";

/** How often a process reports itself to the managers registry, ms. */
export const MANAGER_REPORT_MS = 2000;

/**
 * The process's own row in the store's managers registry, every MANAGER_REPORT_MS (and at start):
 * its threads and slots, the attempts executing now, and the tasks it holds. Per process, not
 * once per cluster: every manager reports itself.
 */
export function managerReportService(
  store: Pick<TaskStoreDriver, "reportManager">,
  state: () => ManagerInfo,
): MaintenanceService {
  return {
    name: "manager-report",
    everyMs: MANAGER_REPORT_MS,
    oncePerCluster: false,
    runAtStart: true,
    async run() {
      await store.reportManager(state());
      return 1;
    },
  };
}
