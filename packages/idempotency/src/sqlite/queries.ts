// The SQLite driver's statements (queries.sql), prepared once per connection and bound by name:
// `SqliteParams` maps each statement to the object its `@name` parameters are read from. The
// names are compiled to `?` once at load, and each statement is called with its values as
// positional arguments (see `caller`).

import type Database from "better-sqlite3";
import type { BreakerParams } from "../breaker.js";
import type { Row } from "../record.js";
import type { Agree, BindingMismatch } from "../sql/binding-check.js";
import type { SqliteQueryFile } from "../sql/generated/sqlite-queries.js";
import type { KindLimitParams, PageStatementParams, ScheduleParams } from "../sql/params.js";
import { type CompiledStatement, compileNamed, parseQueryFile } from "../sql/query-file.js";
import text from "./queries.sql";

interface Now {
  readonly now: number;
}
interface Guard {
  readonly seq: number;
  readonly version: number;
}
interface Claim extends Now {
  readonly id: string;
  readonly idempotency_key: string;
  readonly kind: string;
  readonly payload: string;
  readonly max_attempts: number;
  readonly priority: number;
  readonly next_run_at: number;
  /** A JSON array, or null without tags (the task_tags_insert trigger indexes them). */
  readonly tags: string | null;
  /** The caller's correlation id, or null (migration 017). */
  readonly correlation_id: string | null;
  /** The enqueuing span's W3C trace context as JSON, or null (migration 017). */
  readonly trace_context: string | null;
  /** Its group, or null (migration 019). */
  readonly group_key: string | null;
}
interface Lease {
  readonly owner: string;
  readonly lease_expires_at: number;
}
interface Failure {
  readonly error_class: string;
  readonly error_message: string;
}
type None = Record<never, never>;
/** A span of finish times, [lo, hi). */
interface Between {
  readonly lo: number;
  readonly hi: number;
}

