-- The PostgreSQL driver's statements, bound by name: `@name` parameters are compiled to `$1..$n`
-- once at load (sql/query-file.ts) and bound from a params object typed per statement in
-- queries.ts (PgParams): to add a column to a task, change the statement here and its params
-- interface there. No statement names a schema: every connection's search_path is the store's.
-- `:schema.` before a table is dropped for those connections and replaced by the store's quoted
-- schema for the application's (claimWith's statements run there). A `-- fragment:` block is SQL
-- that statements share, written `:<fragment>` where it goes; `:rank_at(<run time>, <priority>)`
-- is a task's queue rank (sql/rank.ts): both are filled in when the file is parsed.
--
-- Times are epoch ms (bigint). Every statement that needs the time takes `@now`: NULL for the
-- database's own clock (`now()`, the default: leases are judged by one clock for every node), or
-- an epoch-ms value injected by tests; `clock.t` is the time it resolves to. Batched transitions
-- take arrays and join them with `unnest`, so one statement (one round trip, one commit) carries
-- every call of an event-loop turn. Statements that do the same as one of SQLite's have its name.

-- The one insert of new tasks, `c AS (:insert_tasks)` in task_turn, task_claim_with and
-- schedule_fire: the rows of the statement's `claims` (id, key, kind, payload, max_attempts,
-- priority, run_at (NULL: delay_ms from the clock), delay_ms, ord (the calls' order), start
-- (running at once, its first attempt counted, leased to `owner` for `lease_ms`), owner,
-- lease_ms), due at run_at and ranked by their priority from then. Numbered in the calls' order
-- (the seqs are drawn in a subquery of its own, sorted by it, where a volatile expression is
-- computed after the sort and the subquery is never merged into the one above), inserted in key
-- order (bytewise, so two statements lock keys in one order whatever the database's collation),
-- the first call of a key twice in one statement first (it is the one answered `created`); a key
-- held already is skipped.
-- fragment: insert_tasks
INSERT INTO :schema.tasks (seq, id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at,
  updated_at, next_run_at, priority, rank_at, started_at, lease_owner, lease_expires_at, version, tags,
  correlation_id, trace_context, group_key)
OVERRIDING SYSTEM VALUE
SELECT u.seq, u.id, u.key, u.kind, u.payload,
  CASE WHEN u.start THEN 'running' ELSE 'queued' END, CASE WHEN u.start THEN 1 ELSE 0 END,
  u.max_attempts, clock.t, clock.t, u.due, u.priority, :rank_at(u.due, u.priority),
  CASE WHEN u.start THEN clock.t END, CASE WHEN u.start THEN u.owner END,
  CASE WHEN u.start THEN clock.t + u.lease_ms END, 0, u.tags, u.correlation_id, u.trace_context, u.group_key
FROM (SELECT nextval(':schema.tasks_seq_seq'::regclass) AS seq, v.*, COALESCE(v.run_at, clock.t + v.delay_ms) AS due
  FROM claims v, clock ORDER BY v.ord) AS u, clock
ORDER BY u.kind COLLATE "C", u.key COLLATE "C", u.ord
ON CONFLICT (kind, idempotency_key) DO NOTHING
RETURNING seq, kind, idempotency_key, version, status, attempts, rank_at, next_run_at, priority, lease_owner,
  lease_expires_at, group_key

-- What `c` (insert_tasks) inserted, filed in its state's table (docs/architecture.md §4.2): a
-- queued task's row in task_ready, a started one's lease in task_leases. Two CTEs, written
-- `c AS (:insert_tasks), :file_new_tasks`.
-- fragment: file_new_tasks
ready_new AS (
    INSERT INTO :schema.task_ready (seq, kind, rank_at, next_run_at, priority, group_key)
    SELECT seq, kind, rank_at, next_run_at, priority, group_key FROM c WHERE status = 'queued'),
  leased_new AS (
    INSERT INTO :schema.task_leases (seq, kind, owner, expires_at, group_key)
    SELECT seq, kind, lease_owner, lease_expires_at, group_key FROM c WHERE status = 'running')

-- One statement per event-loop turn carries every batched call: claims and the five transitions
-- as data-modifying CTEs over `unnest` arrays (one round trip, one commit). The calls of one turn
-- never touch the same row twice (each needs the version the previous call on that task
-- returned); when a buggy caller sends two on one row, one wins and the other is refused as
-- stale. A NOTIFY goes out on @channel, on commit, when any task became queued. Each transition
-- finds its rows by primary key (see below). Claims are inserted by insert_tasks (above).
--
-- Since migration 013 a task's state is also the row it has in task_ready (queued), task_leases
-- (running) or task_done (finished): each statement that changes a status moves that row in the
-- same statement (a transition out of `running` deletes the lease and files the task as queued
-- or done, in `moved` below). Locks are taken in one order everywhere: a ready row before its
-- task (take, start, cancel), a task before its lease or done row (every other transition).
-- A statement that finds tasks by seq tests their status as `(status = 'x') IS TRUE` (written when
-- the task rows had partial indexes by status, which a plain `status = 'x'` let the planner pick:
-- draining 40,000 tasks, each of the turn's CTEs read 23,000 dead entries of tasks_running).
-- Each transition joins its calls' arrays to the tasks by seq alone: the generic plan is a nested
-- loop, one probe of the primary key a call (an empty array costs about 0.1 ms for the whole turn).
-- (Before the status tests became `IS TRUE`, a join alone let the planner scan every running task.)
-- With `t.seq = ANY(@seqs)` as well it was a bitmap scan, then every task found compared with
-- every call (32 by 32 in a full turn): 11% slower draining 100,000.
-- fragment: turn_ctes
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  -- the claims in the order the calls were made (the arrays' order); one that starts is leased
  -- to @owner
  claims AS (
    SELECT v.*, @owner::text AS owner, @lease_ms::bigint AS lease_ms
    FROM unnest(@claim_id::text[], @claim_key::text[], @claim_kind::text[], @claim_payload::text[],
      @claim_max_attempts::int[], @claim_start::bool[], @claim_priority::int[], @claim_run_at::bigint[],
      @claim_delay_ms::bigint[], @claim_tags::text[], @claim_correlation_id::text[],
      @claim_trace_context::text[], @claim_group::text[]) WITH ORDINALITY
      AS v(id, key, kind, payload, max_attempts, start, priority, run_at, delay_ms, tags, correlation_id,
        trace_context, group_key, ord)),
  c AS (:insert_tasks), :file_new_tasks,
  -- a start deletes the task's ready row first (the token of "queued": a take that holds it is
  -- waited for, and then it is gone), then changes the task, as a take does
  unready AS (
    DELETE FROM task_ready r USING tasks t, unnest(@start_seq::bigint[], @start_version::int[]) AS u(seq, version)
    WHERE t.seq = u.seq AND t.version = u.version AND r.kind = t.kind AND r.rank_at = t.rank_at AND r.seq = t.seq
    RETURNING r.seq),
  st AS (
    UPDATE tasks t SET status = 'running', attempts = t.attempts + 1, version = t.version + 1,
      started_at = clock.t, updated_at = clock.t, lease_owner = @owner, lease_expires_at = clock.t + @lease_ms::bigint
    FROM clock WHERE t.seq = ANY(ARRAY(SELECT seq FROM unready)) AND (t.status = 'queued') IS TRUE
    RETURNING t.seq, t.version, t.attempts, t.kind, t.lease_owner, t.lease_expires_at, t.group_key),
  leased AS (
    INSERT INTO task_leases (seq, kind, owner, expires_at, group_key)
    SELECT seq, kind, lease_owner, lease_expires_at, group_key FROM st),
  su AS (:turn_succeed),
  -- a retry or a release of a task whose cancel was asked for ends it cancelled (its worker had
  -- not heard of the cancel yet): it never runs again
  re AS (
    UPDATE tasks t SET status = CASE WHEN t.cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
      finished_at = CASE WHEN t.cancel_requested_at IS NULL THEN t.finished_at ELSE clock.t END,
      next_run_at = clock.t + u.delay,
      rank_at = :rank_at(clock.t + u.delay, t.priority), error_class = u.error_class,
      error_message = u.message, updated_at = clock.t,
      lease_owner = CASE WHEN t.cancel_requested_at IS NULL THEN NULL ELSE t.lease_owner END, lease_expires_at = NULL,
      version = t.version + 1
    FROM unnest(@retry_seq::bigint[], @retry_version::int[], @retry_delay_ms::bigint[], @retry_error_class::text[],
        @retry_error_message::text[], @retry_error_stack::text[]) AS u(seq, version, delay, error_class, message, stack), clock
    WHERE t.seq = u.seq AND t.version = u.version AND (t.status = 'running') IS TRUE
    RETURNING t.seq, t.kind, t.status, t.rank_at, t.next_run_at, t.priority, t.finished_at, t.attempts, t.started_at,
      t.error_class, t.error_message, u.stack, t.group_key),
  fa AS (
    UPDATE tasks t SET status = 'failed', error_class = u.error_class, error_message = u.message,
      finished_at = clock.t, updated_at = clock.t, lease_expires_at = NULL,
      version = t.version + 1
    FROM unnest(@fail_seq::bigint[], @fail_version::int[], @fail_error_class::text[], @fail_error_message::text[],
        @fail_error_stack::text[], @fail_retryable::bool[]) AS u(seq, version, error_class, message, stack, retryable), clock
    WHERE t.seq = u.seq AND t.version = u.version AND (t.status = 'running') IS TRUE
    RETURNING t.*, u.stack, u.retryable),
  dl AS (
    INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
    SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, finished_at FROM fa),
  rl AS (
    UPDATE tasks t SET status = CASE WHEN t.cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
      finished_at = CASE WHEN t.cancel_requested_at IS NULL THEN t.finished_at ELSE clock.t END,
      updated_at = clock.t,
      lease_owner = CASE WHEN t.cancel_requested_at IS NULL THEN NULL ELSE t.lease_owner END, lease_expires_at = NULL,
      version = t.version + 1
    FROM unnest(@release_seq::bigint[], @release_version::int[]) AS u(seq, version), clock
    WHERE t.seq = u.seq AND t.version = u.version AND (t.status = 'running') IS TRUE
    RETURNING t.seq, t.kind, t.status, t.rank_at, t.next_run_at, t.priority, t.finished_at, t.attempts, t.started_at,
      t.group_key),
  -- every attempt that ended other than in success, kept (a success is the task row's own)
  tried AS (
    INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, outcome, error_class, error_message, error_stack, worker)
    SELECT seq, attempts, started_at, clock.t, CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'retried' END,
      error_class, error_message, stack, @owner FROM re, clock
    UNION ALL SELECT seq, attempts, started_at, finished_at, 'failed', error_class, error_message, stack, @owner FROM fa
    UNION ALL SELECT seq, attempts, started_at, clock.t, CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'released' END,
      NULL, NULL, NULL, @owner FROM rl, clock),
  -- the tasks that left `running`: their lease goes; each is filed in its new state's table
  moved AS (
    SELECT seq, kind, status, rank_at, next_run_at, priority, finished_at, group_key FROM su
    UNION ALL SELECT seq, kind, status, rank_at, next_run_at, priority, finished_at, group_key FROM re
    UNION ALL SELECT seq, kind, status, rank_at, next_run_at, priority, finished_at, group_key FROM fa
    UNION ALL SELECT seq, kind, status, rank_at, next_run_at, priority, finished_at, group_key FROM rl),
  :turn_left_running,
  -- whether some claim was not inserted (a duplicate): counted once, read below
  missed AS (SELECT count(*) < cardinality(@claim_key::text[]) AS yes FROM c),
  -- the records that held a claimed key already (only the keys `c` did not insert are looked up;
  -- every CTE reads the snapshot the statement started with). When `c` inserted every claim
  -- there is nothing to look up, and the one-time filter skips the set difference (for a bulk
  -- enqueue of 100,000, 145 ms of hashing both key lists).
  ex AS (
    SELECT t.* FROM tasks t
    WHERE (SELECT yes FROM missed) AND (t.kind, t.idempotency_key) IN (
      SELECT k.kind, k.key FROM unnest(@claim_kind::text[], @claim_key::text[]) AS k(kind, key)
      EXCEPT SELECT kind, idempotency_key FROM c)),
  -- at most one notification per turn that finished a task, for the callers waiting for results
  done AS (
    SELECT pg_notify(@done_channel, '') FROM (SELECT 1 FROM su UNION ALL SELECT 1 FROM fa LIMIT 1) AS finished)

-- The turn's answer: one row per call answered, and per notification sent.
-- fragment: turn_answer
-- A created claim's version is 0, and its status and attempts follow its `start`: only the seq
-- comes back. When every claim was inserted, the seqs (drawn in the calls' order) answer the calls
-- in order; otherwise each also carries its kind and key, to tell which calls were duplicates.
SELECT 'claim' AS call, seq,
  CASE WHEN (SELECT yes FROM missed) THEN kind END AS kind,
  CASE WHEN (SELECT yes FROM missed) THEN idempotency_key END AS key,
  NULL::int AS version, NULL AS status, NULL::int AS attempts, NULL::json AS record FROM c
UNION ALL SELECT 'existing', seq, kind, idempotency_key, NULL, NULL, NULL, row_to_json(ex) FROM ex
UNION ALL SELECT 'start', seq, NULL, NULL, version, NULL, attempts, NULL FROM st
UNION ALL SELECT 'succeed', seq, NULL, NULL, NULL, NULL, NULL, NULL FROM su
UNION ALL SELECT 'retry', seq, NULL, NULL, NULL, NULL, NULL, NULL FROM re
UNION ALL SELECT 'fail', seq, NULL, NULL, NULL, NULL, NULL, NULL FROM fa
UNION ALL SELECT 'release', seq, NULL, NULL, NULL, NULL, NULL, NULL FROM rl
UNION ALL SELECT 'wake', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM wake
UNION ALL SELECT 'done', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM done

-- What wakes idle workers: a task became queued (a claim that did not start, a retry, a release).
-- fragment: turn_queued
SELECT 1 FROM c WHERE status = 'queued' UNION ALL SELECT 1 FROM re UNION ALL SELECT 1 FROM rl

-- What a turn does for the tasks that left `running` (its CTE `moved`: seq, kind, status, rank_at,
-- next_run_at, priority, finished_at, group_key): their lease goes, and each is filed in its new
-- state's table. Three CTEs; the one home of it for task_turn, task_turn_breakers and
-- task_turn_succeeded.
-- fragment: turn_left_running
unleased AS (DELETE FROM task_leases WHERE seq = ANY(ARRAY(SELECT seq FROM moved))),
  requeued AS (
    INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority, group_key)
    SELECT seq, kind, rank_at, next_run_at, priority, group_key FROM moved WHERE status = 'queued'),
  finished AS (
    INSERT INTO task_done (seq, kind, status, finished_at)
    SELECT seq, kind, status, finished_at FROM moved WHERE status <> 'queued')

-- The successes of a turn (task_turn, task_turn_breakers, task_turn_succeeded): each running task
-- at the version its worker holds ends succeeded with its result. A CTE's body, written
-- `su AS (:turn_succeed)`.
-- fragment: turn_succeed
UPDATE tasks t SET status = 'succeeded', output_key = u.output_key, etag = u.etag, result = u.result,
      finished_at = clock.t, updated_at = clock.t, error_class = NULL, error_message = NULL,
      lease_expires_at = NULL, version = t.version + 1
    FROM unnest(@succeed_seq::bigint[], @succeed_version::int[], @succeed_output_key::text[],
        @succeed_etag::text[], @succeed_result::text[]) AS u(seq, version, output_key, etag, result), clock
    WHERE t.seq = u.seq AND t.version = u.version AND (t.status = 'running') IS TRUE
    RETURNING t.seq, t.kind, t.status, t.rank_at, t.next_run_at, t.priority, t.finished_at, t.group_key

-- A turn of successes only (no claim, start, retry, failure or release, nothing a breaker counts):
-- what a worker draining a backlog sends most. task_turn's success, its lease and its done row,
-- without task_turn's other parts, each planned and run on empty arrays (a turn of 64 successes:
-- 1.78 against 1.51 ms, measured on this machine with the store's generic plans). Its answer has
-- task_turn's columns.
-- name: task_turn_succeeded
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  su AS (:turn_succeed),
  moved AS (SELECT seq, kind, status, rank_at, next_run_at, priority, finished_at, group_key FROM su),
  :turn_left_running,
  done AS (SELECT pg_notify(@done_channel, '') FROM (SELECT 1 FROM su LIMIT 1) AS finished)
SELECT 'succeed' AS call, seq, NULL AS kind, NULL AS key, NULL::int AS version, NULL AS status,
  NULL::int AS attempts, NULL::json AS record FROM su
UNION ALL SELECT 'done', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM done

-- A turn (the batcher's statement) with no failed attempt, no probe and no counted success: what
-- every task of a kind without a breaker pays (task_turn_breakers is the same turn with them).
-- name: task_turn
:turn_ctes,
  wake AS (SELECT pg_notify(@channel, '') FROM (:turn_queued LIMIT 1) AS queued)
:turn_answer

-- A turn with a failed attempt, a probe's success or a success a ratio counts: task_turn, and
-- the breakers it changes.
-- name: task_turn_breakers
:turn_ctes,
  -- Circuit breakers (breaker.ts, migration 016; SQLite's breakerAfter, the same rules): a failed
  -- attempt of a kind with a breaker, and the success of a probe this store let through
  -- (@probe_seq), and with a ratio, the successes of its tasks this store took (@counted_seq),
  -- change the kind's kind_limits row, locked first in kind order as a take locks it, and read as
  -- locked (the latest committed state). A turn with none of these is task_turn, which has no
  -- breaker part: a turn of successes reads and writes nothing of the breakers.
  failed AS (
    SELECT seq, kind, error_class, true AS retryable FROM re WHERE status = 'queued'
    UNION ALL SELECT seq, kind, error_class, retryable FROM fa),
  brk AS (
    SELECT l.kind, l.breaker_failures, l.breaker_window_ms, l.breaker_errors, l.breaker_ratio,
      l.breaker_min_attempts, l.breaker_window_start, l.breaker_count, l.breaker_attempts, l.breaker_opened_at,
      l.breaker_probe_seq
    FROM kind_limits l
    WHERE l.breaker_failures IS NOT NULL AND (l.kind IN (SELECT kind FROM failed)
      OR l.breaker_probe_seq IN (SELECT seq FROM su WHERE seq = ANY(@probe_seq::bigint[]))
      OR l.kind IN (SELECT kind FROM su WHERE seq = ANY(@counted_seq::bigint[])))
    ORDER BY l.kind FOR UPDATE OF l),
  tally AS (
    SELECT b.*, f.n, f.probe_failed, f.probe_freed,
      (SELECT count(*) FROM su WHERE su.kind = b.kind AND su.seq = ANY(@counted_seq::bigint[])) AS s,
      COALESCE(b.breaker_probe_seq IN (SELECT seq FROM su WHERE seq = ANY(@probe_seq::bigint[])), false) AS probe_ok,
      clock.t < b.breaker_window_start + b.breaker_window_ms AS current
    FROM brk b, clock CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE c.counted) AS n,
        COALESCE(bool_or(c.seq = b.breaker_probe_seq AND c.counted), false) AS probe_failed,
        COALESCE(bool_or(c.seq = b.breaker_probe_seq AND NOT c.counted), false) AS probe_freed
      FROM (
        SELECT x.seq, CASE WHEN b.breaker_errors IS NULL THEN x.retryable WHEN b.breaker_errors = '*' THEN true
          ELSE x.error_class = ANY(string_to_array(b.breaker_errors, ',')) END AS counted
        FROM failed x WHERE x.kind = b.kind) c) f),
  -- closed by its probe's success; open: its probe's counted failure opens it again, its
  -- uncounted one frees the probe slot, other failures change nothing; closed: counted in the
  -- window (a new one when the last ended) with the ratio's successes, opened at the threshold or
  -- at the ratio over enough attempts, only by a turn with a counted failure (a success never
  -- opens it: SQLite's breakerAfterSuccess only counts)
  windowed AS (
    SELECT tally.*, CASE WHEN current THEN breaker_window_start ELSE clock.t END AS window_start,
      (CASE WHEN current THEN breaker_count ELSE 0 END) + n AS count,
      (CASE WHEN current THEN breaker_attempts ELSE 0 END) + n + s AS attempts
    FROM tally, clock),
  judged AS (
    SELECT kind, window_start, count, attempts, CASE WHEN probe_ok THEN 'closed'
      WHEN breaker_opened_at IS NOT NULL THEN CASE WHEN probe_failed THEN 'reopened' WHEN probe_freed THEN 'freed' END
      WHEN n = 0 AND s = 0 THEN NULL
      WHEN n = 0 THEN 'counted'
      WHEN count >= breaker_failures OR (breaker_ratio IS NOT NULL AND attempts >= breaker_min_attempts
        AND count >= breaker_ratio * attempts) THEN 'opened'
      ELSE 'counted' END AS change
    FROM windowed),
  tripped AS (
    UPDATE kind_limits l SET
      breaker_window_start = CASE WHEN j.change = 'closed' THEN clock.t
        WHEN j.change IN ('opened', 'counted') THEN j.window_start ELSE l.breaker_window_start END,
      breaker_count = CASE WHEN j.change = 'closed' THEN 0
        WHEN j.change IN ('opened', 'counted') THEN j.count ELSE l.breaker_count END,
      breaker_attempts = CASE WHEN j.change = 'closed' THEN 0
        WHEN j.change IN ('opened', 'counted') THEN j.attempts ELSE l.breaker_attempts END,
      breaker_opened_at = CASE WHEN j.change IN ('opened', 'reopened') THEN clock.t
        WHEN j.change = 'closed' THEN NULL ELSE l.breaker_opened_at END,
      breaker_probe_seq = CASE WHEN j.change IN ('closed', 'reopened', 'freed') THEN NULL ELSE l.breaker_probe_seq END
    FROM judged j, clock WHERE l.kind = j.kind AND j.change IS NOT NULL
    RETURNING l.kind, j.change, clock.t AS at),
  -- a breaker closed: its kind's tasks may be taken again
  wake AS (SELECT pg_notify(@channel, '') FROM (
    :turn_queued UNION ALL SELECT 1 FROM tripped WHERE change = 'closed' LIMIT 1) AS queued)
:turn_answer
UNION ALL SELECT 'breaker', NULL, kind, NULL, NULL, CASE WHEN change = 'closed' THEN 'closed' ELSE 'opened' END,
  NULL, json_build_object('at', at) FROM tripped WHERE change IN ('opened', 'reopened', 'closed')

-- The records holding claimed (kind, key) pairs that a claim neither inserted nor saw (a
-- concurrent commit, a key twice in one statement), read after it (claim-answers.ts), by the
-- turn or by claimWith on the application's client: as JSON, which that client reads as ours
-- does (it would read a bigint as text).
-- name: task_list_by_keys
SELECT row_to_json(t) AS record FROM :schema.tasks t
WHERE (t.kind, t.idempotency_key) IN (SELECT * FROM unnest(@kinds::text[], @keys::text[]))

-- A running task whose worker is gone (@owner NULL: its lease expired; else that owner's, a dead
-- process on this host) goes back to queued, unless a cancel was asked for (then: cancelled) or
-- that was its last attempt (then: failed, a dead letter, `lease_expired`): attempts never pass
-- max_attempts. `n`: how many.
-- name: task_reclaim
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  -- the candidates, from the running tasks' own table (small: what runs now); each is checked
  -- again on its task row, which is locked first (a task's row, then its lease, everywhere)
  cand AS (
    SELECT l.seq, l.owner FROM task_leases l, clock
    WHERE CASE WHEN @owner::text IS NULL THEN l.expires_at < clock.t ELSE l.owner = @owner END),
  r AS (
    UPDATE tasks t SET
  status = CASE WHEN t.cancel_requested_at IS NOT NULL THEN 'cancelled'
    WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'queued' END,
  finished_at = CASE WHEN t.cancel_requested_at IS NOT NULL OR t.attempts >= t.max_attempts THEN clock.t END,
  error_class = CASE WHEN t.cancel_requested_at IS NULL AND t.attempts >= t.max_attempts THEN 'lease_expired'
    ELSE t.error_class END,
  error_message = CASE WHEN t.cancel_requested_at IS NULL AND t.attempts >= t.max_attempts
    THEN 'its last attempt''s worker stopped without finishing it (killed, or frozen past its lease): no attempts left' ELSE t.error_message END,
  lease_owner = CASE WHEN t.cancel_requested_at IS NOT NULL OR t.attempts >= t.max_attempts THEN t.lease_owner END,
  updated_at = clock.t, lease_expires_at = NULL, version = t.version + 1
    FROM clock WHERE t.seq = ANY(ARRAY(SELECT seq FROM cand)) AND (t.status = 'running') IS TRUE
      AND CASE WHEN @owner::text IS NULL THEN t.lease_expires_at < clock.t ELSE t.lease_owner = @owner END
    RETURNING t.*),
  unleased AS (DELETE FROM task_leases WHERE seq = ANY(ARRAY(SELECT seq FROM r))),
  -- the attempt its worker never finished, kept, with that worker
  lost AS (
    INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, outcome, error_class, error_message, worker)
    SELECT r.seq, r.attempts, r.started_at, clock.t, CASE WHEN r.status = 'cancelled' THEN 'cancelled' ELSE 'lost' END,
      'lease_expired', 'its worker stopped without finishing it (killed, or frozen past its lease)', c.owner
    FROM r JOIN cand c ON c.seq = r.seq, clock),
  requeued AS (
    INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority, group_key)
    SELECT seq, kind, rank_at, next_run_at, priority, group_key FROM r WHERE status = 'queued'),
  finished AS (
    INSERT INTO task_done (seq, kind, status, finished_at) SELECT seq, kind, status, finished_at FROM r
    WHERE status <> 'queued'),
  dl AS (
    INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
    SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, finished_at FROM r
    WHERE status = 'failed'),
  done AS (SELECT pg_notify(@done_channel, '') FROM (SELECT 1 FROM r WHERE status <> 'queued' LIMIT 1) AS f)
SELECT (SELECT count(*) FROM r)::int AS n, (SELECT count(*) FROM done)::int AS told

-- The durable queue: SKIP LOCKED, so two nodes never take one task. UPDATE ... RETURNING has no
-- order: the taken rows are sorted by the outer SELECT, in queue order. The queued index is
-- (kind, rank_at, seq): per kind served, a LATERAL reads and locks at most @limit due tasks
-- in queue order, and the first @limit of those across kinds are taken (the others' locks go
-- with the statement's transaction). @kinds NULL serves every kind: the kinds that have queued
-- tasks, found by a skip scan of the index (one probe per kind). The taken rows are found by
-- primary key from an array (`seq = ANY(ARRAY(...))`): a join with `picked` let the generic plan,
-- which guesses `picked` at a tenth of the table, merge-join along the whole primary key, every
-- take reading every older task (279 tasks/s behind a million tasks of another kind).
-- name: task_take
WITH RECURSIVE clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  queued_kinds(kind) AS (
    (SELECT kind FROM task_ready WHERE @kinds::text[] IS NULL ORDER BY kind LIMIT 1)
    UNION ALL
    SELECT (SELECT r.kind FROM task_ready r WHERE r.kind > q.kind ORDER BY r.kind LIMIT 1)
    FROM queued_kinds q WHERE q.kind IS NOT NULL),
  kinds AS (
    SELECT kind FROM unnest(@kinds::text[]) AS kind
    UNION ALL SELECT kind FROM queued_kinds WHERE kind IS NOT NULL),
  -- a limited or capped kind's allowance (@allow_kinds/@allow_n, from limits.ts); others: @limit
  -- and where its scan of due tasks starts: after (@from_rank, @from_seq) where the caller says
  -- (the store's last take of the kind ended there), else at the first entry
  -- With @skip_limited (the caller read no limits for these kinds, a read that may be stale),
  -- nothing is taken when any of them has a row in kind_limits: a limit set before this statement
  -- began binds it, whatever the caller believed, and the caller takes again within the limits
  -- (taking the other kinds alone would break the queue's order across kinds)
  allowed AS (
    SELECT k.kind, COALESCE(a.n, @limit::int) AS n,
      COALESCE(f.rank_at, -9223372036854775808) AS from_rank, COALESCE(f.seq, 0) AS from_seq FROM kinds k
    LEFT JOIN unnest(@allow_kinds::text[], @allow_n::int[]) AS a(kind, n) ON a.kind = k.kind
    LEFT JOIN unnest(@from_kinds::text[], @from_rank::bigint[], @from_seq::bigint[])
      AS f(kind, rank_at, seq) ON f.kind = k.kind
    WHERE NOT (@skip_limited::bool AND EXISTS (SELECT 1 FROM kind_limits l WHERE l.kind IN (SELECT kind FROM kinds)))),
  -- per kind, the due tasks in rank order, read in three ranges that end where due tasks end:
  -- ranked by now (every due task of priority 0, or negative and ranked by now: a rank is at most
  -- its run time, so the scan stops at now, never walking the delayed tasks ranked after it), the
  -- due ones of a positive priority (their own small index, from its start), and the due ones of
  -- a negative priority ranked later (their own small index); the first n of all, per kind. The run time
  -- is tested `IS TRUE`, which implies nothing of tasks_due's predicate (see migration 010): a
  -- take is never planned on tasks_due
  ranked AS (
    SELECT p.rid, p.seq, p.rank_at, allowed.kind, allowed.n FROM allowed CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, seq, rank_at FROM task_ready r, clock
      WHERE kind = allowed.kind AND (rank_at, seq) > (allowed.from_rank, allowed.from_seq)
        AND rank_at <= clock.t AND (next_run_at <= clock.t) IS TRUE AND priority <= 0
      ORDER BY rank_at, seq LIMIT allowed.n FOR UPDATE SKIP LOCKED) p
    UNION ALL
    -- the due ones of a positive priority, from the start of their own small index whatever the
    -- position (migration 011): one enqueued since the last take is never behind it
    SELECT p.rid, p.seq, p.rank_at, allowed.kind, allowed.n FROM allowed CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, seq, rank_at FROM task_ready r, clock
      WHERE priority > 0 AND kind = allowed.kind AND rank_at <= clock.t
        AND (next_run_at <= clock.t) IS TRUE
      ORDER BY rank_at, seq LIMIT allowed.n FOR UPDATE SKIP LOCKED) p
    UNION ALL
    SELECT p.rid, p.seq, p.rank_at, allowed.kind, allowed.n FROM allowed CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, seq, rank_at FROM task_ready r, clock
      WHERE priority < 0 AND kind = allowed.kind AND rank_at > clock.t
        AND (next_run_at <= clock.t) IS TRUE
      ORDER BY rank_at, seq LIMIT allowed.n FOR UPDATE SKIP LOCKED) p),
  picked AS (
    SELECT rid, seq FROM (
      SELECT rid, seq, rank_at, n, row_number() OVER (PARTITION BY kind ORDER BY rank_at, seq) AS r FROM ranked) c
    WHERE r <= n ORDER BY rank_at, seq LIMIT @limit),
  :take_picked
SELECT * FROM taken ORDER BY rank_at, seq

-- A grouped kind's take (docs/architecture.md §5.3), in the limited take's transaction after
-- kind_limit_lock locked the kind's row (so one take of the kind at a time, across the fleet). The
-- rotation's places: the groups named after @cursor (task_ready_group holds grouped tasks only),
-- then the kind's tasks without a group, then the groups up to @cursor; the walk (below) goes on
-- until it found @max_places places with room (a group with fewer leases than @cap; the ungrouped
-- place always has room) or ends its cycle, so groups at their cap never leave a slot idle while a
-- group after them has due tasks. Each place with room gets a share of @limit (its ceiling over
-- those places), no more than its group's cap less its leases, its first due tasks in queue order
-- locked FOR UPDATE SKIP LOCKED (a share of one whose head, as the walk found it, is due: that
-- head, locked by its address); the first @limit taken round by round (every place's first task,
-- then every second...) in the walk's order. The tasks without a group are looked for among the
-- first 64 due entries of the kind's queue only (ranked by now, then the due ones of a negative
-- priority ranked later, as task_take reads them), so a take never walks a grouped backlog to find
-- none (the clock read as a scalar there: joined, it let the planner sort every due entry for
-- those 64 rather than read them in the index's order). Cost: per side of the cursor walked, one
-- range of 2 x @max_places entries of task_ready_group and one of task_leases_group, then a probe
-- per group walked past them (when groups at their cap or one group's many tasks left them short
-- of places), at most one cycle; plus the tasks taken. The caller takes again when a place gave
-- its whole share and the take came back short.
-- name: task_take_groups
WITH RECURSIVE clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  -- The walk, in two halves: the groups after @cursor (a_), then the groups up to it (b_), each
  -- read first as one range scan of task_ready_group (a chunk of 2 x @max_places entries: the
  -- first entry of each group in it is the group's head, in queue order), its first @max_places
  -- groups kept, with their leases counted from one range scan of task_leases_group (from the
  -- first of those groups to the last), merged by a
  -- GROUP BY (no join of two sets whose sizes the planner cannot know), and numbered in name
  -- order: i the group's step, found the places with room up to it. When those found fewer than
  -- @max_places (groups at their cap; a group with many tasks filling the chunk), a recursive
  -- walk goes on from the chunk's last group one probe at a time (`cont`). So a walk over groups
  -- of few tasks each costs two range scans, and one through a group of many at most
  -- 2 x @max_places entries read more.
  a_chunk AS (
    SELECT r.group_key AS g, r.ctid AS hrid, (r.next_run_at <= (SELECT t FROM clock)) IS TRUE AS hdue, r.rank_at, r.seq
    FROM task_ready r WHERE r.group_key IS NOT NULL AND r.kind = @kind AND r.group_key > COALESCE(@cursor::text, '')
    ORDER BY r.group_key, r.rank_at, r.seq LIMIT 2 * @max_places::int),
  a_heads AS (SELECT DISTINCT ON (g) g, hrid, hdue FROM a_chunk ORDER BY g, rank_at, seq LIMIT @max_places::int),
  a_groups AS (
    SELECT g, (array_agg(hrid) FILTER (WHERE head))[1] AS hrid, bool_or(hdue) AS hdue,
      (count(*) FILTER (WHERE NOT head))::int AS busy
    FROM (SELECT g, hrid, hdue, true AS head FROM a_heads
      UNION ALL
      SELECT l.group_key, NULL::tid, NULL::bool, false FROM task_leases l
      WHERE l.group_key IS NOT NULL AND l.kind = @kind AND l.group_key >= (SELECT min(g) FROM a_heads)
        AND l.group_key <= (SELECT max(g) FROM a_heads)) u
    GROUP BY g HAVING bool_or(head)),
  a_ranked AS (
    SELECT g, row_number() OVER w AS i, (sum((busy < @cap::int)::int) OVER w)::int AS found, busy, hrid, hdue,
      g = (SELECT max(g) FROM a_heads) AS cont
    FROM a_groups WINDOW w AS (ORDER BY g)),
  -- (group, its step, places with room found so far, its leases, its head and whether it is due,
  -- lg/ln: the first group at or after this one that has leases and their number (NULL: none),
  -- cont: the walk goes on from here). The chunk's rows, then, from its last group when `cont`,
  -- one probe a step for the next group (a LATERAL with LIMIT, landing on the group's head) and
  -- one of task_leases_group for the first group with leases at or after it, made only once the
  -- walk passed the last one found (the probe's gate: lg < g). Ends where the groups end.
  after_cursor(g, i, found, busy, hrid, hdue, lg, ln, cont) AS (
    SELECT g, i::int, found, busy, hrid, hdue, g, busy, cont FROM a_ranked
    UNION ALL
    SELECT n.g, a.i + 1, a.found + (c.busy < @cap::int)::int, c.busy, n.hrid, n.hdue, x.lg, x.ln, true
    FROM after_cursor a
    CROSS JOIN LATERAL (SELECT r.group_key AS g, r.ctid AS hrid, (r.next_run_at <= clock.t) IS TRUE AS hdue
      FROM task_ready r, clock WHERE r.group_key IS NOT NULL AND r.kind = @kind
      AND r.group_key > a.g ORDER BY r.group_key, r.rank_at, r.seq LIMIT 1) n
    LEFT JOIN LATERAL (SELECT l.group_key AS lg, count(*)::int AS ln FROM task_leases l
      WHERE a.lg < n.g AND l.group_key IS NOT NULL AND l.kind = @kind AND l.group_key >= n.g
      GROUP BY l.group_key ORDER BY l.group_key LIMIT 1) p ON true
    CROSS JOIN LATERAL (SELECT CASE WHEN a.lg < n.g THEN p.lg ELSE a.lg END AS lg,
      CASE WHEN a.lg < n.g THEN p.ln ELSE a.ln END AS ln) x
    CROSS JOIN LATERAL (SELECT CASE WHEN x.lg = n.g THEN x.ln ELSE 0 END AS busy) c
    WHERE a.cont AND a.found < @max_places::int),
  n_after AS (SELECT COALESCE(max(i), 0) AS n, COALESCE(max(found), 0) AS found FROM after_cursor),
  -- the groups up to @cursor, the same way, read only when the places after it (and the tasks
  -- without a group) came short of @max_places
  b_chunk AS (
    SELECT r.group_key AS g, r.ctid AS hrid, (r.next_run_at <= (SELECT t FROM clock)) IS TRUE AS hdue, r.rank_at, r.seq
    FROM task_ready r WHERE r.group_key IS NOT NULL AND r.kind = @kind AND r.group_key <= COALESCE(@cursor::text, '')
      AND (SELECT found FROM n_after) + 1 < @max_places::int
    ORDER BY r.group_key, r.rank_at, r.seq LIMIT 2 * @max_places::int),
  b_heads AS (SELECT DISTINCT ON (g) g, hrid, hdue FROM b_chunk ORDER BY g, rank_at, seq LIMIT @max_places::int),
  b_groups AS (
    SELECT g, (array_agg(hrid) FILTER (WHERE head))[1] AS hrid, bool_or(hdue) AS hdue,
      (count(*) FILTER (WHERE NOT head))::int AS busy
    FROM (SELECT g, hrid, hdue, true AS head FROM b_heads
      UNION ALL
      SELECT l.group_key, NULL::tid, NULL::bool, false FROM task_leases l
      WHERE l.group_key IS NOT NULL AND l.kind = @kind AND l.group_key >= (SELECT min(g) FROM b_heads)
        AND l.group_key <= (SELECT max(g) FROM b_heads)) u
    GROUP BY g HAVING bool_or(head)),
  b_ranked AS (
    SELECT g, row_number() OVER w AS i, (SELECT found FROM n_after) + 1 + (sum((busy < @cap::int)::int) OVER w)::int AS found,
      busy, hrid, hdue,
      g = (SELECT max(g) FROM b_heads) AS cont
    FROM b_groups WINDOW w AS (ORDER BY g)),
  up_to_cursor(g, i, found, busy, hrid, hdue, lg, ln, cont) AS (
    SELECT g, i::int, found, busy, hrid, hdue, g, busy, cont FROM b_ranked
    UNION ALL
    SELECT n.g, b.i + 1, b.found + (c.busy < @cap::int)::int, c.busy, n.hrid, n.hdue, x.lg, x.ln, true
    FROM up_to_cursor b
    CROSS JOIN LATERAL (SELECT r.group_key AS g, r.ctid AS hrid, (r.next_run_at <= clock.t) IS TRUE AS hdue
      FROM task_ready r, clock WHERE r.group_key IS NOT NULL AND r.kind = @kind
      AND r.group_key > b.g AND r.group_key <= COALESCE(@cursor::text, '') ORDER BY r.group_key, r.rank_at, r.seq LIMIT 1) n
    LEFT JOIN LATERAL (SELECT l.group_key AS lg, count(*)::int AS ln FROM task_leases l
      WHERE b.lg < n.g AND l.group_key IS NOT NULL AND l.kind = @kind AND l.group_key >= n.g
      GROUP BY l.group_key ORDER BY l.group_key LIMIT 1) p ON true
    CROSS JOIN LATERAL (SELECT CASE WHEN b.lg < n.g THEN p.lg ELSE b.lg END AS lg,
      CASE WHEN b.lg < n.g THEN p.ln ELSE b.ln END AS ln) x
    CROSS JOIN LATERAL (SELECT CASE WHEN x.lg = n.g THEN x.ln ELSE 0 END AS busy) c
    WHERE b.cont AND b.found < @max_places::int),
  -- the places with room, in the walk's order, the first @max_places of them
  places AS (
    SELECT g, i AS w, busy, hrid, hdue FROM after_cursor WHERE busy < @cap::int
    UNION ALL SELECT NULL, n_after.n + 1, 0, NULL::tid, false FROM n_after
    UNION ALL SELECT b.g, n_after.n + 1 + b.i, b.busy, b.hrid, b.hdue FROM up_to_cursor b, n_after
      WHERE b.busy < @cap::int),
  walked AS (SELECT g, w, busy, hrid, hdue FROM places ORDER BY w LIMIT @max_places::int),
  share AS (SELECT ceil(@limit::numeric / count(*))::int AS n FROM walked),
  -- each group's room: its share, no more than its cap less its running tasks
  room AS (
    SELECT w.g, w.hrid, w.hdue,
      CASE WHEN w.g IS NULL THEN share.n ELSE LEAST(share.n, @cap::int - w.busy) END AS n
    FROM walked w, share),
  -- a group with room for one whose head is due takes the head the walk found: all such heads
  -- locked by their row addresses in one scan (no second probe; the common case with many
  -- groups); the others, and one whose head was locked meanwhile (not in `fast`: a hashed
  -- lookup), probe their group for its first due tasks
  fast AS (
    SELECT r.ctid AS rid, r.seq, r.rank_at, r.group_key AS g, 1 AS room FROM task_ready r
    WHERE r.ctid = ANY(ARRAY(SELECT hrid FROM room WHERE g IS NOT NULL AND n = 1 AND hdue))
    FOR UPDATE SKIP LOCKED),
  heads AS (
    SELECT rid, seq, rank_at, g, room FROM fast
    UNION ALL
    SELECT p.rid, p.seq, p.rank_at, room.g, room.n AS room
    FROM room CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, r.seq, r.rank_at FROM task_ready r, clock
      WHERE room.g IS NOT NULL AND r.group_key IS NOT NULL AND r.kind = @kind AND r.group_key = room.g
        AND (r.next_run_at <= clock.t) IS TRUE
      ORDER BY r.rank_at, r.seq LIMIT room.n FOR UPDATE SKIP LOCKED) p
    WHERE room.g IS NOT NULL AND NOT (room.g IN (SELECT f.g FROM fast f))
    UNION ALL
    -- the place of the tasks without a group (filtered before the LATERAL: not rescanned per place)
    SELECT p.rid, p.seq, p.rank_at, room.g, room.n FROM (SELECT g, n FROM room WHERE g IS NULL) room
    CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, r.seq, r.rank_at FROM task_ready r
      WHERE r.ctid = ANY(ARRAY(
        SELECT x.rid FROM (
          (SELECT q.ctid AS rid, q.group_key, q.rank_at, q.seq FROM task_ready q
          WHERE q.kind = @kind AND q.rank_at <= (SELECT t FROM clock) AND (q.next_run_at <= (SELECT t FROM clock)) IS TRUE
          ORDER BY q.rank_at, q.seq LIMIT 64)
          UNION ALL
          (SELECT q.ctid, q.group_key, q.rank_at, q.seq FROM task_ready q
          WHERE q.priority < 0 AND q.kind = @kind AND q.rank_at > (SELECT t FROM clock)
            AND (q.next_run_at <= (SELECT t FROM clock)) IS TRUE
          ORDER BY q.rank_at, q.seq LIMIT 64)
          ORDER BY rank_at, seq LIMIT 64) x
        WHERE x.group_key IS NULL))
      ORDER BY r.rank_at, r.seq LIMIT room.n FOR UPDATE SKIP LOCKED) p),
  -- the first @limit round by round (k), in the walk's order of the places within a round (the
  -- groups after @cursor, the tasks without a group, the groups up to @cursor: the order the walk
  -- numbered them in, from the group alone), and how many each place gave (`drawn`)
  picked AS (
    SELECT rid, seq, g, k, room, count(*) OVER (PARTITION BY g) AS drawn FROM (
      SELECT rid, seq, g, room, k FROM (
        SELECT rid, seq, g, room, row_number() OVER (PARTITION BY g ORDER BY rank_at, seq) AS k FROM heads) h
      ORDER BY k, CASE WHEN g > COALESCE(@cursor::text, '') THEN 0 WHEN g IS NULL THEN 1 ELSE 2 END, g
      LIMIT @limit::int) f),
  :take_picked,
  -- the cursor: the group of the last task picked ('': the tasks without a group), written only
  -- when it moved (the kind's row is locked by this transaction already). Read from `picked`
  -- alone, as `place_full` is and the rows' order is below: no join of two CTEs in this
  -- statement, whose row estimates (1, in the generic plan of a busy store) made the planner loop
  -- over one for each row of the other (a take of 448 spent 35 of its 39 ms in two such joins)
  moved AS (
    UPDATE kind_limits l SET group_cursor = m.g
    FROM (SELECT COALESCE(g, '') AS g FROM picked
      ORDER BY k DESC, CASE WHEN g > COALESCE(@cursor::text, '') THEN 0 WHEN g IS NULL THEN 1 ELSE 2 END DESC, g DESC
      LIMIT 1) m
    WHERE l.kind = @kind AND l.group_cursor IS DISTINCT FROM m.g)
-- in the rotation's order, as `picked` drew them (round k, then the walk's order of the places:
-- the groups after @cursor, the tasks without a group, the groups up to @cursor), from the rows'
-- own columns; `place_full` (the same on every row, an uncorrelated subquery: computed once):
-- whether some place gave its whole share (the caller takes again when the take came back short)
SELECT taken.*, (SELECT COALESCE(bool_or(drawn >= room), false) FROM picked) AS place_full FROM taken
ORDER BY row_number() OVER (PARTITION BY taken.group_key ORDER BY taken.rank_at, taken.seq),
  CASE WHEN taken.group_key > COALESCE(@cursor::text, '') THEN 0 WHEN taken.group_key IS NULL THEN 1 ELSE 2 END,
  taken.group_key

-- When the earliest queued task of each of @kinds (NULL: every kind) is due, and the database's
-- time (no row: none queued). One probe of tasks_due per kind.
-- name: task_next_due
WITH RECURSIVE clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  queued_kinds(kind) AS (
    (SELECT kind FROM task_ready WHERE @kinds::text[] IS NULL ORDER BY kind LIMIT 1)
    UNION ALL
    SELECT (SELECT r.kind FROM task_ready r WHERE r.kind > q.kind ORDER BY r.kind LIMIT 1)
    FROM queued_kinds q WHERE q.kind IS NOT NULL),
  kinds AS (
    SELECT kind FROM unnest(@kinds::text[]) AS kind
    UNION ALL SELECT kind FROM queued_kinds WHERE kind IS NOT NULL)
SELECT kinds.kind, d.next_run_at AS due, clock.t AS clock_now FROM kinds CROSS JOIN LATERAL (
  SELECT next_run_at FROM task_ready WHERE kind = kinds.kind ORDER BY next_run_at LIMIT 1) d, clock

-- name: task_running_owners
SELECT DISTINCT owner AS lease_owner FROM task_leases WHERE owner <> ''

-- Only the seqs this node knows it runs: a task leased by a statement whose answer was lost (a
-- dropped connection) is not renewed, expires, and is taken again.
-- name: task_renew_leases
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  renewed AS (
    UPDATE tasks t SET lease_expires_at = clock.t + @lease_ms::bigint FROM clock
    WHERE (t.status = 'running') IS TRUE AND t.lease_owner = @owner AND t.seq = ANY(@seqs::bigint[])
    RETURNING t.seq, t.lease_expires_at),
  copied AS (
    UPDATE task_leases l SET expires_at = r.lease_expires_at FROM renewed r WHERE l.seq = r.seq)
SELECT seq FROM renewed

-- name: task_get
SELECT * FROM tasks WHERE seq = @seq

-- A task's attempts that ended other than in success, oldest first.
-- name: task_attempt_list
SELECT * FROM task_attempts WHERE task_seq = @task_seq ORDER BY seq

-- name: task_get_by_key
SELECT * FROM tasks WHERE kind = @kind AND idempotency_key = @idempotency_key

-- name: task_list_by_id
SELECT * FROM tasks WHERE id = @id ORDER BY seq

-- A task that failed validation, kept with its reason.
-- name: dead_letter_insert_invalid
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
SELECT NULL, @task_id, NULL, @payload, @error_class, @error_message, 0, clock.t FROM clock RETURNING seq

-- Re-drive (redriveTasks): the failed tasks among @task_seqs (through the primary key) back to
-- queued, attempts reset, ranked by their priority from now, and their open dead letters marked
-- re-driven (kept: the task's history). A task that is not failed (or no longer, when a concurrent
-- re-drive committed first) is left alone, and its letters too.
-- name: task_redrive
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  redriven AS (
    UPDATE tasks t SET status = 'queued', attempts = 0, next_run_at = clock.t,
      rank_at = :rank_at(clock.t, t.priority), updated_at = clock.t,
      lease_owner = NULL, error_class = NULL, error_message = NULL, version = t.version + 1
    FROM clock WHERE t.seq = ANY(@task_seqs::bigint[]) AND (t.status = 'failed') IS TRUE
    RETURNING t.seq, t.kind, t.rank_at, t.next_run_at, t.priority, t.group_key),
  undone AS (
    DELETE FROM task_done WHERE status = 'failed' AND seq = ANY(ARRAY(SELECT seq FROM redriven))),
  requeued AS (
    INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority, group_key)
    SELECT seq, kind, rank_at, next_run_at, priority, group_key FROM redriven),
  marked AS (
    UPDATE dead_letters d SET redriven_at = clock.t FROM clock
    WHERE d.task_seq = ANY(ARRAY(SELECT seq FROM redriven)) AND d.redriven_at IS NULL)
SELECT count(*)::int AS n FROM redriven

-- Retention: the oldest succeeded tasks, their history's dead letters with them (by key from an
-- array, as task_take: no join the generic plan could turn into a walk of the whole key).
-- name: task_prune
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  victims AS (
    SELECT d.ctid AS did, d.seq FROM task_done d, clock
    WHERE d.status = 'succeeded' AND d.finished_at < clock.t - @older_than_ms::bigint
    ORDER BY d.finished_at LIMIT @limit FOR UPDATE SKIP LOCKED),
  letters AS (DELETE FROM dead_letters WHERE task_seq = ANY(ARRAY(SELECT seq FROM victims))),
  tries AS (DELETE FROM task_attempts WHERE task_seq = ANY(ARRAY(SELECT seq FROM victims))),
  logs AS (DELETE FROM task_logs WHERE task_seq = ANY(ARRAY(SELECT seq FROM victims))),
  undone AS (DELETE FROM task_done WHERE ctid = ANY(ARRAY(SELECT did FROM victims))),
  gone AS (DELETE FROM tasks WHERE seq = ANY(ARRAY(SELECT seq FROM victims)) RETURNING seq)
