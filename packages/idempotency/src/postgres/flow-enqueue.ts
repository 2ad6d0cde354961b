// Workflows on PostgreSQL (issue 35, docs/architecture.md §5.2): a flow enqueued in one
// transaction (its claims as claimWith inserts them, its parents locked, its edges and children
// filed), and the reads of a task's links. The release of children is the migration's trigger
// (018_task_edges.sql), in the statement that ends a parent.
import type pg from "pg";
import {
  attachParents,
  type CheckedFlow,
  type FlowPlan,
  type LinkRow,
  type ParentState,
  parentSeqsOf,
  planFlow,
  seqsWithParents,
  type TaskLinks,
  toLinked,
} from "../flows.js";
import type { ClaimResult, TaskRecord } from "../types.js";
import type { PgConnection } from "./connection.js";

/** Claims as PgTaskStore.claimWith does, through the transaction's own client. */
export type ClaimThrough = (client: pg.PoolClient) => Promise<ClaimResult[]>;

/** Enqueues a checked flow in one transaction (conn.transaction: retried whole on a lost connection). */
export function enqueueFlow(
  conn: PgConnection,
  flow: CheckedFlow,
  claim: ClaimThrough,
  now: number | null,
): Promise<ClaimResult[]> {
  return conn.transaction("enqueue flow", async (query, client) => {
    const results = await claim(client);
    const seqs = parentSeqsOf(flow, results);
    const parents = new Map<number, ParentState>();
    const byId = new Map<string, ParentState>();
    if (seqs.length > 0 || flow.externalIds.length > 0) {
      const { rows } = await query<"task_flow_lock_parents", ParentState>("task_flow_lock_parents", {
        seqs,
        ids: flow.externalIds,
      });
      for (const row of rows) {
        parents.set(row.seq, row);
        const known = byId.get(row.id);
        if (known === undefined || known.seq < row.seq) byId.set(row.id, row);
      }
    }
    const plan = planFlow(flow, results, parents, byId);
    const link = (edges: FlowPlan["edges"], children: FlowPlan["children"]) =>
      query("task_flow_link", {
        now,
        edge_parent: edges.map((e) => e.parent),
        edge_child: edges.map((e) => e.child),
        edge_run_anyway: edges.map((e) => e.runAnyway),
        child_seq: children.map((c) => c.seq),
        child_waiting: children.map((c) => c.waitingFor),
        child_reason: children.map((c) => c.cancelReason),
      });
    // Children cancelled at enqueue are filed first, before any edge: their release trigger
    // (they may be parents, has_children) then finds no child to count, which planFlow counted
    // already. Filed with their edges, it would count a run-anyway child done a second time.
    const cancelled = plan.children.filter((c) => c.cancelReason !== null);
    if (cancelled.length > 0) await link([], cancelled);
    const rest = cancelled.length > 0 ? plan.children.filter((c) => c.cancelReason === null) : plan.children;
    if (plan.children.length > 0) await link(plan.edges, rest);
    return results;
  });
}

/** A task's parents (with results) and children. */
export async function linksOf(conn: PgConnection, seq: number): Promise<TaskLinks> {
  const [parents, children] = await Promise.all([
    conn.query<"task_parents_of", LinkRow>("task_parents_of", { seqs: [seq] }),
    conn.query<"task_children_of", LinkRow>("task_children_of", { seq }),
  ]);
  return { parents: parents.rows.map(toLinked), children: children.rows.map(toLinked) };
}

/** Taken records with their parents: one statement for those that have any, none otherwise. */
export async function withParents(conn: PgConnection, records: TaskRecord[]): Promise<TaskRecord[]> {
  const seqs = seqsWithParents(records);
  if (seqs.length === 0) return records;
  const { rows } = await conn.query<"task_parents_of", LinkRow>("task_parents_of", { seqs });
  return attachParents(records, rows);
}
