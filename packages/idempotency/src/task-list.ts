// How listTasks finds a page (newest first, below `beforeSeq`), the same for both drivers. Only
// failed and cancelled tasks have an index in seq order besides the primary key; a rare status or
// kind walked along the primary key would read the whole table (a kind with 50 tasks among 10
// million: 1.3-7.6 s on SQLite). So a filter's set, when it has an index of its own, is read whole
// (up to SMALL_SET entries below `beforeSeq`) and sorted, which is bounded; only a set at least
// that large is walked by seq, where it is dense enough to fill a page soon. A tag has an index of
// its own in seq order (task_tags' primary key, (tag, task_seq)): a filter by tag walks it.
import type { CheckedTaskList } from "./validate.js";

/**
 * Most entries below `beforeSeq` a candidate set may have for listTasks to read it whole and sort
 * it (a few ms at 10 million tasks on either driver); a larger one is walked by seq instead.
 */
export const SMALL_SET = 5000;

/**
 * A set listTasks may read whole through an index (each dialect's `task_page_of_set`): the queued
 * tasks (tasks_queued / tasks_due), those of one kind (a range of the same index), the running
 * (tasks_running), the succeeded (tasks_succeeded), or a kind's tasks (the (kind, idempotency_key)
 * unique index).
 */
export type TaskSet = "queued" | "queued_kind" | "running" | "succeeded" | "kind";

/** The sets to try, in order: the first with fewer than SMALL_SET entries below `before` answers. */
export function candidateSets(q: CheckedTaskList): TaskSet[] {
  const sets: TaskSet[] = [];
  if (q.tag !== null || q.correlationId !== null || q.group !== null) return sets;
  if (q.status === "queued") return [q.kind === null ? "queued" : "queued_kind"];
  if (q.status === "running" || q.status === "succeeded") sets.push(q.status);
  if (q.kind !== null) sets.push("kind");
  return sets;
}

/**
 * The index walked by seq when no candidate set is small: a group's entries of tasks_group (a
 * filter by group, whatever else it asks), a correlation id's entries of
 * tasks_correlation (a filter by correlation id, whatever else it asks), the tag's entries of task_tags (a
 * filter by tag, whatever else it asks), a failed or cancelled task's own partial index (in seq
 * order), else the primary key.
 */
export function walkOf(
  q: CheckedTaskList,
): "grouped" | "correlated" | "tagged" | "failed" | "cancelled" | "all" {
  if (q.group !== null) return "grouped";
  if (q.correlationId !== null) return "correlated";
  if (q.tag !== null) return "tagged";
  return q.status === "failed" || q.status === "cancelled" ? q.status : "all";
}