SELECT count(*)::int AS n FROM gone

-- Old dead letters, and the failed tasks left with none.
-- name: dead_letter_purge
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  letters AS (
    DELETE FROM dead_letters d USING clock WHERE d.failed_at < clock.t - @older_than_ms::bigint
    RETURNING d.seq, d.task_seq),
  purged AS (
    DELETE FROM tasks t WHERE t.status = 'failed' AND t.seq IN (SELECT task_seq FROM letters)
      AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.task_seq = t.seq AND d.seq NOT IN (SELECT seq FROM letters))
    RETURNING t.seq),
  undone AS (DELETE FROM task_done WHERE status = 'failed' AND seq = ANY(ARRAY(SELECT seq FROM purged))),
  tries AS (DELETE FROM task_attempts WHERE task_seq = ANY(ARRAY(SELECT seq FROM purged))),
  logs AS (DELETE FROM task_logs WHERE task_seq = ANY(ARRAY(SELECT seq FROM purged)))
SELECT count(*)::int AS n FROM letters

-- name: lease_holders
SELECT owner, count(*)::int AS running, MAX(expires_at) AS expires
FROM task_leases WHERE owner <> '' GROUP BY owner ORDER BY owner

-- The once-per-interval gate: a row is written (and returned) only when the job has none or its
-- last run is at least @every_ms old. Racing stores serialise on the row: the losers see the
-- winner's time and write nothing.
-- name: maintenance_try_run
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO maintenance (name, owner, last_run_at) SELECT @name, @owner, clock.t FROM clock
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, last_run_at = excluded.last_run_at
  WHERE maintenance.last_run_at <= excluded.last_run_at - @every_ms::bigint
