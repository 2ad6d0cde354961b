import type { TaskStoreDriver } from "@taskq/idempotency";
import type { LoggerPort } from "@taskq/queue";
import { occurrenceToFire, parseCron } from "../cron.js";
import { nextId } from "../handler-runtime.js";
import type { MaintenanceService } from "./service.js";

/** How often a process looks for due schedules, ms: an occurrence is enqueued within this of its time. */
export const SCHEDULER_MS = 1000;
/** Most schedules fired per pass (the rest next pass). */
const DUE_PER_PASS = 100;
/** A schedule with no occurrence left (`0 0 30 2 *`) waits here: the year 9999. */
const NEVER = 253_402_300_799_999;

/** The idempotency key of one occurrence: the same for every scheduler, so a second insert is a duplicate. */
export function occurrenceKey(name: string, at: number): string {
  return `schedule:${name}@${new Date(at).toISOString()}`;
}

/**
 * Enqueues the occurrences of recurring tasks (the store's `schedules`): every SCHEDULER_MS, the
 * due schedules, each fired by the store's compare-and-set (`fireSchedule`): of the processes
 * racing for an occurrence exactly one advances the schedule and enqueues its task, keyed by
 * the occurrence's time. Missed occurrences (no worker ran): the latest is enqueued once, the
 * others skipped and logged. Every process runs it (the store decides each race); the store's
 * clock judges what is due.
 */
export function schedulerService(
  store: Pick<TaskStoreDriver, "dueSchedules" | "fireSchedule">,
  logger?: LoggerPort,
): MaintenanceService {
  return {
    name: "scheduler",
    everyMs: SCHEDULER_MS,
    oncePerCluster: false,
    runAtStart: true,
    async run(signal) {
      const { now, due } = await store.dueSchedules(DUE_PER_PASS);
      let fired = 0;
      for (const schedule of due) {
        if (signal.aborted) break;
        const cron = parseCron(schedule.cron, schedule.timezone); // checked when it was stored
        const { fire, next, skipped } = occurrenceToFire(cron, schedule.nextRunAt, now);
        const { advanced } = await store.fireSchedule({
          name: schedule.name,
          expected: schedule.nextRunAt,
          firedAt: fire,
          nextRunAt: next ?? NEVER,
          task: {
            id: nextId(),
            idempotencyKey: occurrenceKey(schedule.name, fire),
            kind: schedule.kind,
            payload: schedule.payload,
            ...schedule.options,
          },
        });
        if (!advanced) continue; // another process fired it
        fired++;
        if (skipped > 0)
          logger?.warn(
            { schedule: schedule.name, skipped },
            `schedule ${schedule.name}: ${skipped >= 1000 ? "1000 or more" : skipped} missed occurrence(s) skipped, the latest enqueued once`,
          );
      }
      return fired;
    },
  };
}
