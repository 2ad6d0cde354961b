import {
  COUNTED_STATUSES,
  type CountedStatus,
  type KindLimitState,
  type KindStatusCounts,
  type TaskStoreDriver,
} from "@taskq/idempotency";
import { MANAGER_STALE_MS } from "taskq/app";

/** A manager as the overview shows it: its report and the leases it holds now. */
export interface ManagerView {
  readonly owner: string;
  readonly startedAt: number;
  readonly heartbeatAgeMs: number;
  /** No report for MANAGER_STALE_MS (15 s, as monitor): it has probably stopped. */
  readonly stale: boolean;
  readonly threads: number;
  readonly slots: number;
  readonly executing: number;
  /** Tasks leased to it in the store now. */
  readonly leased: number;
  /** When its latest lease runs out, ms from now; null when it holds none. */
  readonly leaseExpiresInMs: number | null;
  readonly kinds: readonly string[];
}

/** Everything the overview shows but the charts, read from the store in one go. */
export interface OverviewData {
  readonly now: number;
  readonly totals: Record<CountedStatus, number>;
  readonly byKind: readonly KindStatusCounts[];
  readonly capped: readonly CountedStatus[];
  readonly cap: number;
  readonly totalEstimate: number;
  readonly deadLetters: number;
  readonly deadLettersCapped: boolean;
  readonly oldestDueAgeMs: number | null;
  readonly managers: readonly ManagerView[];
  readonly limits: readonly KindLimitState[];
}

/** Reads the overview: bounded counts (at most `cap` tasks per status), managers, limits. */
export async function readOverview(store: TaskStoreDriver, cap: number): Promise<OverviewData> {
  const [counts, managers, holders, limits] = await Promise.all([
    store.statusCounts(cap),
    store.managers(),
    store.leaseHolders(),
    store.kindLimits(),
  ]);
  const totals = Object.fromEntries(COUNTED_STATUSES.map((s) => [s, 0])) as Record<CountedStatus, number>;
  for (const row of counts.byKind) for (const s of COUNTED_STATUSES) totals[s] += row[s];
  const held = new Map(holders.map((h) => [h.owner, h]));
  const now = counts.now;
  return {
    now,
    totals,
    byKind: counts.byKind,
    capped: counts.capped,
    cap,
    totalEstimate: counts.totalEstimate,
    deadLetters: counts.deadLetters,
    deadLettersCapped: counts.deadLettersCapped,
    oldestDueAgeMs: counts.oldestDueAgeMs,
    managers: managers.map((m) => {
      const lease = held.get(m.owner);
      return {
        owner: m.owner,
        startedAt: m.startedAt,
        heartbeatAgeMs: Math.max(0, now - m.heartbeatAt),
        stale: now - m.heartbeatAt > MANAGER_STALE_MS,
        threads: m.info.threads,
        slots: m.info.slots,
        executing: m.info.executing,
        leased: lease?.running ?? 0,
        leaseExpiresInMs: lease === undefined ? null : lease.leaseExpiresAt - now,
        kinds: m.info.kinds ?? [],
      };
    }),
    limits,
  };
}