RETURNING name

-- The workers registry: each worker (a process that runs tasks) reports itself in a row of the
-- `managers` table, named before the process was called a worker and kept (a rename needs a
-- migration); the statements say worker.
-- name: worker_report
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO managers (owner, started_at, heartbeat_at, info) SELECT @owner, clock.t, clock.t, @info FROM clock
ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, info = excluded.info

-- name: worker_remove
DELETE FROM managers WHERE owner = @owner

-- The registry rows of workers silent for @stale_ms that hold no lease any more (a process
-- killed without closing, whose tasks were reclaimed): removed.
-- name: worker_forget_dead
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
DELETE FROM managers m USING clock WHERE m.heartbeat_at < clock.t - @stale_ms::bigint
  AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.owner = m.owner)

-- name: worker_list
SELECT * FROM managers ORDER BY owner

-- Cancel (issue 20): the task locked and read, then a queued one cancelled (version-guarded), a
-- running one given a cancel request (its version unchanged: its worker's transitions stay
-- valid; @cancel_channel tells the listening workers, payload the seq), a finished one answered
-- as it is. A cancelled task notifies @done_channel. No row: no such task.
-- name: task_cancel
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  -- a queued task: its ready row deleted first (a take that holds it is waited for; then it is
  -- gone, and the task is running), then the task cancelled
  unready AS (
    DELETE FROM task_ready r USING tasks t
    WHERE t.seq = @seq::bigint AND r.kind = t.kind AND r.rank_at = t.rank_at AND r.seq = t.seq RETURNING r.seq),
  cq AS (
    UPDATE tasks t SET status = 'cancelled', finished_at = clock.t, updated_at = clock.t, version = t.version + 1
    FROM clock WHERE t.seq = ANY(ARRAY(SELECT seq FROM unready)) AND (t.status = 'queued') IS TRUE
    RETURNING t.*),
  -- otherwise the task as it is now (locked: the latest version), asked to stop when running
  cur AS (SELECT seq, version, status FROM tasks WHERE seq = @seq::bigint AND NOT EXISTS (SELECT 1 FROM unready)
    FOR UPDATE),
  -- a task waiting for its parents (migration 018) is queued without a ready row: cancelled at once
  cw AS (
    UPDATE tasks t SET status = 'cancelled', finished_at = clock.t, updated_at = clock.t, version = t.version + 1
    FROM cur, clock WHERE t.seq = cur.seq AND t.version = cur.version AND cur.status = 'queued' AND t.waiting_for > 0
    RETURNING t.*),
  cqd AS (
    INSERT INTO task_done (seq, kind, status, finished_at)
    SELECT seq, kind, status, finished_at FROM cq UNION ALL SELECT seq, kind, status, finished_at FROM cw),
  rq AS (
    UPDATE tasks t SET cancel_requested_at = COALESCE(t.cancel_requested_at, clock.t), updated_at = clock.t
    FROM cur, clock WHERE t.seq = cur.seq AND t.version = cur.version AND cur.status = 'running'
    RETURNING t.*),
  told AS (SELECT pg_notify(@cancel_channel, seq::text) FROM rq),
  done AS (SELECT pg_notify(@done_channel, '') FROM (SELECT 1 FROM cq UNION ALL SELECT 1 FROM cw) AS ended)
