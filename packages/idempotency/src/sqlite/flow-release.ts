// Workflows on SQLite (issue 35, docs/architecture.md §5.2): the enqueue of a flow's edges and the
// release of children, run by the sync store inside the transaction of the call that needs them
// (one writer at a time: nothing else changes a row between the statements).
import {
  attachParents,
  type CheckedFlow,
  FINISHED_STATUSES,
  FLOW_WAITING_AT,
  type LinkRow,
  type ParentState,
  parentSeqsOf,
  planFlow,
  seqsWithParents,
  type TaskLinks,
  toLinked,
} from "../flows.js";
import type { Row } from "../record.js";
import type { ClaimResult, TaskRecord } from "../types.js";
import type { SqliteStatements } from "./queries.js";

/** Writes a flow's edges and new children, its claims already stored (same transaction). */
export function linkFlow(
  s: SqliteStatements,
  flow: CheckedFlow,
  results: readonly ClaimResult[],
  now: number,
): void {
  const parents = new Map<number, ParentState>();
  for (const seq of parentSeqsOf(flow, results)) {
    const row = s.task_get.get({ seq }) as Row | undefined;
    if (row) parents.set(seq, { seq, id: row.id, status: row.status });
  }
  const byId = new Map<string, ParentState>();
  for (const id of flow.externalIds) {
    const rows = s.task_list_by_id.all({ id }) as Row[];
    const row = rows[rows.length - 1];
    if (row) byId.set(id, { seq: row.seq, id: row.id, status: row.status });
  }
  const plan = planFlow(flow, results, parents, byId);
  const marked = new Set<number>();
  for (const edge of plan.edges) {
    s.task_edge_insert.run({
      parent_seq: edge.parent,
      child_seq: edge.child,
      run_anyway: edge.runAnyway ? 1 : 0,
    });
    if (!marked.has(edge.parent)) s.task_mark_parent.run({ seq: edge.parent });
    marked.add(edge.parent);
  }
  for (const child of plan.children)
    s.task_flow_file.run({
      seq: child.seq,
      waiting_for: child.waitingFor,
      waiting_at: FLOW_WAITING_AT,
      error_message: child.cancelReason,
      now,
    });
}

/** A row as a transition that may end a task returns it (RETURNING seq, id, status, has_children). */
export interface EndedRow {
  readonly seq: number;
  readonly id: string;
  readonly status: string;
  readonly has_children?: number | boolean | null;
}

/**
 * `row` is a task as the transition that changed it returned it (same transaction): when it has
 * children and is finished, each waiting child counts it done (a success, or a run-anyway edge:
 * the last makes the child due) or ends cancelled, whose own children are visited in turn. A task
 * without children (or not finished: a retry, a release) returns at once, reading nothing.
 */
export function releaseChildren(s: SqliteStatements, row: EndedRow | undefined, now: number): void {
  if (!row || !(row.has_children === 1 || row.has_children === true) || !FINISHED_STATUSES.has(row.status))
    return;
  releaseFrom(s, row, now);
}

function releaseFrom(s: SqliteStatements, parent: EndedRow, now: number): void {
  const edges = s.task_edges_of_parent.all({ seq: parent.seq }) as {
    child_seq: number;
    run_anyway: number;
  }[];
  for (const edge of edges) {
    if (parent.status === "succeeded" || edge.run_anyway === 1) {
      s.task_flow_count_done.run({ seq: edge.child_seq, now });
      continue;
    }
    const child = s.task_flow_cancel_waiting.get({
      seq: edge.child_seq,
      now,
      error_message: `parent ${parent.id} ${parent.status}`,
    }) as EndedRow | undefined;
    if (child?.has_children === 1) releaseFrom(s, child, now);
  }
}

/** A task's parents (with results) and children. */
export function linksOf(s: SqliteStatements, seq: number): TaskLinks {
  return {
    parents: (s.task_parents_of.all({ seq }) as LinkRow[]).map(toLinked),
    children: (s.task_children_of.all({ seq }) as LinkRow[]).map(toLinked),
  };
}

/** Taken records with their parents (only those that have any: `waitingFor` is not null). */
export function withParents(s: SqliteStatements, records: TaskRecord[]): TaskRecord[] {
  const seqs = seqsWithParents(records);
  if (seqs.length === 0) return records;
  return attachParents(
    records,
    seqs.flatMap((seq) => s.task_parents_of.all({ seq }) as LinkRow[]),
  );
}
