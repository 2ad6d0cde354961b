// What the tests read back from a SqliteSyncStore, through its bounded calls (statusCounts,
// listTasks, listDeadLetters), synchronously: the store's counts, every task, every dead letter.
import {
  type DeadLetter,
  MAX_COUNT_CAP,
  MAX_PAGE,
  type SqliteSyncStore,
  type StoreStats,
  storeStatsOf,
  type TaskRecord,
} from "@taskq/idempotency";

/** The store's counts as StoreStats (storeStatsOf): statusCounts with the largest cap, so exact. */
export function countsOf(store: SqliteSyncStore): StoreStats {
  return storeStatsOf(store.statusCounts(MAX_COUNT_CAP));
}

/** Every task in creation order: listTasks pages of MAX_PAGE (500), newest first, by keyset. */
export function tasksOf(store: SqliteSyncStore): TaskRecord[] {
  const tasks: TaskRecord[] = [];
  for (let page = store.listTasks({ limit: MAX_PAGE }); page.length > 0; ) {
    tasks.push(...page);
    page = store.listTasks({ limit: MAX_PAGE, beforeSeq: Math.min(...page.map((t) => t.seq)) });
  }
  return tasks.sort((a, b) => a.seq - b.seq);
}

/** Every open dead letter, oldest first: listDeadLetters pages of MAX_PAGE (500), newest first. */
export function lettersOf(store: SqliteSyncStore): DeadLetter[] {
  const letters: DeadLetter[] = [];
  for (let page = store.listDeadLetters({ limit: MAX_PAGE }); page.length > 0; ) {
    letters.push(...page);
    page = store.listDeadLetters({ limit: MAX_PAGE, beforeSeq: Math.min(...page.map((d) => d.seq)) });
  }
  return letters.sort((a, b) => a.seq - b.seq);
}