/** Each statement of queries.sql and the parameters it binds. */
export interface SqliteParams extends PageStatementParams {
  task_claim: Claim;
  /** Due at once (@now): no next_run_at. */
  task_claim_running: Omit<Claim, "next_run_at"> & Lease;
  task_get: { readonly seq: number };
  task_get_by_key: { readonly kind: string; readonly idempotency_key: string };
  task_list_by_id: { readonly id: string };
  task_start: Now & Guard & Lease;
  task_succeed: Now &
    Guard & {
      readonly output_key: string | null;
      readonly etag: string | null;
      readonly result: string | null;
    };
  task_succeed_parent: SqliteParams["task_succeed"];
  task_retry: Now & Guard & Failure & { readonly next_run_at: number };
  task_fail: Now & Guard & Failure;
  dead_letter_insert: Now & { readonly seq: number };
  task_release: Now & Guard;
  task_attempt_insert: Now &
    Guard & {
      readonly outcome: "retried" | "failed" | "released" | "cancelled";
      readonly error_class: string | null;
      readonly error_message: string | null;
      readonly error_stack: string | null;
    };
  /** `owner` null: the tasks whose lease expired; else that owner's running tasks. */
  task_attempt_insert_lost: Now & { readonly owner: string | null };
  task_attempt_list: { readonly task_seq: number };
  task_report_lease: {
    readonly kind: string;
    readonly key: string;
    readonly owner: string;
    readonly attempt: number;
  };
  task_progress_set: { readonly seq: number; readonly progress: string };
  task_log_last: { readonly task_seq: number; readonly cap: number };
  task_log_insert: {
    readonly task_seq: number;
    readonly seq: number;
    readonly at: number;
    readonly attempt: number;
    readonly line: string;
  };
  task_log_dropped: {
    readonly task_seq: number;
    readonly seq: number;
    readonly at: number;
    readonly attempt: number;
    /** How many, as text (the marker's line). */
    readonly dropped: string;
  };
  task_log_list: { readonly task_seq: number };
  task_log_prune: { readonly cutoff: number; readonly limit: number };
  task_log_purge: { readonly seq: number };
  task_attempt_prune: { readonly cutoff: number; readonly limit: number };
  task_attempt_purge: { readonly seq: number };
  /** A template (takeStatement): `:per_kind` is task_take_kind once per kind. */
  task_take: Now & Lease & { readonly limit: number };
  /** A template: one kind's part of task_take. */
  task_take_kind: Now & { readonly kind: string; readonly kind_limit: number };
  task_queued_kinds: None;
  task_group_walk: Now & { readonly kind: string; readonly after: string; readonly limit: number };
  task_take_seqs: Now & Lease & { readonly seqs: string };
  task_group_take_head: Now & Lease & { readonly kind: string; readonly group_key: string };
  task_group_take_ungrouped: Now & Lease & { readonly kind: string };
  kind_group_cursor_set: { readonly kind: string; readonly group_cursor: string };
  task_next_due: { readonly kind: string; readonly waiting_at: number };
  /** `owner` null: the tasks whose lease expired; else that owner's running tasks. */
  task_reclaim: Now & { readonly owner: string | null };
  /** `owner` null: the tasks whose lease expired; else that owner's running tasks. */
  dead_letter_insert_abandoned: Now & { readonly owner: string | null };
  task_running_owners: None;
  task_renew_leases: Lease;
  dead_letter_insert_invalid: Now & Failure & { readonly task_id: string; readonly payload: string | null };
  task_redrive: Now & { readonly seq: number };
  dead_letter_mark_redriven: Now & { readonly task_seq: number };
  task_count_succeeded_since: { readonly since: number };
  lease_holders: None;
  task_tags_insert: { readonly seq: number; readonly tags: string };
  task_tags_prune: { readonly cutoff: number; readonly limit: number };
  task_tags_purge: { readonly seq: number };
  dead_letter_prune: { readonly cutoff: number; readonly limit: number };
  task_prune: { readonly cutoff: number; readonly limit: number };
  dead_letter_old_tasks: { readonly cutoff: number };
  dead_letter_purge: { readonly cutoff: number };
  task_purge_failed: { readonly seq: number };
  maintenance_try_run: Now & { readonly name: string; readonly owner: string; readonly every_ms: number };
  worker_report: Now & { readonly owner: string; readonly info: string };
  worker_remove: { readonly owner: string };
  worker_forget_dead: Now & { readonly stale_ms: number };
  worker_list: None;
  task_cancel_queued: Now & Guard;
  task_request_cancel: Now & Guard;
  task_list_cancel_requested: { readonly seqs: string };
  task_cancel_running: Now & Guard;
  schedule_put: Now & ScheduleParams;
  schedule_remove: { readonly name: string };
  schedule_get: { readonly name: string };
  schedule_list: None;
  schedule_set_paused: Now & {
    readonly name: string;
    readonly paused: number;
    readonly next_run_at: number | null;
  };
  schedule_list_due: Now & { readonly limit: number };
  schedule_advance: Now & {
    readonly name: string;
    readonly expected: number;
    readonly next_run_at: number;
    readonly fired_at: number;
  };
  clock_now: Now;
  kind_limit_list: None;
  task_count_running_of_kind: { readonly kind: string };
  kind_limit_put: Now & KindLimitParams;
  kind_limit_remove: { readonly kind: string };
  kind_limit_clear: { readonly kind: string };
  kind_pause: Now & { readonly kind: string };
  kind_paused_at: { readonly kind: string };
  kind_resume: { readonly kind: string };
  kind_resume_gone: { readonly kind: string };
  kind_breaker_put: Now & BreakerParams & { readonly kind: string };
  kind_breaker_remove: { readonly kind: string };
  kind_breaker_close: Now & { readonly kind: string; readonly probe_seq: number | null };
  kind_breaker_of_task: { readonly seq: number };
  kind_breaker_set_state: {
    readonly kind: string;
    readonly breaker_window_start: number;
    readonly breaker_count: number;
    readonly breaker_attempts: number;
    readonly breaker_opened_at: number | null;
    readonly breaker_probe_seq: number | null;
  };
  kind_limit_set_window: {
    readonly kind: string;
    readonly window_start: number;
    readonly window_count: number;
  };
  task_edge_insert: { readonly parent_seq: number; readonly child_seq: number; readonly run_anyway: number };
  task_mark_parent: { readonly seq: number };
  task_flow_file: Now & {
    readonly seq: number;
    readonly waiting_for: number;
    readonly waiting_at: number;
    readonly error_message: string | null;
  };
  task_edges_of_parent: { readonly seq: number };
  task_flow_count_done: Now & { readonly seq: number };
  task_flow_cancel_waiting: Now & { readonly seq: number; readonly error_message: string };
  task_running_parent: { readonly seq: number; readonly version: number };
  task_parents_of: { readonly seq: number };
  task_children_of: { readonly seq: number };
  task_edges_prune: { readonly cutoff: number; readonly limit: number };
  task_edges_purge: { readonly seq: number };
  task_count_by_kind_capped: { readonly cap: number };
  task_count_queued_of_kind: Now & {
    readonly kind: string;
    readonly due_cap: number;
    readonly later_cap: number;
    readonly waiting_at: number;
  };
  dead_letter_count_open_capped: { readonly cap: number };
  task_seq_range: None;
  dead_letter_count_since: { readonly since: number };
  task_list_succeeded_since: { readonly since: number; readonly limit: number };
  task_count_succeeded_between: Between & { readonly cap: number };
  dead_letter_count_between: Between & { readonly cap: number };
  task_list_succeeded_between: Between & { readonly limit: number };
  task_list_by_seqs: { readonly seqs: string };
}

