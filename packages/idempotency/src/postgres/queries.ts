// The PostgreSQL driver's statements (queries.sql), compiled once from `@name` to `$1..$n` and
// bound by name: `PgParams` maps each statement to the object its parameters are read from.

import type { BreakerParams } from "../breaker.js";
import type { Agree, BindingMismatch } from "../sql/binding-check.js";
import type { PgQueryFile } from "../sql/generated/postgres-queries.js";
import type { KindLimitParams, PageStatementParams, ScheduleParams } from "../sql/params.js";
import { type CompiledStatement, compileNamed, parseQueryFile } from "../sql/query-file.js";
import type { CheckedClaim } from "../validate.js";
import text from "./queries.sql";

/** The clock of a statement: epoch ms injected by tests, or null for the database's `now()`. */
interface Now {
  readonly now: number | null;
}
interface Lease {
  readonly owner: string;
  readonly lease_ms: number;
}
type None = Record<never, never>;

/** The claim columns the turn and claimWith both bind (claimWith has no `start`: it stores queued tasks). */
export type ClaimColumns = Pick<
  TurnParams,
  | "claim_id"
  | "claim_key"
  | "claim_kind"
  | "claim_payload"
  | "claim_max_attempts"
  | "claim_priority"
  | "claim_run_at"
  | "claim_delay_ms"
  | "claim_tags"
  | "claim_correlation_id"
  | "claim_trace_context"
  | "claim_group"
>;

/**
 * Checked claims as the statements' arrays, one per column, in the claims' order: the one place a
 * claim's field becomes a parameter (a new column of the tasks is added here once, for the turn
 * and claimWith both).
 */
export function claimColumns(claims: readonly CheckedClaim[]): ClaimColumns {
  return {
    claim_id: claims.map((c) => c.id),
    claim_key: claims.map((c) => c.idempotencyKey),
    claim_kind: claims.map((c) => c.kind),
    claim_payload: claims.map((c) => c.payload),
    claim_max_attempts: claims.map((c) => c.maxAttempts),
    claim_priority: claims.map((c) => c.priority),
    claim_run_at: claims.map((c) => c.runAt),
    claim_delay_ms: claims.map((c) => c.delayMs),
    claim_tags: claims.map((c) => c.tags),
    claim_correlation_id: claims.map((c) => c.correlationId),
    claim_trace_context: claims.map((c) => c.traceContext),
    claim_group: claims.map((c) => c.group),
  };
}

/** The turn statement's parameters: one array per column of each call, index-aligned. */
export interface TurnParams extends Now, Lease {
  readonly claim_id: readonly string[];
  readonly claim_key: readonly string[];
  readonly claim_kind: readonly string[];
  readonly claim_payload: readonly string[];
  readonly claim_max_attempts: readonly number[];
  readonly claim_start: readonly boolean[];
  readonly claim_priority: readonly number[];
  /** Epoch ms, or null: the claim's delay from the database's clock. */
  readonly claim_run_at: readonly (number | null)[];
  readonly claim_delay_ms: readonly number[];
  /** Each claim's tags as a JSON array, or null (the task_tags_insert trigger indexes them). */
  readonly claim_tags: readonly (string | null)[];
  /** Each claim's correlation id, or null (migration 017). */
  readonly claim_correlation_id: readonly (string | null)[];
  /** Each claim's trace context as JSON, or null (migration 017). */
  readonly claim_trace_context: readonly (string | null)[];
  /** Each claim's group, or null (migration 019). */
  readonly claim_group: readonly (string | null)[];
  readonly start_seq: readonly number[];
  readonly start_version: readonly number[];
  readonly succeed_seq: readonly number[];
  readonly succeed_version: readonly number[];
  readonly succeed_output_key: readonly (string | null)[];
  readonly succeed_etag: readonly (string | null)[];
  readonly succeed_result: readonly (string | null)[];
  readonly retry_seq: readonly number[];
  readonly retry_version: readonly number[];
  readonly retry_delay_ms: readonly number[];
  readonly retry_error_class: readonly string[];
  readonly retry_error_message: readonly string[];
  readonly retry_error_stack: readonly (string | null)[];
  readonly fail_seq: readonly number[];
  readonly fail_version: readonly number[];
  readonly fail_error_class: readonly string[];
  readonly fail_error_message: readonly string[];
  readonly fail_error_stack: readonly (string | null)[];
  /** Whether each failure would have been retried (what a breaker counts by default). */
  readonly fail_retryable: readonly boolean[];
  readonly release_seq: readonly number[];
  readonly release_version: readonly number[];
  /** The LISTEN/NOTIFY channel woken when a task became queued. */
  readonly channel: string;
  /** The channel woken (once per turn) when the turn finished a task. */
  readonly done_channel: string;
}

