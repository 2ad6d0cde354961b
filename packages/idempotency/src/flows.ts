// Workflows (issue 35): a flow's tasks and their edges, checked and planned once for both drivers
// (docs/architecture.md §5.2). A driver stores the claims as it stores any, then asks this module
// what each new child is (waiting for n parents, due now, or cancelled by a parent that already
// failed) and writes that, with the edges, in the same transaction.
import type { ClaimInput, ClaimResult, TaskRecord, TaskStatus } from "./types.js";
import { type CheckedClaim, checkClaim, invalid, MAX_ID_LENGTH } from "./validate.js";

/** A parent of a task: the task it runs after. */
export interface TaskDependency {
  /** The parent: an existing task's id, or (in a flow) the index of a task of the same flow. */
  readonly parent: string | number;
  /**
   * Run the child even when this parent fails (dead-lettered) or is cancelled: that parent then
   * counts as done for it. Otherwise such a parent cancels the child (and its descendants).
   * @default false
   */
  readonly runAnyway?: boolean;
}

/** A task of a flow: a claim, and the tasks it runs after. */
export interface FlowTaskInput extends ClaimInput {
  /** Its parents: it becomes due once every one has succeeded. @default none */
  readonly after?: readonly TaskDependency[];
}

/** What a task waits for or waited for, and its parent's result, as a handler reads it (`ctx.parents`). */
export interface LinkedTask {
  readonly seq: number;
  readonly id: string;
  readonly kind: string;
  readonly status: TaskStatus;
  /** The edge runs the child even when this parent fails. */
  readonly runAnyway: boolean;
  /** The task's result as stored (JSON text), or null. */
  readonly result: string | null;
}

/** A task's place in its graph (`store.taskLinks(seq)`). */
export interface TaskLinks {
  readonly parents: readonly LinkedTask[];
  readonly children: readonly LinkedTask[];
}

/** Tasks in one flow at most. */
export const MAX_FLOW_TASKS = 10_000;
/** Parents of one task at most. */
export const MAX_PARENTS = 10_000;
/**
 * SQLite: next_run_at and rank_at of a task waiting for its parents (beyond any time a take or
 * nextDueIn reads up to); its release makes it due then. PostgreSQL keeps no task_ready row instead.
 */
export const FLOW_WAITING_AT = 2 ** 52;

/** The statuses a task ends in (a parent in one of them has been counted by its children). */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);
const TERMINAL = FINISHED_STATUSES;

/** A row of task_parents_of / task_children_of, on either driver. */
export interface LinkRow {
  /** The child whose parent this row is (task_parents_of; task_children_of: its own seq). */
  readonly child_seq: number;
  readonly seq: number;
  readonly id: string;
  readonly kind: string;
  readonly status: LinkedTask["status"];
  readonly result: string | null;
  /** SQLite's 0/1, PostgreSQL's boolean. */
  readonly run_anyway: number | boolean;
}

export function toLinked(row: LinkRow): LinkedTask {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    status: row.status,
    runAnyway: row.run_anyway === true || row.run_anyway === 1,
    result: row.result,
  };
}

/** The seqs of taken records that have parents (`waitingFor` not null): none, no read. */
export function seqsWithParents(records: readonly TaskRecord[]): number[] {
  return records.flatMap((r) => (r.waitingFor === null ? [] : [r.seq]));
}

/** Taken records with their parents, `rows` the parents of `seqsWithParents(records)` (by `child_seq`). */
export function attachParents(records: TaskRecord[], rows: readonly LinkRow[]): TaskRecord[] {
  const of = new Map<number, LinkedTask[]>();
  for (const row of rows) {
    const list = of.get(row.child_seq) ?? [];
    list.push(toLinked(row));
    of.set(row.child_seq, list);
  }
  return records.map((r) => (r.waitingFor === null ? r : { ...r, parents: of.get(r.seq) ?? [] }));
}

