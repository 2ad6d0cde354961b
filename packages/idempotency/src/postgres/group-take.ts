// A grouped kind's take on PostgreSQL (docs/architecture.md §5.3): task_take_groups, in the
// limited take's transaction, after kind_limit_lock locked the kind's row (one take of the kind
// at a time across the fleet, so each group's lease count is read and taken against alone).
// A statement walks the rotation until it found `limit` + 1 places with room (groups under their
// cap, and the ungrouped place), passing over the groups at their cap (at most one cycle), and
// gives each a share; when a place gave its whole share and the take came back short, another
// round takes the rest (a few at most). Each round moves the kind's cursor itself (in the statement).
import type { GroupTakeLease, KindLimitRow } from "../limits.js";
import type { TxQuery } from "./connection.js";
import type { TakenRow } from "./take-planner.js";

/** Rounds of task_take_groups in one take, at most. */
const MAX_ROUNDS = 4;

/**
 * Up to `limit` due tasks of a grouped kind (`row`: its locked kind_limits row), in rotation
 * between its groups from the row's cursor, within each group's cap; the cursor left (by the
 * statement) at the last group drawn from. Rows in the rotation's order.
 */
export async function takeGroups(
  query: TxQuery,
  row: KindLimitRow,
  limit: number,
  lease: GroupTakeLease,
): Promise<TakenRow[]> {
  const taken: TakenRow[] = [];
  let cursor = row.group_cursor ?? null;
  for (let round = 0; round < MAX_ROUNDS && taken.length < limit; round++) {
    const want = limit - taken.length;
    const rows = (
      await query<"task_take_groups", TakenRow & { place_full: boolean }>("task_take_groups", {
        now: lease.now,
        owner: lease.owner,
        lease_ms: lease.leaseMs,
        kind: row.kind,
        limit: want,
        cap: row.per_group_concurrency as number,
        cursor,
        // places with room to walk to: the place of the tasks without a group is one of them
        max_places: want + 1,
      })
    ).rows;
    if (rows.length === 0) break;
    taken.push(...rows);
    // the statement's own rule (its CTE `moved`): the group of the last row, '' for none
    cursor = (rows.at(-1) as TakenRow).group_key ?? "";
    // short, and no place gave all it was allowed: nothing more is due within the caps
    if (rows.length >= want || !rows.some((r) => r.place_full)) break;
  }
  return taken;
}
