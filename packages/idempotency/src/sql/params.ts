// Parameters both dialects bind the same way (their queries.ts type each statement with them),
// built in one place from what the contract's calls are given.
import type { TaskSet } from "../task-list.js";
import type { KindLimits, ScheduleInput, TaskStatus } from "../types.js";

/** A page, newest first: seqs below @before, at most @limit. */
export interface PageParams {
  readonly before: number;
  readonly limit: number;
}

/** The statements of the read model's pages (listTasks, kinds, listDeadLetters), alike in both dialects. */
export interface PageStatementParams {
  task_page_of_set: PageParams & {
    readonly set: TaskSet;
    readonly cap: number;
    readonly status: TaskStatus | null;
    readonly kind: string | null;
  };
  task_page: PageParams & { readonly status: TaskStatus | null; readonly kind: string | null };
  task_page_tagged: PageParams & {
    readonly tag: string;
    readonly status: TaskStatus | null;
    readonly kind: string | null;
  };
  task_page_correlated: PageParams & {
    readonly correlation_id: string;
    readonly tag: string | null;
    readonly status: TaskStatus | null;
    readonly kind: string | null;
  };
  task_page_grouped: PageParams & {
    readonly group_key: string;
    readonly correlation_id: string | null;
    readonly tag: string | null;
    readonly status: TaskStatus | null;
    readonly kind: string | null;
  };
  task_page_failed: PageParams & { readonly kind: string | null };
  task_page_cancelled: PageParams & { readonly kind: string | null };
  task_kinds: Record<never, never>;
  dead_letter_page_open: PageParams;
  dead_letter_page_all: PageParams;
  dead_letter_page_open_of_kind: PageParams & { readonly kind: string };
  dead_letter_page_all_of_kind: PageParams & { readonly kind: string };
}

/** A schedule's row as schedule_put stores it. */
export interface ScheduleParams {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string | null;
  readonly kind: string;
  readonly payload: string;
  readonly options: string;
  readonly next_run_at: number;
}

/** A kind's limits as kind_limit_put stores them. */
export interface KindLimitParams {
  readonly kind: string;
  readonly concurrency: number | null;
  readonly rate_limit: number | null;
  readonly rate_interval_ms: number | null;
  readonly per_group_concurrency: number | null;
}

/** schedule_put's parameters from a schedule checked by validate.checkSchedule (its JSON texts). */
export function scheduleParams(
  input: ScheduleInput,
  json: { readonly payload: string; readonly options: string },
): ScheduleParams {
  return {
    name: input.name,
    cron: input.cron,
    timezone: input.timezone,
    kind: input.kind,
    payload: json.payload,
    options: json.options,
    next_run_at: input.nextRunAt,
  };
}

/** kind_limit_put's parameters. */
export function kindLimitParams(kind: string, limits: KindLimits): KindLimitParams {
  return {
    kind,
    concurrency: limits.concurrency ?? null,
    rate_limit: limits.rate?.limit ?? null,
    rate_interval_ms: limits.rate?.intervalMs ?? null,
    per_group_concurrency: limits.perGroup?.concurrency ?? null,
  };
}