SELECT 'cancelled' AS outcome, row_to_json(cq) AS record FROM cq
UNION ALL SELECT 'cancelled', row_to_json(cw) FROM cw
UNION ALL SELECT 'requested', row_to_json(rq) FROM rq
UNION ALL SELECT 'finished', row_to_json(t) FROM tasks t JOIN cur ON t.seq = cur.seq
  WHERE cur.status NOT IN ('queued', 'running')
UNION ALL SELECT 'told', NULL FROM told
UNION ALL SELECT 'done', NULL FROM done

-- name: task_list_cancel_requested
SELECT seq FROM tasks
WHERE seq = ANY(@seqs::bigint[]) AND (status = 'running') IS TRUE AND cancel_requested_at IS NOT NULL ORDER BY seq

-- The worker ends a task whose cancel was requested: running → cancelled, lease cleared (its owner kept: who ran it).
-- name: task_cancel_running
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  c AS (
    UPDATE tasks t SET status = 'cancelled', finished_at = clock.t, updated_at = clock.t,
      lease_expires_at = NULL, version = t.version + 1
    FROM clock WHERE t.seq = @seq::bigint AND t.version = @version::int AND (t.status = 'running') IS TRUE
    RETURNING t.seq, t.kind, t.finished_at, t.attempts, t.started_at, t.lease_owner),
  unleased AS (DELETE FROM task_leases WHERE seq = ANY(ARRAY(SELECT seq FROM c))),
  tried AS (
    INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, outcome, error_class, error_message, worker)
    SELECT seq, attempts, started_at, finished_at, 'cancelled', 'cancelled', 'the task was cancelled while it ran', lease_owner FROM c),
  finished AS (INSERT INTO task_done (seq, kind, status, finished_at) SELECT seq, kind, 'cancelled', finished_at FROM c),
  done AS (SELECT pg_notify(@done_channel, '') FROM c)
