import type { ManagerInfo, TaskStoreDriver } from "@taskq/idempotency";
import type { MaintenanceService } from "./service.js";

/** How often a process reports itself to the managers registry, ms. */
export const MANAGER_REPORT_MS = 2000;

/**
 * A report older than this is a process that stopped without saying so (a SIGKILL): the read
 * model leaves it out. Several report intervals, so a busy event loop does not drop a live one.
 */
export const MANAGER_STALE_MS = 15_000;

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
