// A grouped kind's take on SQLite (docs/architecture.md §5.3): the kind's groups in rotation, the
// head of each in turn, within each group's cap, in the take's IMMEDIATE transaction (so serial
// with every other take and finish of the store). Each step is one small indexed statement:
// the next group with queued tasks (a probe of tasks_group_queued), its running count (a probe of
// tasks_group_running), its head taken. Cost: one step per task taken, plus one per group
// passed over (at its cap, or with no due task), at most one cycle of the groups.
import type { GroupTakeLease, KindLimitRow } from "../limits.js";
import type * as records from "../record.js";
import type { SqliteStatements } from "./queries.js";

/**
 * The rotation's place of a grouped kind's tasks without a group: before the first group name
 * (a group name is never empty), so a cycle is: the ungrouped, then each group by name.
 */
const UNGROUPED = "";

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
  const running = new Map<string, number>();
  // null: before a cycle's start (the ungrouped)
  let at: string | null = row.group_cursor ?? null;
  let cursor = at;
  // the places visited since the last task taken: one seen again means a cycle took nothing
  const idle = new Set<string>();
  // places that gave nothing in this take (no due task, or at the cap): they give nothing later in
  // it either (the transaction is the store's only writer), so they are passed over unread
  const spent = new Set<string>();
  while (taken.length < limit) {
    const next = at === null ? UNGROUPED : nextGroup(s, kind, at);
    if (idle.has(next)) break;
    idle.add(next);
    at = next;
    let head: records.Row | undefined;
    if (spent.has(next)) head = undefined;
    else if (next === UNGROUPED) head = s.task_group_take_ungrouped.get(params) as records.Row | undefined;
    else {
      let n = running.get(next);
      if (n === undefined) {
        n = (s.task_group_running.get({ kind, group_key: next }) as { n: number }).n;
        running.set(next, n);
      }
      if (n < cap) {
        head = s.task_group_take_head.get({ ...params, group_key: next }) as records.Row | undefined;
        if (head !== undefined) running.set(next, n + 1);
      }
    }
    if (head !== undefined) {
      taken.push(head);
      cursor = next;
      idle.clear();
    } else spent.add(next);
  }
  if (cursor !== (row.group_cursor ?? null) && cursor !== null)
    s.kind_group_cursor_set.run({ kind, group_cursor: cursor });
  return taken;
}

/** The group after `after` (by name) with queued tasks, or the ungrouped place after the last. */
function nextGroup(s: SqliteStatements, kind: string, after: string): string {
  const r = s.task_group_next.get({ kind, after }) as { group_key: string } | undefined;
  return r?.group_key ?? UNGROUPED;
}