SELECT 'cancelled' AS call, seq FROM c UNION ALL SELECT 'done', NULL FROM done

-- Transactional enqueue (claimWith): the claim of task_turn, run through the application's own
-- client inside its transaction. That connection has not our search_path: `:schema.` is replaced
-- by the store's quoted schema. The NOTIFY of new work is part of the caller's transaction:
-- delivered only if it commits. Keys neither inserted nor seen here (a duplicate within the
-- batch, a concurrent commit) are read after it (task_list_by_keys).
-- name: task_claim_with
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  claims AS (
    SELECT v.*, false AS start, NULL::text AS owner, NULL::bigint AS lease_ms
    FROM unnest(@claim_id::text[], @claim_key::text[], @claim_kind::text[], @claim_payload::text[],
      @claim_max_attempts::int[], @claim_priority::int[], @claim_run_at::bigint[], @claim_delay_ms::bigint[],
      @claim_tags::text[], @claim_correlation_id::text[], @claim_trace_context::text[], @claim_group::text[])
      WITH ORDINALITY AS v(id, key, kind, payload, max_attempts, priority, run_at, delay_ms, tags, correlation_id,
        trace_context, group_key, ord)),
  c AS (:insert_tasks), :file_new_tasks,
  ex AS (
    SELECT t.* FROM :schema.tasks t
    WHERE (SELECT count(*) FROM c) < cardinality(@claim_key::text[]) AND (t.kind, t.idempotency_key) IN (
      SELECT k.kind, k.key FROM unnest(@claim_kind::text[], @claim_key::text[]) AS k(kind, key)
      EXCEPT SELECT kind, idempotency_key FROM c)),
  wake AS (SELECT pg_notify(@channel, '') FROM (SELECT 1 FROM c LIMIT 1) AS queued)
SELECT 'claim' AS call, seq, kind, idempotency_key AS key, version, status, attempts, NULL::json AS record FROM c
UNION ALL SELECT 'existing', seq, kind, idempotency_key, NULL, NULL, NULL, row_to_json(ex) FROM ex
UNION ALL SELECT 'wake', NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM wake

-- Wakes the workers waiting for work (after a recovery or a re-drive queued tasks).
-- name: notify_work
SELECT pg_notify(@channel, '')

