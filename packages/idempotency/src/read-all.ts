// Reading a whole store through the bounded calls of the contract (listTasks, listDeadLetters,
// statusCounts), written once for the callers that want everything: checks, tests, exports, the
// CLI's dead letter commands, the bench. Each pages newest first by keyset (`beforeSeq`) and hands
// the result back oldest first, as the unbounded reads they replace did. Not a snapshot: pages are
// separate reads, so a task created after the first page is not in the answer, one deleted between
// pages (retention, a purge) is missing, and each record is as its own page read it.
import type { TaskStoreDriver } from "./driver.js";
import type { CountedStatus, DeadLetter, StatusCounts, StoreStats, TaskRecord, TaskStatus } from "./types.js";
import { MAX_PAGE } from "./validate.js";

/** Which tasks everyTask reads: those of one status, one kind, or both (default: every task). */
export interface EveryTaskFilter {
  readonly status?: TaskStatus;
  readonly kind?: string;
}

/**
 * Every task (of `filter`'s status and kind) in creation order, seq ascending: listTasks pages of
 * MAX_PAGE (500) newest first, each below the last seq of the one before, until an empty page.
 * Costs one listTasks call per 500 tasks, plus one, and every record in memory: for checks, tests
 * and exports of a store of some thousands of tasks, not for a hot path or a 10-million-task store.
 */
export async function everyTask(
  store: Pick<TaskStoreDriver, "listTasks">,
  filter: EveryTaskFilter = {},
): Promise<TaskRecord[]> {
  const tasks: TaskRecord[] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await store.listTasks({
      ...filter,
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
      limit: MAX_PAGE,
    });
    if (page.length === 0) break;
    for (const t of page) tasks.push(t);
    beforeSeq = Math.min(...page.map((t) => t.seq));
  }
  return tasks.sort((a, b) => a.seq - b.seq);
}

/**
 * Every open dead letter (with `includeRedriven`, the re-driven ones too), oldest first (dead
 * letter seq ascending): listDeadLetters pages of MAX_PAGE (500) newest first, each below the last
 * seq of the one before, until an empty page. Costs one listDeadLetters call per 500 dead letters,
 * plus one, and every dead letter (its payload too) in memory.
 */
export async function everyDeadLetter(
  store: Pick<TaskStoreDriver, "listDeadLetters">,
  options: { readonly includeRedriven?: boolean } = {},
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await store.listDeadLetters({
      ...(options.includeRedriven === undefined ? {} : { includeRedriven: options.includeRedriven }),
      ...(beforeSeq === undefined ? {} : { beforeSeq }),
      limit: MAX_PAGE,
    });
    if (page.length === 0) break;
    for (const d of page) letters.push(d);
    beforeSeq = Math.min(...page.map((d) => d.seq));
  }
  return letters.sort((a, b) => a.seq - b.seq);
}

/** statusCounts' numbers summed over the kinds (statusTotals). */
export type StatusTotals = { readonly [S in CountedStatus]: number } & {
  /** Every status together (queued and scheduled once each). */
  readonly total: number;
};

/**
 * statusCounts' `byKind` summed into one number per status, and their `total`. As in StatusCounts,
 * `queued` counts the due queued tasks only and `scheduled` the queued ones due later: every queued
 * task is `queued + scheduled` (what StoreStats.queued counted). A status in `counts.capped` is a
 * lower bound here too (so is `total` then): pass statusCounts a `cap` above the store's size for
 * exact numbers. Pure: no call to the store.
 */
export function statusTotals(counts: Pick<StatusCounts, "byKind">): StatusTotals {
  const sum = { queued: 0, scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const k of counts.byKind) {
    sum.queued += k.queued;
    sum.scheduled += k.scheduled;
    sum.running += k.running;
    sum.succeeded += k.succeeded;
    sum.failed += k.failed;
    sum.cancelled += k.cancelled;
  }
  return {
    ...sum,
    total: sum.queued + sum.scheduled + sum.running + sum.succeeded + sum.failed + sum.cancelled,
  };
}

/**
 * statusCounts' answer in the older StoreStats shape, whose `queued` is every queued task (due, or
 * later: `queued + scheduled`); exact only when no status is capped (a `cap` above the store's
 * size). For code and tests written against StoreStats. Pure: no call to the store.
 */
export function storeStatsOf(counts: StatusCounts): StoreStats {
  const t = statusTotals(counts);
  return {
    queued: t.queued + t.scheduled,
    running: t.running,
    succeeded: t.succeeded,
    failed: t.failed,
    cancelled: t.cancelled,
    scheduled: t.scheduled,
    total: t.total,
    deadLetters: counts.deadLetters,
    oldestQueuedAgeMs: counts.oldestDueAgeMs,
  };
}
