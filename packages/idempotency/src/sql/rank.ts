// The queue rank, written once for both dialects: a statement writes `:rank_at(<run time>,
// <priority>)` (queries.sql), and parseQueryFile puts this expression in its place.
import { PRIORITY_AGING_MS } from "../defaults.js";

/**
 * A task's rank in the queue, as SQL over two SQL expressions: its run time less its priority's
 * worth of waiting, `runAt - priority * PRIORITY_AGING_MS` (see defaults.ts; migration 008). In
 * 64-bit integers in both dialects: PostgreSQL's `priority` is an `integer`, which the product
 * would overflow. Every statement that sets `next_run_at` sets `rank_at` to this.
 */
export function rankAtSql(runAt: string, priority: string): string {
  return `(${runAt}) - CAST(${priority} AS bigint) * ${PRIORITY_AGING_MS}`;
}