type Mismatch = BindingMismatch<SqliteQueryFile, SqliteParams, "sqlite/queries.sql", "SqliteParams">;

/**
 * Fails tsc, naming the statement and the parameter, wherever queries.sql (as generated into
 * sql/generated/sqlite-queries.ts) and SqliteParams disagree: a statement without an entry, an entry
 * without a statement, a parameter missing, extra or misspelled on either side.
 */
export type SqliteParamsAgree = [
  Agree<Mismatch["statement"]>,
  Agree<Mismatch["entry"]>,
  Agree<Mismatch["bound"]>,
  Agree<Mismatch["unbound"]>,
];

export type SqliteQueryName = keyof SqliteParams;

/** Statements that are templates, completed per call shape (takeStatement), not prepared as they are. */
type TemplateName = "task_take" | "task_take_kind";
const TEMPLATES: ReadonlySet<string> = new Set<TemplateName>(["task_take", "task_take_kind"]);

/** The arguments of a statement: its params object, or none when it takes no parameter. */
type Args<P> = [keyof P] extends [never] ? [] : [params: P];

/** A prepared statement whose `run`/`get`/`all` take its params object, type-checked by name. */
export interface Bound<P> {
  run(...params: Args<P>): Database.RunResult;
  get(...params: Args<P>): unknown;
  all(...params: Args<P>): unknown[];
}

export type SqliteStatements = {
  readonly [N in Exclude<SqliteQueryName, TemplateName>]: Bound<SqliteParams[N]>;
};

/** The statements of queries.sql, compiled once per process. */
const RAW = parseQueryFile(text, "sqlite/queries.sql");

/** Keyed by statement name, as SqliteParams is: see SqliteParamsAgree. */
export const SQLITE_QUERIES = Object.fromEntries(
  Object.entries(RAW).map(([name, sql]) => [name, compileNamed(sql, "?")]),
) as Readonly<Record<SqliteQueryName, CompiledStatement>>;

type Method = "run" | "get" | "all";

/**
 * A function that calls a prepared statement's `method` with the values of its params object as
 * positional arguments, in the order of `names`: generated once per statement (the names are
 * identifiers, checked by the compiler), it binds as fast as hand-written positional arguments.
 * Building an array and spreading it cost ~0.15 µs a statement (3% of a task on the claim path);
 * better-sqlite3's own `@name` binding ~0.5 µs.
 */
function caller(
  names: readonly string[],
  method: Method,
): (statement: Database.Statement, params?: object) => unknown {
  const args = names.map((name) => `p.${name}`).join(", ");
  return new Function("s", "p", `return s.${method}(${args});`) as never;
}

/** Prepares every statement of queries.sql on a connection, each bound from its params object. */
export function prepareStatements(db: Database.Database): SqliteStatements {
  return Object.fromEntries(
    Object.entries(SQLITE_QUERIES)
      .filter(([name]) => !TEMPLATES.has(name))
      .map(([name, compiled]) => {
        const statement = db.prepare(compiled.text);
        const [run, get, all] = (["run", "get", "all"] as const).map((m) => caller(compiled.names, m));
        return [
          name,
          {
            run: (params?: object) => run!(statement, params),
            get: (params?: object) => get!(statement, params),
            all: (params?: object) => all!(statement, params),
          },
        ];
      }),
  ) as unknown as SqliteStatements;
}

/** task_take's parameters for `kinds`: each kind bound as `@kind_<i>`, its limit as `@kind_<i>_limit`. */
export type TakeParams = SqliteParams["task_take"] & {
  readonly [kind: `kind_${number}`]: string;
  readonly [limit: `kind_${number}_limit`]: number;
};

/**
 * task_take for `count` kinds: the template with one limited subquery per kind (`@kind_0` ...),
 * prepared on `db`. The driver caches one per count.
 */
export function takeStatement(db: Database.Database, count: number): (params: TakeParams) => Row[] {
  const part = RAW.task_take_kind as string;
  const parts = Array.from({ length: count }, (_, i) => part.replaceAll("@kind", `@kind_${i}`));
  const compiled = compileNamed(
    (RAW.task_take as string).replace(":per_kind", parts.join("\nUNION ALL ")),
    "?",
  );
  const statement = db.prepare(compiled.text);
  const all = caller(compiled.names, "all");
  return (params) => all(statement, params) as Row[];
}