-- Recurring tasks (issue 22): a schedule per name, its next occurrence computed by the caller from
-- the cron expression (from the time clock_now gave). A put keeps the run history (last_run_at)
-- of a schedule it replaces.
-- name: schedule_put
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO schedules (name, cron, timezone, kind, payload, options, paused, next_run_at, last_run_at,
  created_at, updated_at)
SELECT @name, @cron, @timezone, @kind, @payload, @options, false, @next_run_at, NULL, clock.t, clock.t FROM clock
ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind,
  payload = excluded.payload, options = excluded.options, paused = false, next_run_at = excluded.next_run_at,
  updated_at = excluded.updated_at
RETURNING *

-- name: schedule_remove
DELETE FROM schedules WHERE name = @name

-- name: schedule_get
SELECT * FROM schedules WHERE name = @name

-- name: schedule_list
SELECT * FROM schedules ORDER BY name

-- Pause, or resume from @next_run_at (the occurrences missed while paused are not enqueued).
-- name: schedule_set_paused
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
UPDATE schedules SET paused = @paused, next_run_at = COALESCE(@next_run_at::bigint, next_run_at), updated_at = clock.t
FROM clock WHERE name = @name
RETURNING schedules.*

-- The schedules whose next occurrence is due, and the database's time they were judged by.
-- name: schedule_list_due
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
SELECT s.*, clock.t AS clock_now FROM schedules s, clock
WHERE NOT s.paused AND s.next_run_at <= clock.t ORDER BY s.next_run_at LIMIT @limit

-- An occurrence fired, in one statement: compare-and-set on the occurrence the caller read (of
-- schedulers racing, one advances the schedule; the others' UPDATE finds the row moved on and
-- changes nothing), and only then the occurrence's task is inserted, due at @fired_at (its key
-- names the occurrence: a second insert of it would be a duplicate anyway) and workers woken.
-- name: schedule_fire
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  adv AS (
    UPDATE schedules s SET next_run_at = @next_run_at, last_run_at = @fired_at, updated_at = clock.t
    FROM clock WHERE s.name = @name AND s.next_run_at = @expected AND NOT s.paused
    RETURNING s.name),
  claims AS (
    SELECT @id::text AS id, @idempotency_key::text AS key, @kind::text AS kind, @payload::text AS payload,
      @max_attempts::int AS max_attempts, @priority::int AS priority, @fired_at::bigint AS run_at,
      0::bigint AS delay_ms, NULL::text AS tags, NULL::text AS correlation_id, NULL::text AS trace_context,
      NULL::text AS group_key, 1::bigint AS ord, false AS start, NULL::text AS owner,
      NULL::bigint AS lease_ms
    FROM adv),
  c AS (:insert_tasks), :file_new_tasks,
  wake AS (SELECT pg_notify(@channel, '') FROM (SELECT 1 FROM c LIMIT 1) AS queued)
SELECT (SELECT count(*) FROM adv)::int AS advanced, (SELECT seq FROM c) AS seq,
  (SELECT count(*) FROM wake)::int AS woken

-- The database's clock: what "now" is for the schedules' occurrences.
-- name: clock_now
SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS now

-- A take's end, after its CTE `picked` (the ready rows chosen and locked: rid, seq) and `clock`:
-- those ready rows go (locked, so no other take or start has them), then their tasks are updated
-- in place (no indexed column changes) and leased. Three CTEs, `taken` the tasks as updated;
-- written `:take_picked` (task_take and task_take_groups).
-- fragment: take_picked
unready AS (DELETE FROM task_ready WHERE ctid = ANY(ARRAY(SELECT rid FROM picked))),
  taken AS (
    UPDATE tasks t SET status = 'running', attempts = t.attempts + 1, version = t.version + 1,
      started_at = clock.t, updated_at = clock.t, lease_owner = @owner, lease_expires_at = clock.t + @lease_ms::bigint
    FROM clock WHERE t.seq = ANY(ARRAY(SELECT seq FROM picked)) AND (t.status = 'queued') IS TRUE
    RETURNING t.*),
  leased AS (
    INSERT INTO task_leases (seq, kind, owner, expires_at, group_key)
    SELECT seq, kind, lease_owner, lease_expires_at, group_key FROM taken)

-- A kind's per-group limits and cursor (§5.3) and its breaker (breaker.ts BreakerRow), as the
-- takes and the listing read them.
-- `breaker_probe_until`: the lease expiry of the probe's task while it runs (its task_leases row),
-- looked up only for a breaker that is open or half-open with a probe.
-- fragment: kind_limit_columns
l.per_group_concurrency, l.group_cursor, l.breaker_failures, l.breaker_window_ms, l.breaker_cooldown_ms, l.breaker_errors, l.breaker_ratio,
  l.breaker_min_attempts, l.breaker_window_start, l.breaker_count, l.breaker_attempts, l.breaker_opened_at,
  l.breaker_probe_seq,
  CASE WHEN l.breaker_opened_at IS NOT NULL AND l.breaker_probe_seq IS NOT NULL THEN
    (SELECT pl.expires_at FROM task_leases pl WHERE pl.seq = l.breaker_probe_seq)
  END AS breaker_probe_until

-- Limits of a kind across every worker (issue 22; see limits.ts). A take of a limited kind runs
-- in a transaction that first locks the kinds' rows (kind order: no deadlock), then counts their
-- running tasks in a statement of its own (read committed: it sees every take committed before
-- the lock was granted), then takes with the allowances, then records the rate windows.
-- name: kind_limit_lock
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
SELECT l.kind, l.concurrency, l.rate_limit, l.rate_interval_ms, l.window_start, l.window_count, l.paused_at,
  :kind_limit_columns, clock.t AS clock_now
FROM kind_limits l, clock WHERE (@kinds::text[] IS NULL OR l.kind = ANY(@kinds::text[])) ORDER BY l.kind FOR UPDATE OF l

-- name: kind_limit_list
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
SELECT l.kind, l.concurrency, l.rate_limit, l.rate_interval_ms, l.window_start, l.window_count, l.paused_at,
  :kind_limit_columns, clock.t AS clock_now, (SELECT count(*) FROM task_leases t WHERE t.kind = l.kind)::int AS running
FROM kind_limits l, clock ORDER BY l.kind

-- name: kind_limit_kinds
SELECT kind FROM kind_limits ORDER BY kind

-- name: task_count_running_by_kind
SELECT kind, count(*)::int AS n FROM task_leases WHERE kind = ANY(@kinds::text[]) GROUP BY kind

-- name: kind_limit_set_windows
UPDATE kind_limits l SET window_start = u.window_start, window_count = u.window_count
FROM unnest(@kinds::text[], @window_start::bigint[], @window_count::int[]) AS u(kind, window_start, window_count)
WHERE l.kind = u.kind

-- A put keeps the current rate window's count.
-- name: kind_limit_put
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at,
  per_group_concurrency)
SELECT @kind, @concurrency::int, @rate_limit::int, @rate_interval_ms::bigint, 0, 0, clock.t, @per_group_concurrency::int
FROM clock
ON CONFLICT (kind) DO UPDATE SET concurrency = excluded.concurrency, rate_limit = excluded.rate_limit,
  rate_interval_ms = excluded.rate_interval_ms, updated_at = excluded.updated_at,
  per_group_concurrency = excluded.per_group_concurrency

-- Limits removed: the row goes, unless the kind is paused or has a breaker (then it keeps those alone).
-- name: kind_limit_remove
WITH kept AS (
  UPDATE kind_limits SET concurrency = NULL, rate_limit = NULL, rate_interval_ms = NULL, per_group_concurrency = NULL
  WHERE kind = @kind AND (paused_at IS NOT NULL OR breaker_failures IS NOT NULL) RETURNING kind)
DELETE FROM kind_limits WHERE kind = @kind AND paused_at IS NULL AND breaker_failures IS NULL

-- A pause (pauseKind): the kind's row, made when it has none; a paused kind keeps its first time.
-- `changed`: it was not paused before.
-- name: kind_pause
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  before AS (SELECT paused_at FROM kind_limits WHERE kind = @kind),
  put AS (
    INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at, paused_at)
    SELECT @kind, NULL, NULL, NULL, 0, 0, clock.t, clock.t FROM clock
    ON CONFLICT (kind) DO UPDATE SET paused_at = COALESCE(kind_limits.paused_at, excluded.paused_at),
      updated_at = excluded.updated_at)
SELECT (SELECT paused_at FROM before) IS NULL AS changed

-- A resume (resumeKind): the pause cleared, and the row gone when it held nothing else.
-- name: kind_resume
WITH resumed AS (
  UPDATE kind_limits SET paused_at = NULL WHERE kind = @kind AND paused_at IS NOT NULL
    AND (concurrency IS NOT NULL OR rate_limit IS NOT NULL OR per_group_concurrency IS NOT NULL
      OR breaker_failures IS NOT NULL) RETURNING kind),
  gone AS (
  DELETE FROM kind_limits WHERE kind = @kind AND paused_at IS NOT NULL
    AND concurrency IS NULL AND rate_limit IS NULL AND per_group_concurrency IS NULL AND breaker_failures IS NULL
    RETURNING kind)
SELECT (SELECT count(*) FROM resumed)::int + (SELECT count(*) FROM gone)::int AS n

-- A breaker set (setBreaker): the kind's row, made when it has none; a breaker set again keeps
-- its state (its window's count, open or closed).
-- name: kind_breaker_put
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at,
  breaker_failures, breaker_window_ms, breaker_cooldown_ms, breaker_errors, breaker_ratio, breaker_min_attempts)
SELECT @kind, NULL, NULL, NULL, 0, 0, clock.t, @breaker_failures::int, @breaker_window_ms::bigint,
  @breaker_cooldown_ms::bigint, @breaker_errors::text, @breaker_ratio::float8, @breaker_min_attempts::int FROM clock
ON CONFLICT (kind) DO UPDATE SET breaker_failures = excluded.breaker_failures,
  breaker_window_ms = excluded.breaker_window_ms, breaker_cooldown_ms = excluded.breaker_cooldown_ms,
  breaker_errors = excluded.breaker_errors, breaker_ratio = excluded.breaker_ratio,
  breaker_min_attempts = excluded.breaker_min_attempts, updated_at = excluded.updated_at

-- A breaker removed: its columns cleared, and the row gone when it held nothing else.
-- name: kind_breaker_remove
WITH cleared AS (
  UPDATE kind_limits SET breaker_failures = NULL, breaker_window_ms = NULL, breaker_cooldown_ms = NULL,
    breaker_errors = NULL, breaker_ratio = NULL, breaker_min_attempts = NULL, breaker_window_start = 0,
    breaker_count = 0, breaker_attempts = 0, breaker_opened_at = NULL, breaker_probe_seq = NULL
  WHERE kind = @kind AND breaker_failures IS NOT NULL
    AND (concurrency IS NOT NULL OR rate_limit IS NOT NULL OR per_group_concurrency IS NOT NULL
      OR paused_at IS NOT NULL) RETURNING kind)
DELETE FROM kind_limits WHERE kind = @kind AND breaker_failures IS NOT NULL
  AND concurrency IS NULL AND rate_limit IS NULL AND per_group_concurrency IS NULL AND paused_at IS NULL

-- A reset (resetBreaker): an open breaker closed now, its count started again. `n`: it was open.
-- name: kind_breaker_reset
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  closed AS (
  UPDATE kind_limits SET breaker_window_start = clock.t, breaker_count = 0, breaker_attempts = 0,
    breaker_opened_at = NULL, breaker_probe_seq = NULL
  FROM clock WHERE kind = @kind AND breaker_failures IS NOT NULL AND breaker_opened_at IS NOT NULL RETURNING kind)
SELECT count(*)::int AS n FROM closed

-- The probes a take let through (breaker.ts probesAfter), in its transaction (the rows locked).
-- name: kind_breaker_probes
UPDATE kind_limits l SET breaker_probe_seq = u.seq
FROM unnest(@kinds::text[], @seqs::bigint[]) AS u(kind, seq)
WHERE l.kind = u.kind

-- The dashboard's reads (statusCounts, recentFinished, listTasks, kinds, listDeadLetters): each
-- through an index and bounded, never a count or a scan of every task.

