// A grouped kind's take on SQLite (docs/architecture.md §5.3): the kind's groups in rotation, the
// head of each in turn, within each group's cap, in the take's IMMEDIATE transaction (so serial
// with every other take and finish of the store, and nothing changes under it but its own
// writes). The groups are read in chunks: one range of tasks_group_queued after the place the walk
// is at (the next groups, each with its queued entries in queue order, so its head and the ones
// after it), with their running counts from one range of tasks_group_running. The heads chosen
// are taken in one statement (task_take_seqs), written before any statement that takes a task
// itself (a group whose entries the chunk did not hold, the tasks without a group). Cost: two
// range reads per chunk of 2 x (what is left to take) + 16 entries, and one update per take,
// where a step per task had been three statements.
import type { GroupTakeLease, KindLimitRow } from "../limits.js";
import type * as records from "../record.js";
import type { SqliteStatements } from "./queries.js";

/**
 * The rotation's place of a grouped kind's tasks without a group: before the first group name
 * (a group name is never empty), so a cycle is: the ungrouped, then each group by name.
 */
const UNGROUPED = "";

/** A chunk's groups in name order, each with its queued entries read (queue order). */
interface Chunk {
  readonly groups: string[];
  readonly entries: Map<string, { readonly seq: number; readonly due: boolean }[]>;
  /** The chunk stopped at its limit: its last group may have entries it did not read, and groups may follow it. */
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
  // running tasks per group: read once (a chunk's range), then counted here as the take takes
  const running = new Map<string, number>();
  const readChunk = (after: string): Chunk => {
    const size = 2 * (limit - taken.length - pending.length) + 16;
    const read = s.task_group_chunk.all({ now: lease.now, kind, after, limit: size }) as {
      group_key: string;
      seq: number;
      due: number;
    }[];
    const groups: string[] = [];
    const entries = new Map<string, { seq: number; due: boolean }[]>();
    for (const e of read) {
      let list = entries.get(e.group_key);
      if (list === undefined) {
        list = [];
        entries.set(e.group_key, list);
        groups.push(e.group_key);
      }
      list.push({ seq: e.seq, due: e.due === 1 });
    }
    const last = groups.at(-1);
    if (last !== undefined) {
      const counted = new Map<string, number>();
      for (const r of s.task_group_running_range.all({ kind, after, last }) as {
        group_key: string;
        n: number;
      }[])
        counted.set(r.group_key, r.n);
      for (const g of groups) if (!running.has(g)) running.set(g, counted.get(g) ?? 0);
    }
    return { groups, entries, full: read.length === size };
  };
  // where the walk is (null: before a cycle's start, the ungrouped), and its chunk and its index
  // in it (none at the ungrouped)
  let at: string | null = row.group_cursor ?? null;
  let cursor = at;
  let chunk: Chunk | undefined;
  let index = -1;
  /** Moves to the next place: the next group of the chunk, of the next one, or the ungrouped. */
  const advance = (): string => {
    if (chunk !== undefined && index + 1 < chunk.groups.length) return chunk.groups[++index] as string;
    // past the last group: the ungrouped; before a cycle's start: the ungrouped comes first
    if ((chunk !== undefined && !chunk.full) || at === null) {
      chunk = undefined;
      return UNGROUPED;
    }
    // past a full chunk's last group, at the ungrouped or at the cursor: read on after it
    const after = chunk === undefined ? at : (chunk.groups[index] as string);
    flush();
    chunk = readChunk(after);
    index = 0;
    if (chunk.groups.length === 0) {
      chunk = undefined;
      return UNGROUPED;
    }
    return chunk.groups[0] as string;
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
        took = takeHead(next);
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
   * The group's head: its first due entry the chunk read (its entries before it, not due, stay),
   * chosen; when the chunk may not have held them all (its last group, in a full chunk) and held
   * none due, read by a statement that takes it (after the chosen ones are written).
   */
  function takeHead(group: string): boolean {
    const list = chunk?.entries.get(group) ?? [];
    const i = list.findIndex((e) => e.due);
    if (i >= 0) {
      pending.push((list[i] as { seq: number }).seq);
      list.splice(i, 1);
      return true;
    }
    const partial = chunk?.full && chunk.groups.at(-1) === group;
    if (!partial) return false;
    flush();
    const head = s.task_group_take_head.get({ ...params, group_key: group }) as records.Row | undefined;
    if (head === undefined) return false;
    taken.push(head);
    return true;
  }
}