/** A flow checked: its claims, and each task's parents (an index in the flow, or an id). */
export interface CheckedFlow {
  readonly claims: readonly CheckedClaim[];
  readonly after: readonly (readonly { readonly parent: number | string; readonly runAnyway: boolean }[])[];
  /** The tasks' indexes, every parent before its children. */
  readonly order: readonly number[];
  /** The ids of existing tasks some task of the flow runs after. */
  readonly externalIds: readonly string[];
}

/**
 * Checks a flow for every driver: each claim as `checkClaim` does, and its `after`; refuses a
 * cycle, a task that runs after itself or names a parent twice, and `after` with `start`, `runAt`
 * or `delayMs` (a child is due when its parents are done). `names` name the tasks in messages.
 */
export function checkFlow(
  tasks: readonly FlowTaskInput[],
  defaultAttempts: number,
  names?: readonly string[],
): CheckedFlow {
  if (!Array.isArray(tasks) || tasks.length === 0) invalid("tasks must hold at least one task");
  if (tasks.length > MAX_FLOW_TASKS)
    invalid(`a flow has at most ${MAX_FLOW_TASKS} tasks, got ${tasks.length}`);
  const name = (i: number) => names?.[i] ?? `#${i}`;
  const external = new Set<string>();
  const after = tasks.map((task, i) => {
    const deps = task.after ?? [];
    if (!Array.isArray(deps)) invalid(`after of task ${name(i)} must be an array`);
    if (deps.length > MAX_PARENTS)
      invalid(`after of task ${name(i)}: at most ${MAX_PARENTS} parents, got ${deps.length}`);
    if (task.start === true)
      invalid(`task ${name(i)}: a flow's tasks are stored queued (start is not supported)`);
    if (deps.length > 0 && (task.runAt !== undefined || task.delayMs !== undefined))
      invalid(
        `task ${name(i)} has after: it is due when its parents are done, not with start, runAt or delayMs`,
      );
    const seen = new Set<number | string>();
    return deps.map((dep) => {
      const parent = dep?.parent;
      if (typeof parent === "number") {
        if (!Number.isInteger(parent) || parent < 0 || parent >= tasks.length)
          invalid(`after of task ${name(i)}: no task ${parent} in the flow`);
        if (parent === i) invalid(`after of task ${name(i)}: a task cannot run after itself`);
      } else if (typeof parent === "string") {
        if (parent.length === 0 || parent.length > MAX_ID_LENGTH)
          invalid(`after of task ${name(i)}: a parent id must be 1 to ${MAX_ID_LENGTH} characters`);
        external.add(parent);
      } else invalid(`after of task ${name(i)}: each parent must be a task id or a task of the flow`);
      if (seen.has(parent))
        invalid(`after of task ${name(i)} names ${typeof parent === "number" ? name(parent) : parent} twice`);
      seen.add(parent);
      if (dep.runAnyway !== undefined && typeof dep.runAnyway !== "boolean")
        invalid(`after of task ${name(i)}: runAnyway must be a boolean`);
      return { parent, runAnyway: dep.runAnyway === true };
    });
  });
  const claims = tasks.map((task, i) => {
    try {
      return checkClaim(task, defaultAttempts);
    } catch (error) {
      if (tasks.length === 1) throw error;
      return invalid(`task ${name(i)}: ${(error as Error).message}`);
    }
  });
  return { claims, after, order: topologicalOrder(after, name), externalIds: [...external] };
}

/** Kahn's order of the flow's tasks; a cycle is refused, naming the tasks on it. */
function topologicalOrder(after: CheckedFlow["after"], name: (i: number) => string): number[] {
  const pending = after.map((deps) => deps.filter((d) => typeof d.parent === "number").length);
  const children: number[][] = after.map(() => []);
  after.forEach((deps, child) => {
    for (const d of deps) if (typeof d.parent === "number") children[d.parent]?.push(child);
  });
  const order: number[] = [];
  const ready = pending.flatMap((n, i) => (n === 0 ? [i] : []));
  while (ready.length > 0) {
    const i = ready.pop() as number;
    order.push(i);
    for (const c of children[i] ?? []) if (--(pending[c] as number) === 0) ready.push(c);
  }
  if (order.length < after.length) {
    const stuck = pending.flatMap((n, i) => (n > 0 ? [name(i)] : []));
    invalid(`after: the flow has a cycle (through tasks ${stuck.slice(0, 10).join(", ")})`);
  }
  return order;
}