-- The overview's bounded counts (statusCounts), one row per (status, kind) with a count, then the
-- open dead letters, the clock, the earliest run time of a due task and the estimate of all
-- tasks as rows of their own (`kind` NULL). Each status is read through its partial index, at
-- most @cap rows. Queued tasks kind by kind (`queued`, recursive: one probe of tasks_due finds
-- the next kind and its earliest run time), the due and the later ones two ranges of tasks_due
-- (index-only), each counted up to what the kinds before it left of @cap. The estimate is the
-- planner's (pg_class.reltuples), or the seq range (two probes of the primary key) while the
-- table has never been analysed (-1).
-- name: task_status_counts
WITH RECURSIVE clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  queued(kind, first_due, due, later, due_left, later_left) AS (
    SELECT f.kind, f.first_due, d.n, l.n, @cap::int - d.n, @cap::int - l.n
    FROM clock,
      LATERAL (SELECT kind, next_run_at AS first_due FROM task_ready
        ORDER BY kind, next_run_at LIMIT 1) f,
      LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM task_ready WHERE kind = f.kind
        AND next_run_at <= clock.t LIMIT @cap::int) x) d,
      LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM task_ready WHERE kind = f.kind
        AND next_run_at > clock.t LIMIT @cap::int) x) l
    UNION ALL
    SELECT f.kind, f.first_due, d.n, l.n, q.due_left - d.n, q.later_left - l.n
    FROM queued q, clock,
      LATERAL (SELECT kind, next_run_at AS first_due FROM task_ready WHERE kind > q.kind
        ORDER BY kind, next_run_at LIMIT 1) f,
      LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM task_ready WHERE kind = f.kind
        AND next_run_at <= clock.t LIMIT q.due_left) x) d,
      LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM task_ready WHERE kind = f.kind
        AND next_run_at > clock.t LIMIT q.later_left) x) l)
SELECT 'queued' AS status, kind, due AS n FROM queued WHERE due > 0
UNION ALL SELECT 'scheduled', kind, later FROM queued WHERE later > 0
UNION ALL (SELECT 'running', kind, count(*) FROM (
  SELECT kind FROM task_leases LIMIT @cap::int) r GROUP BY kind)
UNION ALL (SELECT 'succeeded', kind, count(*) FROM (
  SELECT kind FROM task_done WHERE status = 'succeeded' LIMIT @cap::int) r GROUP BY kind)
UNION ALL (SELECT 'failed', kind, count(*) FROM (
  SELECT kind FROM task_done WHERE status = 'failed' LIMIT @cap::int) r GROUP BY kind)
UNION ALL (SELECT 'cancelled', kind, count(*) FROM (
  SELECT kind FROM task_done WHERE status = 'cancelled' LIMIT @cap::int) r GROUP BY kind)
UNION ALL SELECT 'dead_letters', NULL, count(*) FROM (
  SELECT 1 FROM dead_letters WHERE redriven_at IS NULL LIMIT @cap::int) d
UNION ALL SELECT 'now', NULL, t FROM clock
UNION ALL SELECT 'oldest_due', NULL, min(q.first_due) FROM queued q, clock WHERE q.first_due <= clock.t
UNION ALL SELECT 'total_estimate', NULL,
  CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
    ELSE COALESCE((SELECT max(seq) FROM tasks) - (SELECT min(seq) FROM tasks) + 1, 0) END
  FROM pg_class c WHERE c.oid = 'tasks'::regclass

-- recentFinished: tasks that succeeded since @since (a range of tasks_succeeded), dead letters
-- written since (a range of dead_letters_failed), and the latest @limit successes since, newest
-- first (tasks_succeeded backwards), as JSON rows. The ranges end at the clock (every finish is
-- by then): a generic plan takes `>= $n` alone for a third of the table and counts in parallel,
-- 6 ms of workers' start-up for a 5-second window that a plain index range counts in 1.4 ms.
-- name: task_recent_finished
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)
SELECT clock.t AS now,
  (SELECT count(*) FROM task_done
    WHERE status = 'succeeded' AND finished_at >= @since::bigint AND finished_at <= clock.t)::int AS succeeded,
  (SELECT count(*) FROM dead_letters WHERE failed_at >= @since::bigint AND failed_at <= clock.t)::int AS failed,
  (SELECT COALESCE(json_agg(s ORDER BY s.finished_at DESC, s.seq DESC), '[]') FROM (
    SELECT t.seq, t.created_at, t.started_at, d.finished_at, t.next_run_at, t.attempts FROM (
      SELECT seq, finished_at FROM task_done
      WHERE status = 'succeeded' AND finished_at >= @since::bigint AND finished_at <= clock.t
      ORDER BY finished_at DESC, seq DESC LIMIT @limit::int) d JOIN tasks t ON t.seq = d.seq) s) AS samples
FROM clock

-- finishedHistory: @buckets spans of @bucket_ms, the last ending at the clock, each with its
-- successes (a range of task_done_succeeded, index-only) and the dead letters written in it (a
-- range of dead_letters_failed), each counted up to @cap with the time of the last one counted,
-- and its first @samples successes' times (their task rows, by seq), as JSON rows.
-- name: task_finished_history
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
b AS (SELECT clock.t - (@buckets::int - i) * @bucket_ms::bigint AS lo
  FROM clock, generate_series(0, @buckets::int - 1) AS i)
SELECT b.lo AS start, s.n AS succeeded, s.last AS succeeded_last, f.n AS failed, f.last AS failed_last,
  x.samples
FROM b
CROSS JOIN LATERAL (SELECT count(*)::int AS n, max(finished_at) AS last FROM (
  SELECT finished_at FROM task_done
  WHERE status = 'succeeded' AND finished_at >= b.lo AND finished_at < b.lo + @bucket_ms::bigint
  ORDER BY finished_at LIMIT @cap::int) c) s
CROSS JOIN LATERAL (SELECT count(*)::int AS n, max(failed_at) AS last FROM (
  SELECT failed_at FROM dead_letters
  WHERE failed_at >= b.lo AND failed_at < b.lo + @bucket_ms::bigint
  ORDER BY failed_at LIMIT @cap::int) c) f
CROSS JOIN LATERAL (SELECT COALESCE(json_agg(r ORDER BY r.finished_at, r.seq), '[]') AS samples FROM (
  SELECT t.seq, t.created_at, t.started_at, d.finished_at, t.next_run_at, t.attempts FROM (
    SELECT seq, finished_at FROM task_done
    WHERE status = 'succeeded' AND finished_at >= b.lo AND finished_at < b.lo + @bucket_ms::bigint
    ORDER BY finished_at, seq LIMIT @samples::int) d JOIN tasks t ON t.seq = d.seq) r) x
ORDER BY b.lo

-- listTasks (see task-list.ts): a set read whole through its index, up to @cap entries below
-- @before (one branch runs: @set picks it, the others' constant conditions are false), with how
-- many it read and the seqs of the newest @limit that pass the filters. `set_size` below @cap:
-- the set was read to its end and the page is exact; else the driver walks by seq instead. Each
-- branch has its own LIMIT and an ORDER BY its index gives: a generic plan does not know the set
-- is small, and planned for all its rows it walked the primary key (`seq < $n`) for a kind of 50
-- tasks in 10 million (1.5 s).
-- name: task_page_of_set
WITH s AS MATERIALIZED (
  (SELECT seq, 'queued'::text AS status, kind FROM task_ready
    WHERE @set::text = 'queued' AND seq < @before::bigint
    ORDER BY kind, rank_at, seq LIMIT @cap::int)
  UNION ALL
  (SELECT seq, 'queued', kind FROM task_ready
    WHERE @set::text = 'queued_kind' AND kind = @kind::text AND seq < @before::bigint
    ORDER BY kind, rank_at, seq LIMIT @cap::int)
  UNION ALL
  (SELECT seq, 'running', kind FROM task_leases
    WHERE @set::text = 'running' AND seq < @before::bigint
    ORDER BY seq LIMIT @cap::int)
  UNION ALL
  (SELECT seq, 'succeeded', kind FROM task_done
    WHERE @set::text = 'succeeded' AND status = 'succeeded' AND seq < @before::bigint
    ORDER BY finished_at LIMIT @cap::int)
  UNION ALL
  (SELECT seq, status, kind FROM tasks
    WHERE @set::text = 'kind' AND kind = @kind::text AND seq < @before::bigint
    ORDER BY kind, idempotency_key LIMIT @cap::int))
SELECT (SELECT count(*) FROM s)::int AS set_size,
  ARRAY(SELECT seq FROM s WHERE (@status::text IS NULL OR status = @status::text)
    AND (@kind::text IS NULL OR kind = @kind::text) ORDER BY seq DESC LIMIT @limit::int) AS seqs

-- name: task_list_by_seqs
SELECT * FROM tasks WHERE seq = ANY(@seqs::bigint[]) ORDER BY seq DESC

-- The walks by seq, newest first below @before: along the primary key, or a failed or cancelled
-- task's partial index (in seq order), the other filters checked on each row. The inner LIMIT is
-- the largest page (MAX_PAGE) written out: told only `LIMIT $n`, a generic plan expects a tenth of
-- the table and goes parallel (7-15 ms of workers' start-up for a page that takes 0.5-2 ms).
-- name: task_page
SELECT * FROM (
  SELECT * FROM tasks
  WHERE seq < @before::bigint AND (@status::text IS NULL OR status = @status::text)
    AND (@kind::text IS NULL OR kind = @kind::text)
  ORDER BY seq DESC LIMIT 500) p
ORDER BY seq DESC LIMIT @limit::int

-- Tasks carrying @tag, newest first below @before: the tag's entries of task_tags walked down
-- from @before (its primary key, (tag, task_seq), backwards), each task read by seq, the status
-- and kind tested on the rows read. A page of a tag alone reads `limit` entries; with a status or
-- kind too, the tag's entries until the page fills. The inner LIMIT as in task_page.
-- name: task_page_tagged
SELECT * FROM (
  SELECT t.* FROM task_tags g JOIN tasks t ON t.seq = g.task_seq
  WHERE g.tag = @tag::text AND g.task_seq < @before::bigint
    AND (@status::text IS NULL OR t.status = @status::text) AND (@kind::text IS NULL OR t.kind = @kind::text)
  ORDER BY g.task_seq DESC LIMIT 500) p
ORDER BY seq DESC LIMIT @limit::int

-- Tasks of one correlation id, newest first below @before: the partial index tasks_correlation
-- (correlation_id, seq) walked down from @before (migration 017), the status, kind and tag tested
-- on the rows read. The inner LIMIT as in task_page.
-- name: task_page_correlated
SELECT * FROM (
  SELECT * FROM tasks t
  WHERE t.correlation_id = @correlation_id::text AND t.seq < @before::bigint
    AND (@status::text IS NULL OR t.status = @status::text) AND (@kind::text IS NULL OR t.kind = @kind::text)
    AND (@tag::text IS NULL OR EXISTS (SELECT 1 FROM task_tags g WHERE g.tag = @tag::text AND g.task_seq = t.seq))
  ORDER BY t.seq DESC LIMIT 500) p
ORDER BY seq DESC LIMIT @limit::int

-- A group's tasks (listTasks({ group })), newest first through tasks_group (grouped tasks only).
-- name: task_page_grouped
SELECT * FROM (
  SELECT * FROM tasks t
  WHERE t.group_key IS NOT NULL AND t.group_key = @group_key::text AND t.seq < @before::bigint
    AND (@status::text IS NULL OR t.status = @status::text) AND (@kind::text IS NULL OR t.kind = @kind::text)
    AND (@correlation_id::text IS NULL OR t.correlation_id = @correlation_id::text)
    AND (@tag::text IS NULL OR EXISTS (SELECT 1 FROM task_tags g WHERE g.tag = @tag::text AND g.task_seq = t.seq))
  ORDER BY t.seq DESC LIMIT 500) p
ORDER BY seq DESC LIMIT @limit::int

-- name: task_page_failed
SELECT t.* FROM (
  SELECT seq FROM task_done
  WHERE status = 'failed' AND seq < @before::bigint AND (@kind::text IS NULL OR kind = @kind::text)
  ORDER BY seq DESC LIMIT @limit::int) d JOIN tasks t ON t.seq = d.seq
ORDER BY t.seq DESC

-- name: task_page_cancelled
SELECT t.* FROM (
  SELECT seq FROM task_done
  WHERE status = 'cancelled' AND seq < @before::bigint AND (@kind::text IS NULL OR kind = @kind::text)
  ORDER BY seq DESC LIMIT @limit::int) d JOIN tasks t ON t.seq = d.seq
ORDER BY t.seq DESC

-- Every kind in the tasks table: a loose index scan of the (kind, idempotency_key) unique index,
-- from each kind to the next by one probe (`min(kind) WHERE kind > previous`, index-only).
-- name: task_kinds
WITH RECURSIVE k(kind) AS (
  SELECT min(kind) FROM tasks
  UNION ALL
  SELECT (SELECT min(kind) FROM tasks WHERE kind > k.kind) FROM k WHERE k.kind IS NOT NULL)
SELECT kind FROM k WHERE kind IS NOT NULL

-- Dead letters newest first below @before: the open ones through dead_letters_open, or all along
-- the primary key (the inner LIMIT as in task_page), each with its task's kind (task_seq -> tasks:
-- one probe of the primary key a row shown; null for an invalid task, never stored).
-- name: dead_letter_page_open
SELECT p.*, (SELECT t.kind FROM tasks t WHERE t.seq = p.task_seq) AS kind FROM (
  SELECT * FROM dead_letters WHERE redriven_at IS NULL AND seq < @before::bigint ORDER BY seq DESC LIMIT 500) p
ORDER BY p.seq DESC LIMIT @limit::int

-- name: dead_letter_page_all
SELECT p.*, (SELECT t.kind FROM tasks t WHERE t.seq = p.task_seq) AS kind FROM (
  SELECT * FROM dead_letters WHERE seq < @before::bigint ORDER BY seq DESC LIMIT 500) p
ORDER BY p.seq DESC LIMIT @limit::int

-- A kind's open dead letters, newest first below @before: an open dead letter's task is failed
-- (re-drive marks its dead letters, purge deletes both), so the kind's failed tasks are read from
-- task_done_failed (index-only, its (seq, kind) entries: every failed task's, as the overview's
-- count of failed reads them up to its cap) into a hash, and the open dead letters walked down
-- until the page fills. 2-9 ms with 900 failed tasks (a million tasks); a walk reading each dead
-- letter's kind from its task instead took 8-11 ms for a kind with none, and grows with the dead
-- letters, not the failed tasks of the kind.
-- name: dead_letter_page_open_of_kind
SELECT d.*, @kind::text AS kind FROM dead_letters d
WHERE d.redriven_at IS NULL AND d.seq < @before::bigint
  AND d.task_seq IN (SELECT seq FROM task_done WHERE status = 'failed' AND kind = @kind::text)
ORDER BY d.seq DESC LIMIT @limit::int

-- Re-driven ones too: their tasks may be in any state, so each dead letter's kind is read from its
-- task (a subquery: the plan stays a walk down the dead letters) until the page fills; a kind with
-- no dead letter reads every one below @before.
-- name: dead_letter_page_all_of_kind
SELECT d.*, @kind::text AS kind FROM dead_letters d
WHERE d.seq < @before::bigint AND (SELECT t.kind FROM tasks t WHERE t.seq = d.task_seq) = @kind::text
ORDER BY d.seq DESC LIMIT @limit::int

-- The state tables against the task rows (migration 013): every task whose status and state row
-- disagree (a queued task without its one ready row, a running one without its one lease, a
-- finished one without its one done row of that status, or a row of a state it is not in), and
-- every state row whose task is gone. No row: they agree. For the history checker and tests;
-- it reads every task.
-- (a task waiting for its parents, migration 018, is queued without a ready row)
-- name: task_state_check
SELECT t.seq, t.status, (SELECT count(*) FROM task_ready r WHERE r.seq = t.seq)::int AS ready,
  (SELECT count(*) FROM task_leases l WHERE l.seq = t.seq)::int AS leased,
  (SELECT string_agg(d.status, ',') FROM task_done d WHERE d.seq = t.seq) AS done
FROM tasks t
WHERE (SELECT count(*) FROM task_ready r WHERE r.seq = t.seq)
    <> CASE WHEN t.status = 'queued' AND COALESCE(t.waiting_for, 0) = 0 THEN 1 ELSE 0 END
  OR (SELECT count(*) FROM task_leases l WHERE l.seq = t.seq) <> CASE WHEN t.status = 'running' THEN 1 ELSE 0 END
  OR COALESCE((SELECT string_agg(d.status, ',') FROM task_done d WHERE d.seq = t.seq), '')
    <> CASE WHEN t.status IN ('succeeded', 'failed', 'cancelled') THEN t.status ELSE '' END
UNION ALL SELECT s.seq, NULL, NULL, NULL, s.state FROM (
  SELECT seq, 'orphan ready' AS state FROM task_ready UNION ALL SELECT seq, 'orphan lease' FROM task_leases
  UNION ALL SELECT seq, 'orphan done' FROM task_done) s
WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.seq = s.seq)

