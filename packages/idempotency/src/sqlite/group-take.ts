// A grouped kind's take on SQLite (docs/architecture.md §5.3): the kind's groups in rotation, the
// head of each in turn, within each group's cap, in the take's IMMEDIATE transaction (so serial
// with every other take and finish of the store, and nothing changes under it but its own
// writes). The groups are read in walks: one statement (task_group_walk) gives the next groups
// after the place the walk is at, each with its head (its first entry in queue order) and its
// running tasks, one probe of each index a group, in SQLite. The heads chosen are taken in one
// statement (task_take_seqs), written before any statement that takes a task itself (a group
// whose head is not due: task_group_take_head; the tasks without a group) and before the next
// walk. Cost: about one walk and one update per round of the rotation (what is left to take + 16
// groups a walk), where a step per task had been three statements.
import type { GroupTakeLease, KindLimitRow } from "../limits.js";
import type * as records from "../record.js";
import type { SqliteStatements } from "./queries.js";

/**
 * The rotation's place of a grouped kind's tasks without a group: before the first group name
 * (a group name is never empty), so a cycle is: the ungrouped, then each group by name.
 */
const UNGROUPED = "";

/** A group the walk met, with its head (first entry in queue order) and its running tasks. */
interface WalkRow {
  readonly group_key: string;
  readonly seq: number;
  /** 1: the head is due. */
  readonly due: number;
  readonly running: number;
}

/** A walk's groups in name order. */
interface Chunk {
  readonly rows: WalkRow[];
  /** The walk stopped at its limit: groups may follow its last. */
  readonly full: boolean;
}

/**
 * Takes up to `limit` due tasks of a grouped kind (`row`: its kind_limits row, with
 * per_group_concurrency set): from the group after the row's cursor on, the head of each group
 * with due tasks and running tasks under its cap, round after round, until `limit` are taken or a
 * whole cycle takes none. The cursor is left at the last group drawn from. Rows in the order taken.
 */
export function takeGrouped(
  s: SqliteStatements,
  row: KindLimitRow,
  limit: number,
  lease: GroupTakeLease,
): records.Row[] {
  const kind = row.kind;
  const cap = row.per_group_concurrency as number;
  const params = { now: lease.now, owner: lease.owner, lease_expires_at: lease.now + lease.leaseMs, kind };
  const taken: records.Row[] = [];
  // the heads chosen and not yet written (taken by `flush`, in this order)
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const rows = s.task_take_seqs.all({ ...params, seqs: JSON.stringify(pending) }) as records.Row[];
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    for (const seq of pending) {
      const r = bySeq.get(seq);
      if (r !== undefined) taken.push(r);
    }
    pending = [];
  };
  // running tasks per group: read once (by the walk that met it), then counted here as the take takes
  const running = new Map<string, number>();
  const readChunk = (after: string): Chunk => {
    const size = limit - taken.length - pending.length + 16;
    const rows = s.task_group_walk.all({ now: lease.now, kind, after, limit: size }) as WalkRow[];
    for (const r of rows) if (!running.has(r.group_key)) running.set(r.group_key, r.running);
    return { rows, full: rows.length === size };
  };
  // where the walk is (null: before a cycle's start, the ungrouped), and its chunk (the groups the
  // last walk read) and its index in it (none at the ungrouped)
  let at: string | null = row.group_cursor ?? null;
  let cursor = at;
  let chunk: Chunk | undefined;
  let index = -1;
  /** Moves to the next place: the next group of the chunk, of the next one, or the ungrouped. */
  const advance = (): string => {
    if (chunk !== undefined && index + 1 < chunk.rows.length)
      return (chunk.rows[++index] as WalkRow).group_key;
    // past the last group: the ungrouped; before a cycle's start: the ungrouped comes first
    if ((chunk !== undefined && !chunk.full) || at === null) {
      chunk = undefined;
      return UNGROUPED;
    }
    // past a full walk's last group, at the ungrouped or at the cursor: walk on after it
    const after = chunk === undefined ? at : (chunk.rows[index] as WalkRow).group_key;
    flush();
    chunk = readChunk(after);
    index = 0;
    if (chunk.rows.length === 0) {
      chunk = undefined;
      return UNGROUPED;
    }
    return (chunk.rows[0] as WalkRow).group_key;
  };
  // the places visited since the last task taken: one seen again means a cycle took nothing
  const idle = new Set<string>();
  // places that gave nothing in this take (no due task, or at the cap): they give nothing later in
  // it either (the transaction is the store's only writer), so they are passed over unread
  const spent = new Set<string>();
  while (taken.length + pending.length < limit) {
    const next = advance();
    if (idle.has(next)) break;
    idle.add(next);
    at = next;
    let took = false;
    if (spent.has(next)) took = false;
    else if (next === UNGROUPED) {
      flush();
      const head = s.task_group_take_ungrouped.get(params) as records.Row | undefined;
      if (head !== undefined) {
        taken.push(head);
        took = true;
      }
    } else {
      const n = running.get(next) ?? 0;
      if (n < cap) {
        took = takeHead(chunk?.rows[index] as WalkRow);
        if (took) running.set(next, n + 1);
      }
    }
    if (took) {
      cursor = next;
      idle.clear();
    } else spent.add(next);
  }
  flush();
  if (cursor !== (row.group_cursor ?? null) && cursor !== null)
    s.kind_group_cursor_set.run({ kind, group_cursor: cursor });
  return taken;

  /**
   * The group's head, as the walk found it, chosen when it is due; else its first due task, if
   * any, read by a statement that takes it (after the chosen ones are written).
   */
  function takeHead(head: WalkRow): boolean {
    if (head.due === 1) {
      pending.push(head.seq);
      return true;
    }
    flush();
    const row = s.task_group_take_head.get({ ...params, group_key: head.group_key }) as
      | records.Row
      | undefined;
    if (row === undefined) return false;
    taken.push(row);
    return true;
  }
}