/** A turn that may change breakers (task_turn_breakers): a failure, a probe or a counted success in it. */
export interface TurnBreakerParams extends TurnParams {
  /** The succeeded tasks this store let through as its breakers' probes: each closes its breaker. */
  readonly probe_seq: readonly number[];
  /** The succeeded tasks this store took of kinds whose breaker has a ratio: each counts as an attempt. */
  readonly counted_seq: readonly number[];
}

/** Each statement of queries.sql and the parameters it binds. */
export interface PgParams extends PageStatementParams {
  task_turn: TurnParams;
  task_turn_breakers: TurnBreakerParams;
  /** A turn of successes only (the batcher's most common turn behind a backlog). */
  task_turn_succeeded: Now &
    Pick<
      TurnParams,
      | "succeed_seq"
      | "succeed_version"
      | "succeed_output_key"
      | "succeed_etag"
      | "succeed_result"
      | "done_channel"
    >;
  /** The records that held claimed keys, as JSON (`record`): see claim-answers.ts. */
  task_list_by_keys: { readonly kinds: readonly string[]; readonly keys: readonly string[] };
  /** `owner` null: the tasks whose lease expired; else that owner's running tasks. */
  task_reclaim: Now & { readonly owner: string | null; readonly done_channel: string };
  /** `kinds` null: every kind. */
  task_take: Now &
    Lease & {
      readonly limit: number;
      readonly kinds: readonly string[] | null;
      /** Kinds taken with an allowance below `limit` (limits.ts), and those allowances. */
      readonly allow_kinds: readonly string[];
      readonly allow_n: readonly number[];
      /** Kinds whose scan starts after a position (the last take's end), and those positions. */
      readonly from_kinds: readonly string[];
      readonly from_rank: readonly number[];
      readonly from_seq: readonly number[];
      /** Take nothing when a kind served has a row in kind_limits (the caller read none for them). */
      readonly skip_limited: boolean;
    };
  /** A grouped kind's take (group rotation, §5.3): see the statement. */
  task_take_groups: Now &
    Lease & {
      readonly kind: string;
      readonly limit: number;
      readonly cap: number;
      readonly cursor: string | null;
      readonly max_places: number;
    };
  task_next_due: Now & { readonly kinds: readonly string[] | null };
  task_running_owners: None;
  task_renew_leases: Now & Lease & { readonly seqs: readonly number[] };
  task_get: { readonly seq: number };
  task_get_by_key: { readonly kind: string; readonly idempotency_key: string };
  task_list_by_id: { readonly id: string };
  dead_letter_insert_invalid: Now & {
    readonly task_id: string;
    readonly payload: string | null;
    readonly error_class: string;
    readonly error_message: string;
  };
  task_redrive: Now & { readonly task_seqs: readonly number[] };
  task_prune: Now & { readonly older_than_ms: number; readonly limit: number };
  dead_letter_purge: Now & { readonly older_than_ms: number };
  lease_holders: None;
  maintenance_try_run: Now & { readonly name: string; readonly owner: string; readonly every_ms: number };
  worker_report: Now & { readonly owner: string; readonly info: string };
  worker_remove: { readonly owner: string };
  worker_forget_dead: Now & { readonly stale_ms: number };
  worker_list: None;
  notify_work: { readonly channel: string };
  task_cancel: Now & { readonly seq: number; readonly cancel_channel: string; readonly done_channel: string };
  task_list_cancel_requested: { readonly seqs: readonly number[] };
  task_cancel_running: Now & {
    readonly seq: number;
    readonly version: number;
    readonly done_channel: string;
  };
  /** The turn's claim arrays (no `start`: a transactional enqueue stores tasks as queued). */
  task_claim_with: Now & ClaimColumns & Pick<TurnParams, "channel">;
  schedule_put: Now & ScheduleParams;
  schedule_remove: { readonly name: string };
  schedule_get: { readonly name: string };
  schedule_list: None;
  schedule_set_paused: Now & {
    readonly name: string;
    readonly paused: boolean;
    readonly next_run_at: number | null;
  };
  schedule_list_due: Now & { readonly limit: number };
  schedule_fire: Now & {
    readonly name: string;
    readonly expected: number;
    readonly next_run_at: number;
    readonly fired_at: number;
    readonly id: string;
    readonly idempotency_key: string;
    readonly kind: string;
    readonly payload: string;
    readonly max_attempts: number;
    readonly priority: number;
    readonly channel: string;
  };
  clock_now: Now;
  /** `kinds` null: every kind with limits. */
  kind_limit_lock: Now & { readonly kinds: readonly string[] | null };
  kind_limit_list: Now;
  kind_limit_kinds: None;
  task_count_running_by_kind: { readonly kinds: readonly string[] };
  kind_limit_set_windows: {
    readonly kinds: readonly string[];
    readonly window_start: readonly number[];
    readonly window_count: readonly number[];
  };
  kind_limit_put: Now & KindLimitParams;
  kind_limit_remove: { readonly kind: string };
  kind_pause: Now & { readonly kind: string };
  task_attempt_list: { readonly task_seq: number };
  /** A flush's reports, report i at index i - 1 of each array; line j's report is line_of[j]. */
  task_report: {
    readonly kinds: readonly string[];
    readonly keys: readonly string[];
    readonly attempts: readonly number[];
    /** JSON text, or null to leave it. */
    readonly progress: readonly (string | null)[];
    readonly dropped: readonly number[];
    readonly owner: string;
    readonly line_of: readonly number[];
    readonly lines: readonly string[];
    readonly ats: readonly number[];
    readonly cap: number;
    readonly now_ms: number;
  };
  task_log_list: { readonly task_seq: number };
  kind_resume: { readonly kind: string };
  kind_breaker_put: Now & BreakerParams & { readonly kind: string };
  kind_breaker_remove: { readonly kind: string };
  kind_breaker_reset: Now & { readonly kind: string };
  kind_breaker_probes: {
    readonly kinds: readonly string[];
    readonly seqs: readonly number[];
  };
  task_status_counts: Now & { readonly cap: number };
  task_recent_finished: Now & { readonly since: number; readonly limit: number };
  task_finished_history: Now & {
    readonly buckets: number;
    readonly bucket_ms: number;
    readonly cap: number;
    readonly samples: number;
  };
  task_list_by_seqs: { readonly seqs: readonly number[] };
  task_state_check: None;
  task_flow_lock_parents: { readonly seqs: readonly number[]; readonly ids: readonly string[] };
  task_flow_link: Now & {
    readonly edge_parent: readonly number[];
    readonly edge_child: readonly number[];
    readonly edge_run_anyway: readonly boolean[];
    readonly child_seq: readonly number[];
    readonly child_waiting: readonly number[];
    readonly child_reason: readonly (string | null)[];
  };
  task_parents_of: { readonly seqs: readonly number[] };
  task_children_of: { readonly seq: number };
}