/** A parent as the enqueue found it, locked (PostgreSQL) or in the write transaction (SQLite). */
export interface ParentState {
  readonly seq: number;
  readonly id: string;
  readonly status: string;
}

/** What the enqueue writes for a new child. */
export interface ChildPlan {
  readonly seq: number;
  /** Parents not finished yet (0: due now). */
  readonly waitingFor: number;
  /** Set when a parent already failed or was cancelled: the child is stored cancelled with it. */
  readonly cancelReason: string | null;
}

/** The edges and the new children of a flow, once its claims are stored. */
export interface FlowPlan {
  readonly edges: readonly { readonly parent: number; readonly child: number; readonly runAnyway: boolean }[];
  readonly children: readonly ChildPlan[];
}

/** The seqs of the parents of the flow's new children (to lock and mark `has_children`). */
export function parentSeqsOf(flow: CheckedFlow, results: readonly ClaimResult[]): number[] {
  const seqs = new Set<number>();
  flow.after.forEach((deps, i) => {
    if (!results[i]?.created) return;
    for (const d of deps) if (typeof d.parent === "number") seqs.add(seqOf(results[d.parent]));
  });
  return [...seqs];
}

function seqOf(result: ClaimResult | undefined): number {
  if (!result) throw new Error("a flow's claim has no answer");
  return result.created ? result.seq : result.record.seq;
}

/**
 * What each new child of the flow is: `parents` are the states of its parents (by seq) and
 * `byId` of the existing tasks named by id (an unknown id is refused). A duplicate (a key held
 * already) is the existing task: it gets no edges. A parent that succeeded counts as done; one that
 * failed or was cancelled cancels the child unless its edge runs anyway; a parent of the flow that
 * this plan cancels cancels its children the same way.
 */
export function planFlow(
  flow: CheckedFlow,
  results: readonly ClaimResult[],
  parents: ReadonlyMap<number, ParentState>,
  byId: ReadonlyMap<string, ParentState>,
): FlowPlan {
  for (const id of flow.externalIds) if (!byId.has(id)) invalid(`after: no task with id ${id}`);
  const edges: { parent: number; child: number; runAnyway: boolean }[] = [];
  const children: ChildPlan[] = [];
  const cancelled = new Set<number>();
  const ids = flow.claims.map((c) => c.id);
  for (const i of flow.order) {
    const result = results[i];
    const deps = flow.after[i] ?? [];
    if (!result?.created || deps.length === 0) continue;
    let waiting = 0;
    let reason: string | null = null;
    for (const d of deps) {
      let parent: ParentState;
      if (typeof d.parent === "string") parent = byId.get(d.parent) as ParentState;
      else {
        const r = results[d.parent];
        const seq = seqOf(r);
        const created = r?.created === true;
        parent = created
          ? { seq, id: ids[d.parent] as string, status: cancelled.has(seq) ? "cancelled" : "queued" }
          : (parents.get(seq) ?? { seq, id: ids[d.parent] as string, status: "queued" });
      }
      edges.push({ parent: parent.seq, child: result.seq, runAnyway: d.runAnyway });
      if (parent.status === "succeeded" || (TERMINAL.has(parent.status) && d.runAnyway)) continue;
      if (TERMINAL.has(parent.status)) reason ??= `parent ${parent.id} ${parent.status}`;
      else waiting++;
    }
    if (reason !== null) cancelled.add(result.seq);
    children.push({ seq: result.seq, waitingFor: waiting, cancelReason: reason });
  }
  return { edges, children };
}