-- Progress and log lines (issue 35; task-reports.ts): a flush's reports, every task's, in one
-- statement. Report @i (from 1) is (@kinds[i], @keys[i], @attempts[i], @progress[i] (NULL: leave
-- it), @dropped[i]); its lines are the entries of @lines/@ats whose @line_of is i, in order. `t`:
-- each report's task, only while this owner holds its lease at that attempt (the fence: a worker
-- whose lease was taken over, or that runs an older attempt, finds nothing and writes nothing),
-- locked in seq order so that the numbering of its lines is not raced. The progress is written in
-- place with `version` untouched (the outcome's guarded transition still matches); a task's lines
-- are numbered on from its last kept one, up to @cap; the ones past it (and the @dropped the
-- worker did not send) are counted in the marker row at @cap + 1. Answers the @i of each report
-- written (a fenced one is missing).
-- name: task_report
WITH r AS (
    SELECT * FROM unnest(@kinds::text[], @keys::text[], @attempts::int[], @progress::text[], @dropped::int[])
      WITH ORDINALITY AS r(kind, key, attempt, progress, dropped, i)),
  t AS (
    SELECT tasks.seq, r.i, r.attempt, r.progress, r.dropped FROM r JOIN tasks
      ON tasks.kind = r.kind AND tasks.idempotency_key = r.key
    WHERE (tasks.status = 'running') IS TRUE AND tasks.lease_owner = @owner AND tasks.attempts = r.attempt
    ORDER BY tasks.seq
    FOR UPDATE OF tasks),
  -- a task's last progress of the batch (one report a task, but a caller may send more)
  p AS (
    UPDATE tasks SET progress = lp.progress
    FROM (SELECT DISTINCT ON (seq) seq, progress FROM t WHERE progress IS NOT NULL ORDER BY seq, i DESC) lp
    WHERE tasks.seq = lp.seq),
  -- each report with its task's last kept line (reports of one task see the same)
  tl AS (
    SELECT t.seq, t.i, t.attempt, t.dropped,
      COALESCE((SELECT MAX(l.seq) FROM task_logs l WHERE l.task_seq = t.seq AND l.seq <= @cap::int), 0) AS last
    FROM t),
  -- the lines, numbered on per task, in report then line order
  u AS (
    SELECT tl.seq, tl.attempt, x.line, x.at,
      tl.last + row_number() OVER (PARTITION BY tl.seq ORDER BY tl.i, x.j) AS n
    FROM unnest(@line_of::int[], @lines::text[], @ats::bigint[]) WITH ORDINALITY AS x(r, line, at, j)
    JOIN tl ON tl.i = x.r),
  ins AS (
    INSERT INTO task_logs (task_seq, seq, at, attempt, line)
    SELECT u.seq, u.n, u.at, u.attempt, u.line FROM u WHERE u.n <= @cap::int),
  -- per task: the lines past the cap and the ones the worker dropped (the fence makes its attempt one)
  over AS (
    SELECT o.seq, MIN(o.attempt) AS attempt, SUM(o.n)::int AS n, MAX(o.at) AS at FROM (
      SELECT tl.seq, tl.attempt, tl.dropped AS n, NULL::bigint AS at FROM tl
      UNION ALL SELECT u.seq, u.attempt, (u.n > @cap::int)::int, u.at FROM u) o
    GROUP BY o.seq),
  marker AS (
    INSERT INTO task_logs (task_seq, seq, at, attempt, line)
    SELECT over.seq, @cap::int + 1, COALESCE(over.at, @now_ms::bigint), over.attempt, over.n::text FROM over
    WHERE over.n > 0
    ON CONFLICT (task_seq, seq) DO UPDATE SET
      line = (task_logs.line::bigint + excluded.line::bigint)::text, at = excluded.at, attempt = excluded.attempt)
SELECT i FROM t

-- name: task_log_list
SELECT * FROM task_logs WHERE task_seq = @task_seq ORDER BY seq
-- Workflows (issue 35, migration 018; flows.ts, postgres/flow-enqueue.ts). The parents of a flow's
-- new children (by seq, and existing tasks by id), locked in seq order and marked has_children,
-- in the flow's transaction: a parent that finishes meanwhile waits for its commit, and then its
-- trigger sees the edges; one that finished first is read as finished.
-- name: task_flow_lock_parents
WITH wanted AS (
    SELECT seq FROM tasks WHERE seq = ANY(@seqs::bigint[])
    UNION SELECT seq FROM tasks WHERE id = ANY(@ids::text[])),
  locked AS (SELECT t.seq FROM tasks t WHERE t.seq IN (SELECT seq FROM wanted) ORDER BY t.seq FOR UPDATE)
UPDATE tasks t SET has_children = true FROM locked l WHERE t.seq = l.seq
RETURNING t.seq, t.id, t.status

-- The flow's edges, and its new children filed (flows.ts planFlow): waiting for @child_waiting
-- parents (their ready row, inserted with the claim, deleted), due now (0), or cancelled at once by
-- a parent that had failed (@child_reason). Their claims were inserted earlier in the transaction.
-- flow-enqueue.ts files the cancelled ones in a call of their own, before the edges: a cancelled
-- child with children fires its release trigger at the end of the statement, which must find none.
-- name: task_flow_link
WITH clock AS (SELECT COALESCE(@now::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t),
  edges AS (
    INSERT INTO task_edges (parent_seq, child_seq, run_anyway)
    SELECT * FROM unnest(@edge_parent::bigint[], @edge_child::bigint[], @edge_run_anyway::bool[])
    ON CONFLICT DO NOTHING),
  filed AS (
    UPDATE tasks t SET waiting_for = u.n,
      status = CASE WHEN u.reason IS NULL THEN t.status ELSE 'cancelled' END,
      finished_at = CASE WHEN u.reason IS NULL THEN t.finished_at ELSE clock.t END,
      error_class = CASE WHEN u.reason IS NULL THEN t.error_class ELSE 'parent_failed' END,
      error_message = u.reason
    FROM unnest(@child_seq::bigint[], @child_waiting::int[], @child_reason::text[]) AS u(seq, n, reason), clock
    WHERE t.seq = u.seq AND (t.status = 'queued') IS TRUE
    RETURNING t.seq, t.kind, t.status, t.rank_at, t.waiting_for, t.finished_at),
  unready AS (
    DELETE FROM task_ready r USING filed f
    WHERE r.kind = f.kind AND r.rank_at = f.rank_at AND r.seq = f.seq AND (f.waiting_for > 0 OR f.status = 'cancelled')),
  done AS (
    INSERT INTO task_done (seq, kind, status, finished_at)
    SELECT seq, kind, status, finished_at FROM filed WHERE status = 'cancelled')
SELECT count(*)::int AS n FROM filed

-- The parents of taken tasks that have parents, with their results (the handler's ctx.parents).
-- name: task_parents_of
SELECT e.child_seq, t.seq, t.id, t.kind, t.status, t.result, e.run_anyway
FROM task_edges e JOIN tasks t ON t.seq = e.parent_seq
WHERE e.child_seq = ANY(@seqs::bigint[]) ORDER BY e.child_seq, e.parent_seq

-- name: task_children_of
SELECT e.child_seq, t.seq, t.id, t.kind, t.status, NULL::text AS result, e.run_anyway
FROM task_edges e JOIN tasks t ON t.seq = e.child_seq
WHERE e.parent_seq = @seq ORDER BY e.child_seq