type Mismatch = BindingMismatch<PgQueryFile, PgParams, "postgres/queries.sql", "PgParams">;

/**
 * Fails tsc, naming the statement and the parameter, wherever queries.sql (as generated into
 * sql/generated/postgres-queries.ts) and PgParams disagree: a statement without an entry, an entry
 * without a statement, a parameter missing, extra or misspelled on either side.
 */
export type PgParamsAgree = [
  Agree<Mismatch["statement"]>,
  Agree<Mismatch["entry"]>,
  Agree<Mismatch["bound"]>,
  Agree<Mismatch["unbound"]>,
];

export type PgQueryName = keyof PgParams;

type Compiled = Readonly<Record<PgQueryName, CompiledStatement>>;

/** Each statement of queries.sql compiled, `:schema.` still in it. Keyed by name: see PgParamsAgree. */
const COMPILED = Object.fromEntries(
  Object.entries(parseQueryFile(text, "postgres/queries.sql")).map(([name, sql]) => [
    name,
    compileNamed(sql),
  ]),
) as Compiled;

/** `statement` with `:schema.` replaced by `schema` (`"name".`, or nothing). */
const withSchema = (statement: CompiledStatement, schema: string): CompiledStatement => ({
  text: statement.text.replaceAll(":schema.", schema),
  names: statement.names,
});

/**
 * The statements of queries.sql as the store's own connections run them, compiled once per
 * process: `:schema.` dropped (their search_path is the store's).
 */
export const PG_QUERIES = Object.fromEntries(
  Object.entries(COMPILED).map(([name, statement]) => [name, withSchema(statement, "")]),
) as Compiled;

/**
 * Statement `name` for a connection whose search_path is not the store's (claimWith's, the
 * application's own): every `:schema.` is the store's `schema`, a checked identifier, quoted.
 */
export function pgQueryIn(schema: string, name: PgQueryName): CompiledStatement {
  return withSchema(COMPILED[name], `"${schema}".`);
}
