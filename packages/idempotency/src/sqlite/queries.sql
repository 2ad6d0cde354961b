-- The SQLite driver's statements, bound by name: `@name` parameters are compiled to `?` once at
-- load (sql/query-file.ts) and bound from a params object.
-- Each statement's parameters are typed in queries.ts (SqliteParams): to add a column to a task,
-- change the statement here and its params interface there. Times are epoch ms by the store's
-- clock (`@now`). Statements that do the same as one of PostgreSQL's have its name.

-- A queued task is due at @next_run_at (now, or later for a delayed one) and ranks by its
-- priority's worth of waiting earlier: `rank_at` is `:rank_at(<run time>, <priority>)` wherever
-- `next_run_at` is set, the one formula (sql/rank.ts) filled in when the file is parsed.
-- The claims have no RETURNING: the driver knows what it inserted (the seq is the insert's rowid).
-- SQLite runs a RETURNING as a trigger, and a statement with a trigger inside a transaction keeps
-- a statement journal: a copy of every page it touches (six b-trees here), written to a temporary
-- file. That was most of the kernel's time in a bulk enqueue (enqueue-many.mjs, alternated with the
-- build before: about twice the rate without; the figures are in packages/taskq/README.md).
-- name: task_claim
INSERT INTO tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at,
  next_run_at, priority, rank_at, version, tags, correlation_id, trace_context, group_key)
VALUES (@id, @idempotency_key, @kind, @payload, 'queued', 0, @max_attempts, @now, @now, @next_run_at,
  @priority, :rank_at(@next_run_at, @priority), 0, @tags, @correlation_id, @trace_context, @group_key)
ON CONFLICT (kind, idempotency_key) DO NOTHING

-- A claim with `start`: running at once, leased to this owner, its first attempt counted.
-- name: task_claim_running
INSERT INTO tasks (id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at, updated_at,
  next_run_at, priority, rank_at, started_at, lease_owner, lease_expires_at, version, tags, correlation_id,
  trace_context, group_key)
VALUES (@id, @idempotency_key, @kind, @payload, 'running', 1, @max_attempts, @now, @now, @now,
  @priority, :rank_at(@now, @priority), @now, @owner, @lease_expires_at, 0, @tags, @correlation_id, @trace_context,
  @group_key)
ON CONFLICT (kind, idempotency_key) DO NOTHING

-- name: task_get
SELECT * FROM tasks WHERE seq = @seq

-- name: task_get_by_key
SELECT * FROM tasks WHERE kind = @kind AND idempotency_key = @idempotency_key

-- name: task_list_by_id
SELECT * FROM tasks WHERE id = @id ORDER BY seq

-- The transitions: each guarded by version and status (no row changed means a stale call).

-- name: task_start
UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = @now,
  updated_at = @now, lease_owner = @owner, lease_expires_at = @lease_expires_at
WHERE seq = @seq AND version = @version AND status = 'queued'
RETURNING version, attempts

-- A task without children (has_children NULL, migration 018); one that has children, which
-- matches no row here, is ended by task_succeed_parent, and its children counted in the same
-- transaction (flow-release.ts): a success pays nothing for workflows it is not in.
-- name: task_succeed
UPDATE tasks SET status = 'succeeded', output_key = @output_key, etag = @etag, result = @result,
  finished_at = @now, updated_at = @now, error_class = NULL, error_message = NULL,
  lease_expires_at = NULL, version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running' AND has_children IS NULL

-- name: task_succeed_parent
UPDATE tasks SET status = 'succeeded', output_key = @output_key, etag = @etag, result = @result,
  finished_at = @now, updated_at = @now, error_class = NULL, error_message = NULL,
  lease_expires_at = NULL, version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running' AND has_children = 1
RETURNING seq, id, status, has_children

-- A retry or a release of a task whose cancel was asked for (its worker had not heard of it yet)
-- ends it cancelled: it never runs again. These transitions (and fail, reclaim, the cancels)
-- return the row's status and has_children: flow-release.ts releases the children of one that
-- ended with children, and nothing more is read for the others.
-- name: task_retry
UPDATE tasks SET status = CASE WHEN cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
  finished_at = CASE WHEN cancel_requested_at IS NULL THEN finished_at ELSE @now END,
  next_run_at = @next_run_at, rank_at = :rank_at(@next_run_at, priority),
  error_class = @error_class,
  error_message = @error_message, updated_at = @now,
  lease_owner = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE lease_owner END, lease_expires_at = NULL,
  version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running'
RETURNING seq, id, status, has_children

-- name: task_fail
UPDATE tasks SET status = 'failed', error_class = @error_class, error_message = @error_message,
  finished_at = @now, updated_at = @now, lease_expires_at = NULL, version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running'
RETURNING seq, id, status, has_children

-- The dead letter of a task that just failed (task_fail, in the same transaction).
-- name: dead_letter_insert
INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, @now FROM tasks WHERE seq = @seq

-- An attempt that ends other than in success, kept (task_attempts), read from its task row just
-- before the statement that ends it (same transaction, same guard): a retry or a release of a task
-- whose cancel was asked for ends it cancelled.
-- name: task_attempt_insert
INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, outcome, error_class, error_message, error_stack, worker)
SELECT seq, attempts, started_at, @now, CASE WHEN cancel_requested_at IS NULL OR @outcome = 'failed' THEN @outcome ELSE 'cancelled' END,
  @error_class, @error_message, @error_stack, lease_owner
FROM tasks WHERE seq = @seq AND version = @version AND status = 'running'

-- The attempts task_reclaim is about to end (run first, in the same transaction): lost with their worker.
-- name: task_attempt_insert_lost
INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, outcome, error_class, error_message, worker)
SELECT seq, attempts, started_at, @now, CASE WHEN cancel_requested_at IS NULL THEN 'lost' ELSE 'cancelled' END,
  'lease_expired', 'its worker stopped without finishing it (killed, or frozen past its lease)', lease_owner
FROM tasks WHERE status = 'running' AND CASE WHEN @owner IS NULL THEN lease_expires_at < @now ELSE lease_owner = @owner END

-- A task's attempts that ended other than in success, oldest first.
-- name: task_attempt_list
SELECT * FROM task_attempts WHERE task_seq = @task_seq ORDER BY seq

-- name: task_release
UPDATE tasks SET status = CASE WHEN cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
  finished_at = CASE WHEN cancel_requested_at IS NULL THEN finished_at ELSE @now END, updated_at = @now,
  lease_owner = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE lease_owner END, lease_expires_at = NULL,
  version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running'
RETURNING seq, id, status, has_children

-- The durable queue. SQLite's UPDATE ... RETURNING answers in no set order, so a take is two
-- statements in one transaction: the due tasks started (their seqs returned), then read back in
-- queue order. Measured no slower than one UPDATE ... RETURNING * sorted afterwards (a row read
-- back by key costs what RETURNING * cost); starting them one statement each was ~20% slower.
-- The queued index is (kind, rank_at, seq): a take reads at most @limit due tasks of each
-- kind it serves (one limited subquery per kind, `@kinds` expanded by the driver into
-- `:per_kind` below, task_take_kind once per kind: a statement per number of kinds, prepared
-- once, see takeStatement in queries.ts), then keeps the
-- first @limit of those in queue order. A take of every kind first lists the queued kinds
-- (task_queued_kinds, a skip scan of the index: one probe per kind).
-- name: task_take
UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = @now,
  updated_at = @now, lease_owner = @owner, lease_expires_at = @lease_expires_at
WHERE seq IN (
  SELECT seq FROM (:per_kind) ORDER BY rank_at, seq LIMIT @limit)
RETURNING *

-- The due tasks of one kind, in queue order, at most @kind_limit (the take's limit, or less for a
-- limited kind): the part of task_take repeated per kind.
-- Two ranges that end where due tasks end (see PostgreSQL's task_take): ranked by now, and the
-- due ones of a negative priority ranked later (their own small index).
-- name: task_take_kind
SELECT * FROM (
  SELECT * FROM (
    SELECT seq, rank_at FROM tasks INDEXED BY tasks_queued
    WHERE status = 'queued' AND kind = @kind AND rank_at <= @now AND next_run_at <= @now
    ORDER BY rank_at, seq LIMIT @kind_limit)
  UNION ALL
  SELECT * FROM (
    SELECT seq, rank_at FROM tasks INDEXED BY tasks_queued_negative
    WHERE status = 'queued' AND priority < 0 AND kind = @kind AND rank_at > @now AND next_run_at <= @now
    ORDER BY rank_at, seq LIMIT @kind_limit)
  ORDER BY rank_at, seq LIMIT @kind_limit)

-- A grouped kind's take (group-take.ts, docs/architecture.md §5.3), in the take's transaction.
-- The walk: up to @limit groups of the kind with queued tasks named after @after, in name order,
-- each with its first entry in queue order (its head, if due) and its running tasks. One probe of
-- tasks_group_queued (grouped queued tasks only) a group, landing on its head, and one of
-- tasks_group_running (grouped running tasks only), all in one statement.
-- name: task_group_walk
WITH RECURSIVE walk(n, seq) AS (
  SELECT 1, (SELECT q.seq FROM tasks AS q INDEXED BY tasks_group_queued
    WHERE q.status = 'queued' AND q.group_key IS NOT NULL AND q.kind = @kind AND q.group_key > @after
    ORDER BY q.group_key, q.rank_at, q.seq LIMIT 1)
  UNION ALL
  SELECT walk.n + 1, (SELECT q.seq FROM tasks AS q INDEXED BY tasks_group_queued
    WHERE q.status = 'queued' AND q.group_key IS NOT NULL AND q.kind = @kind AND q.group_key > t.group_key
    ORDER BY q.group_key, q.rank_at, q.seq LIMIT 1)
  FROM walk JOIN tasks AS t ON t.seq = walk.seq WHERE walk.n < @limit)
SELECT t.group_key, t.seq, t.next_run_at <= @now AS due,
  (SELECT COUNT(*) FROM tasks AS r INDEXED BY tasks_group_running
    WHERE r.status = 'running' AND r.group_key IS NOT NULL AND r.kind = @kind AND r.group_key = t.group_key) AS running
FROM walk JOIN tasks AS t ON t.seq = walk.seq ORDER BY walk.n

-- The queued tasks among @seqs (a JSON array) taken, leased: the heads a grouped take chose.
-- name: task_take_seqs
UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = @now,
  updated_at = @now, lease_owner = @owner, lease_expires_at = @lease_expires_at
WHERE seq IN (SELECT value FROM json_each(@seqs)) AND status = 'queued'
RETURNING *

-- A group's head taken, when the head the walk found is not due (group-take.ts,
-- docs/architecture.md §5.3): its first due task in queue order (rank, then seq), leased.
-- name: task_group_take_head
UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = @now,
  updated_at = @now, lease_owner = @owner, lease_expires_at = @lease_expires_at
WHERE seq = (
  SELECT seq FROM tasks INDEXED BY tasks_group_queued
  WHERE status = 'queued' AND group_key IS NOT NULL AND kind = @kind AND group_key = @group_key
    AND next_run_at <= @now
  ORDER BY rank_at, seq LIMIT 1)
RETURNING *

-- A grouped kind's tasks without a group: the first due one among the first 64 due entries of the
-- kind's queue (a window, so a take never walks a grouped backlog to find none; see §5.3), read
-- as task_take_kind reads them: ranked by now, then the due ones of a negative priority ranked later.
-- name: task_group_take_ungrouped
UPDATE tasks SET status = 'running', attempts = attempts + 1, version = version + 1, started_at = @now,
  updated_at = @now, lease_owner = @owner, lease_expires_at = @lease_expires_at
WHERE seq = (
  SELECT seq FROM (
    SELECT * FROM (
      SELECT seq, rank_at, group_key FROM tasks INDEXED BY tasks_queued
      WHERE status = 'queued' AND kind = @kind AND rank_at <= @now AND next_run_at <= @now
      ORDER BY rank_at, seq LIMIT 64)
    UNION ALL
    SELECT * FROM (
      SELECT seq, rank_at, group_key FROM tasks INDEXED BY tasks_queued_negative
      WHERE status = 'queued' AND priority < 0 AND kind = @kind AND rank_at > @now AND next_run_at <= @now
      ORDER BY rank_at, seq LIMIT 64)
    ORDER BY rank_at, seq LIMIT 64)
  WHERE group_key IS NULL ORDER BY rank_at, seq LIMIT 1)
RETURNING *

-- Where a grouped kind's next take starts: after this group ('' : after its tasks without a group).
-- name: kind_group_cursor_set
UPDATE kind_limits SET group_cursor = @group_cursor WHERE kind = @kind

-- The kinds that have queued tasks: a skip scan of tasks_queued, one probe per kind.
-- name: task_queued_kinds
WITH RECURSIVE k(kind) AS (
  SELECT (SELECT kind FROM tasks WHERE status = 'queued' ORDER BY kind LIMIT 1)
  UNION ALL
  SELECT (SELECT kind FROM tasks WHERE status = 'queued' AND kind > k.kind ORDER BY kind LIMIT 1)
  FROM k WHERE k.kind IS NOT NULL)
SELECT kind FROM k WHERE kind IS NOT NULL

-- When a kind's earliest queued task is due (epoch ms; NULL: none queued): an idle worker sleeps
-- until the earliest of its kinds'. One probe of tasks_due.
-- A child waiting for its parents (next_run_at @waiting_at, FLOW_WAITING_AT) is not due at any
-- time: left out (the range keeps the read on tasks_due, whose first row answers).
-- name: task_next_due
SELECT MIN(next_run_at) AS due FROM tasks WHERE status = 'queued' AND kind = @kind AND next_run_at < @waiting_at

-- A running task whose worker is gone (@owner NULL: its lease expired; else that owner's, a dead
-- process on this host) goes back to queued, unless a cancel was asked for (then: cancelled) or
-- that was its last attempt (then: failed, a dead letter, `lease_expired`). Attempts never pass
-- max_attempts.
-- name: task_reclaim
UPDATE tasks SET
  status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled'
    WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
  finished_at = CASE WHEN cancel_requested_at IS NOT NULL OR attempts >= max_attempts THEN @now END,
  error_class = CASE WHEN cancel_requested_at IS NULL AND attempts >= max_attempts THEN 'lease_expired'
    ELSE error_class END,
  error_message = CASE WHEN cancel_requested_at IS NULL AND attempts >= max_attempts
    THEN 'its last attempt''s worker stopped without finishing it (killed, or frozen past its lease): no attempts left' ELSE error_message END,
  lease_owner = CASE WHEN cancel_requested_at IS NOT NULL OR attempts >= max_attempts THEN lease_owner END,
  updated_at = @now, lease_expires_at = NULL, version = version + 1
WHERE status = 'running' AND CASE WHEN @owner IS NULL THEN lease_expires_at < @now ELSE lease_owner = @owner END
RETURNING seq, id, status, has_children

-- The dead letters of the tasks task_reclaim is about to fail (run first, in the same transaction).
-- name: dead_letter_insert_abandoned
INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
SELECT seq, id, idempotency_key, payload, 'lease_expired', 'its last attempt''s worker stopped without finishing it (killed, or frozen past its lease): no attempts left', attempts, @now FROM tasks
WHERE status = 'running' AND cancel_requested_at IS NULL AND attempts >= max_attempts
  AND CASE WHEN @owner IS NULL THEN lease_expires_at < @now ELSE lease_owner = @owner END

-- name: task_running_owners
SELECT DISTINCT lease_owner FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL

-- name: task_renew_leases
UPDATE tasks SET lease_expires_at = @lease_expires_at WHERE status = 'running' AND lease_owner = @owner

-- A task that failed validation, kept with its reason.
-- name: dead_letter_insert_invalid
INSERT INTO dead_letters (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
VALUES (NULL, @task_id, NULL, @payload, @error_class, @error_message, 0, @now)

-- Re-drive (redriveTasks): each failed task of the seqs given back to queued with attempts reset,
-- then its open dead letters marked re-driven (by task: dead_letters_task), kept as its history.
-- A task that is not failed is left alone, its letters too.
-- name: task_redrive
UPDATE tasks SET status = 'queued', attempts = 0, next_run_at = @now, rank_at = :rank_at(@now, priority),
  updated_at = @now, lease_owner = NULL, error_class = NULL, error_message = NULL, version = version + 1
WHERE seq = @seq AND status = 'failed'

-- name: dead_letter_mark_redriven
UPDATE dead_letters SET redriven_at = @now WHERE task_seq = @task_seq AND redriven_at IS NULL

-- name: task_count_succeeded_since
SELECT COUNT(*) AS n FROM tasks WHERE status = 'succeeded' AND finished_at >= @since

-- name: lease_holders
SELECT lease_owner AS owner, COUNT(*) AS running, MAX(lease_expires_at) AS expires FROM tasks
WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner

-- Retention: the same batch in both statements (one transaction), the oldest succeeded tasks.
-- A tagged task's entries in task_tags, after its claim inserted it (tags: its JSON array).
-- name: task_tags_insert
INSERT INTO task_tags (tag, task_seq) SELECT value, @seq FROM json_each(@tags)

-- The entries of the tasks task_prune deletes (the same rows: the same statement in the same
-- transaction, just before it); only tagged tasks have any.
-- name: task_tags_prune
DELETE FROM task_tags WHERE (tag, task_seq) IN (
  SELECT j.value, t.seq FROM (
    SELECT seq, tags FROM tasks WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at
    LIMIT @limit) AS t, json_each(t.tags) AS j
  WHERE t.tags IS NOT NULL)

-- name: dead_letter_prune
DELETE FROM dead_letters WHERE task_seq IN (
  SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at LIMIT @limit)

-- name: task_attempt_prune
DELETE FROM task_attempts WHERE task_seq IN (
  SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at LIMIT @limit)

-- The attempts of a task task_purge_failed deleted (run after it).
-- name: task_attempt_purge
DELETE FROM task_attempts WHERE task_seq = @seq AND NOT EXISTS (SELECT 1 FROM tasks WHERE seq = @seq)

-- name: task_prune
DELETE FROM tasks WHERE seq IN (
  SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at LIMIT @limit)

-- name: dead_letter_old_tasks
SELECT DISTINCT task_seq FROM dead_letters WHERE failed_at < @cutoff AND task_seq IS NOT NULL

-- name: dead_letter_purge
DELETE FROM dead_letters WHERE failed_at < @cutoff

-- The entries of a failed task task_purge_failed is about to delete (the same condition, just
-- before it, in the same transaction).
-- name: task_tags_purge
DELETE FROM task_tags WHERE task_seq = @seq AND tag IN (
  SELECT j.value FROM tasks AS t, json_each(t.tags) AS j
  WHERE t.seq = @seq AND t.status = 'failed' AND t.tags IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE task_seq = @seq))

-- A failed task whose dead letters are all gone.
-- name: task_purge_failed
DELETE FROM tasks WHERE seq = @seq AND status = 'failed'
  AND NOT EXISTS (SELECT 1 FROM dead_letters WHERE task_seq = @seq)

-- The once-per-interval gate: a row is written (and returned) only when the job has none or its
-- last run is at least @every_ms old.
-- name: maintenance_try_run
INSERT INTO maintenance (name, owner, last_run_at) VALUES (@name, @owner, @now)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, last_run_at = excluded.last_run_at
  WHERE maintenance.last_run_at <= excluded.last_run_at - @every_ms
RETURNING name

-- The workers registry: each worker (a process that runs tasks) reports itself in a row of the
-- `managers` table, named before the process was called a worker and kept (a rename needs a
-- migration); the statements say worker.
-- name: worker_report
INSERT INTO managers (owner, started_at, heartbeat_at, info) VALUES (@owner, @now, @now, @info)
ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, info = excluded.info

-- name: worker_remove
DELETE FROM managers WHERE owner = @owner

-- The registry rows of workers silent for @stale_ms that hold no lease any more (a process
-- killed without closing, whose tasks were reclaimed): removed.
-- name: worker_forget_dead
DELETE FROM managers WHERE heartbeat_at < @now - @stale_ms
  AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.status = 'running' AND t.lease_owner = managers.owner)

-- name: worker_list
SELECT * FROM managers ORDER BY owner

-- Cancel (issue 20). A queued task is cancelled at once (version-guarded: the version read in the
-- same transaction); a running one gets a cancel request its worker acts on (the version is not
-- moved, so the worker's own transitions stay valid); a finished one is left alone.
-- name: task_cancel_queued
UPDATE tasks SET status = 'cancelled', finished_at = @now, updated_at = @now, version = version + 1
WHERE seq = @seq AND version = @version AND status = 'queued'
RETURNING *

-- name: task_request_cancel
UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, @now), updated_at = @now
WHERE seq = @seq AND version = @version AND status = 'running'
RETURNING *

-- @seqs: a JSON array of running tasks' seqs; answers those with a cancel requested.
-- name: task_list_cancel_requested
SELECT seq FROM tasks
WHERE seq IN (SELECT value FROM json_each(@seqs)) AND status = 'running' AND cancel_requested_at IS NOT NULL
ORDER BY seq

-- The worker ends a task whose cancel was requested: running → cancelled, lease cleared (its owner kept: who ran it).
-- name: task_cancel_running
UPDATE tasks SET status = 'cancelled', finished_at = @now, updated_at = @now,
  lease_expires_at = NULL, version = version + 1
WHERE seq = @seq AND version = @version AND status = 'running'
RETURNING seq, id, status, has_children

-- Recurring tasks (issue 22): a schedule per name, its next occurrence computed by the caller from
-- the cron expression. A put keeps the run history (last_run_at) of a schedule it replaces.
-- name: schedule_put
INSERT INTO schedules (name, cron, timezone, kind, payload, options, paused, next_run_at, last_run_at,
  created_at, updated_at)
VALUES (@name, @cron, @timezone, @kind, @payload, @options, 0, @next_run_at, NULL, @now, @now)
ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind,
  payload = excluded.payload, options = excluded.options, paused = 0, next_run_at = excluded.next_run_at,
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
UPDATE schedules SET paused = @paused, next_run_at = COALESCE(@next_run_at, next_run_at), updated_at = @now
WHERE name = @name
RETURNING *

-- The schedules whose next occurrence is due.
-- name: schedule_list_due
SELECT * FROM schedules WHERE paused = 0 AND next_run_at <= @now ORDER BY next_run_at LIMIT @limit

-- An occurrence fired: compare-and-set on the occurrence the caller read, so of schedulers racing
-- one advances the schedule (and enqueues, in the same transaction) and the others change nothing.
-- name: schedule_advance
UPDATE schedules SET next_run_at = @next_run_at, last_run_at = @fired_at, updated_at = @now
WHERE name = @name AND next_run_at = @expected AND paused = 0

-- The store's clock: what "now" is for the schedules' occurrences.
-- name: clock_now
SELECT @now AS now

-- Limits of a kind across every worker (issue 22; see limits.ts): read in the take's transaction.
-- `breaker_probe_until` (breaker.ts BreakerRow): the lease expiry of the probe's task while it
-- runs, looked up only for a breaker that is open or half-open with a probe.
-- name: kind_limit_list
SELECT l.kind, l.concurrency, l.rate_limit, l.rate_interval_ms, l.window_start, l.window_count, l.paused_at,
  l.per_group_concurrency, l.group_cursor, l.breaker_failures, l.breaker_window_ms, l.breaker_cooldown_ms, l.breaker_errors, l.breaker_ratio,
  l.breaker_min_attempts, l.breaker_window_start, l.breaker_count, l.breaker_attempts, l.breaker_opened_at,
  l.breaker_probe_seq,
  CASE WHEN l.breaker_opened_at IS NOT NULL AND l.breaker_probe_seq IS NOT NULL THEN
    (SELECT t.lease_expires_at FROM tasks t WHERE t.seq = l.breaker_probe_seq AND t.status = 'running')
  END AS breaker_probe_until
FROM kind_limits l ORDER BY l.kind

-- Through the running tasks' index (few rows): left to itself the planner reads the kind's
-- every task through the key index, a take's cost growing with the store.
-- name: task_count_running_of_kind
SELECT COUNT(*) AS n FROM tasks INDEXED BY tasks_running WHERE status = 'running' AND kind = @kind

-- A put keeps the current rate window's count.
-- name: kind_limit_put
INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at,
  per_group_concurrency)
VALUES (@kind, @concurrency, @rate_limit, @rate_interval_ms, 0, 0, @now, @per_group_concurrency)
ON CONFLICT (kind) DO UPDATE SET concurrency = excluded.concurrency, rate_limit = excluded.rate_limit,
  rate_interval_ms = excluded.rate_interval_ms, updated_at = excluded.updated_at,
  per_group_concurrency = excluded.per_group_concurrency

-- Limits removed: the row goes, unless the kind is paused or has a breaker (then kind_limit_clear
-- keeps those alone).
-- name: kind_limit_remove
DELETE FROM kind_limits WHERE kind = @kind AND paused_at IS NULL AND breaker_failures IS NULL

-- name: kind_limit_clear
UPDATE kind_limits SET concurrency = NULL, rate_limit = NULL, rate_interval_ms = NULL, per_group_concurrency = NULL
WHERE kind = @kind

-- A pause (pauseKind): the kind's row, made when it has none; a paused kind keeps its first time.
-- name: kind_pause
INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at, paused_at)
VALUES (@kind, NULL, NULL, NULL, 0, 0, @now, @now)
ON CONFLICT (kind) DO UPDATE SET paused_at = COALESCE(kind_limits.paused_at, excluded.paused_at),
  updated_at = excluded.updated_at

-- Since when a kind is paused (no row, or NULL: it runs), read before a pause.
-- name: kind_paused_at
SELECT paused_at FROM kind_limits WHERE kind = @kind

-- A resume (resumeKind): the pause cleared (kind_resume_gone then drops a row that held nothing else).
-- name: kind_resume
UPDATE kind_limits SET paused_at = NULL WHERE kind = @kind AND paused_at IS NOT NULL

-- name: kind_resume_gone
DELETE FROM kind_limits WHERE kind = @kind AND paused_at IS NULL AND concurrency IS NULL AND rate_limit IS NULL
  AND per_group_concurrency IS NULL
  AND breaker_failures IS NULL

-- A breaker set (setBreaker): the kind's row, made when it has none; a breaker set again keeps
-- its state (its window's count, open or closed).
-- name: kind_breaker_put
INSERT INTO kind_limits (kind, concurrency, rate_limit, rate_interval_ms, window_start, window_count, updated_at,
  breaker_failures, breaker_window_ms, breaker_cooldown_ms, breaker_errors, breaker_ratio, breaker_min_attempts)
VALUES (@kind, NULL, NULL, NULL, 0, 0, @now, @breaker_failures, @breaker_window_ms, @breaker_cooldown_ms, @breaker_errors,
  @breaker_ratio, @breaker_min_attempts)
ON CONFLICT (kind) DO UPDATE SET breaker_failures = excluded.breaker_failures,
  breaker_window_ms = excluded.breaker_window_ms, breaker_cooldown_ms = excluded.breaker_cooldown_ms,
  breaker_errors = excluded.breaker_errors, breaker_ratio = excluded.breaker_ratio,
  breaker_min_attempts = excluded.breaker_min_attempts, updated_at = excluded.updated_at

-- A breaker removed: its columns cleared (kind_resume_gone then drops a row that held nothing else).
-- name: kind_breaker_remove
UPDATE kind_limits SET breaker_failures = NULL, breaker_window_ms = NULL, breaker_cooldown_ms = NULL,
  breaker_errors = NULL, breaker_ratio = NULL, breaker_min_attempts = NULL, breaker_window_start = 0,
  breaker_count = 0, breaker_attempts = 0, breaker_opened_at = NULL, breaker_probe_seq = NULL
WHERE kind = @kind AND breaker_failures IS NOT NULL

-- A breaker closed: by a reset (resetBreaker: any time), or by its probe's success (@probe_seq).
-- name: kind_breaker_close
UPDATE kind_limits SET breaker_window_start = @now, breaker_count = 0, breaker_attempts = 0, breaker_opened_at = NULL,
  breaker_probe_seq = NULL
WHERE kind = @kind AND breaker_failures IS NOT NULL AND breaker_opened_at IS NOT NULL
  AND (@probe_seq IS NULL OR breaker_probe_seq = @probe_seq)

-- The breaker of the kind of task @seq, when it has one: read by the end of a failed attempt (and
-- of a successful one of a kind whose breaker has a ratio).
-- name: kind_breaker_of_task
SELECT l.* FROM kind_limits l WHERE l.kind = (SELECT kind FROM tasks WHERE seq = @seq)
  AND l.breaker_failures IS NOT NULL

-- A breaker's state after an ended attempt (breaker.ts breakerAfter, breakerAfterSuccess), or a
-- probe let through.
-- name: kind_breaker_set_state
UPDATE kind_limits SET breaker_window_start = @breaker_window_start, breaker_count = @breaker_count,
  breaker_attempts = @breaker_attempts,
  breaker_opened_at = @breaker_opened_at, breaker_probe_seq = @breaker_probe_seq
WHERE kind = @kind

-- name: kind_limit_set_window
UPDATE kind_limits SET window_start = @window_start, window_count = @window_count WHERE kind = @kind

-- The dashboard's reads (statusCounts, recentFinished, listTasks, kinds, listDeadLetters): each
-- through an index and bounded, never a count or a scan of every task.

-- The overview's bounded counts (statusCounts): the kinds of each status read through its partial
-- index, at most @cap rows each (a status whose rows reach @cap is reported capped). Running and
-- succeeded tasks' kinds are read from the rows (their indexes do not hold it): ~1 µs a row.
-- name: task_count_by_kind_capped
SELECT 'running' AS status, kind, COUNT(*) AS n FROM (
  SELECT kind FROM tasks INDEXED BY tasks_running WHERE status = 'running' LIMIT @cap) GROUP BY kind
UNION ALL SELECT 'succeeded', kind, COUNT(*) FROM (
  SELECT kind FROM tasks INDEXED BY tasks_succeeded WHERE status = 'succeeded' LIMIT @cap) GROUP BY kind
UNION ALL SELECT 'failed', kind, COUNT(*) FROM (
  SELECT kind FROM tasks INDEXED BY tasks_failed WHERE status = 'failed' LIMIT @cap) GROUP BY kind
UNION ALL SELECT 'cancelled', kind, COUNT(*) FROM (
  SELECT kind FROM tasks INDEXED BY tasks_cancelled WHERE status = 'cancelled' LIMIT @cap) GROUP BY kind

-- One kind's queued tasks due by @now, and due later: two ranges of tasks_due (which holds the
-- kind and the run time: no row read), each counted up to its own bound (what the kinds before it
-- left of the cap). The driver goes kind by kind (task_queued_kinds).
-- A task waiting for its parents (next_run_at at @waiting_at, migration 018) is neither: PostgreSQL
-- has no ready row for it.
-- name: task_count_queued_of_kind
SELECT
  (SELECT COUNT(*) FROM (SELECT 1 FROM tasks INDEXED BY tasks_due
    WHERE status = 'queued' AND kind = @kind AND next_run_at <= @now LIMIT @due_cap)) AS due,
  (SELECT COUNT(*) FROM (SELECT 1 FROM tasks INDEXED BY tasks_due
    WHERE status = 'queued' AND kind = @kind AND next_run_at > @now AND next_run_at < @waiting_at
    LIMIT @later_cap)) AS later

-- name: dead_letter_count_open_capped
SELECT COUNT(*) AS n FROM (SELECT 1 FROM dead_letters WHERE redriven_at IS NULL LIMIT @cap)

-- About how many tasks: the seq range, two probes of the primary key (one SELECT with both MIN
-- and MAX would scan the table).
-- name: task_seq_range
SELECT (SELECT MIN(seq) FROM tasks) AS lo, (SELECT MAX(seq) FROM tasks) AS hi

-- recentFinished: dead letters written since @since (dead_letters_failed), and the latest
-- successes since then, newest first (tasks_succeeded backwards: finished_at, then seq).
-- name: dead_letter_count_since
SELECT COUNT(*) AS n FROM dead_letters WHERE failed_at >= @since

-- name: task_list_succeeded_since
SELECT created_at, started_at, finished_at, next_run_at, attempts FROM tasks INDEXED BY tasks_succeeded
WHERE status = 'succeeded' AND finished_at >= @since ORDER BY finished_at DESC, seq DESC LIMIT @limit

-- finishedHistory, bucket by bucket (the driver goes from the oldest): the successes finished in
-- [@lo, @hi) (a range of tasks_succeeded, which holds the seq: no row read) and the dead letters
-- written in it (dead_letters_failed), each counted up to @cap with the time of the last one
-- counted, and the first @limit successes' times (their rows).
-- name: task_count_succeeded_between
SELECT COUNT(*) AS n, MAX(finished_at) AS last FROM (
  SELECT finished_at FROM tasks INDEXED BY tasks_succeeded
  WHERE status = 'succeeded' AND finished_at >= @lo AND finished_at < @hi ORDER BY finished_at LIMIT @cap)

-- name: dead_letter_count_between
SELECT COUNT(*) AS n, MAX(failed_at) AS last FROM (
  SELECT failed_at FROM dead_letters INDEXED BY dead_letters_failed
  WHERE failed_at >= @lo AND failed_at < @hi ORDER BY failed_at LIMIT @cap)

-- name: task_list_succeeded_between
SELECT created_at, started_at, finished_at, next_run_at, attempts FROM tasks INDEXED BY tasks_succeeded
WHERE status = 'succeeded' AND finished_at >= @lo AND finished_at < @hi ORDER BY finished_at, seq LIMIT @limit

-- listTasks (see task-list.ts): a set read whole through its index, up to @cap entries below
-- @before (one branch runs: @set picks it, the others' constant condition is false), with how
-- many it read and the seqs of the newest @limit that pass the filters. `set_size` below @cap:
-- the set was read to its end and the page is exact; else the driver walks by seq instead. The
-- indexes hold the seq (the rowid), and tasks_due the kind too; a kind's set (the unique key's
-- index) is found by kind only (`+seq`: not by the rowid range, which would walk the table).
-- name: task_page_of_set
WITH s(seq, status, kind) AS MATERIALIZED (
  SELECT seq, 'queued', kind FROM tasks INDEXED BY tasks_due
  WHERE @set = 'queued' AND status = 'queued' AND seq < @before
  UNION ALL
  SELECT seq, 'queued', kind FROM tasks INDEXED BY tasks_due
  WHERE @set = 'queued_kind' AND status = 'queued' AND kind = @kind AND seq < @before
  UNION ALL
  SELECT seq, 'running', kind FROM tasks INDEXED BY tasks_running
  WHERE @set = 'running' AND status = 'running' AND seq < @before
  UNION ALL
  SELECT seq, 'succeeded', kind FROM tasks INDEXED BY tasks_succeeded
  WHERE @set = 'succeeded' AND status = 'succeeded' AND seq < @before
  UNION ALL
  SELECT seq, status, kind FROM tasks WHERE @set = 'kind' AND kind = @kind AND +seq < @before
  LIMIT @cap)
SELECT (SELECT COUNT(*) FROM s) AS set_size,
  (SELECT json_group_array(seq) FROM (
    SELECT seq FROM s WHERE (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
    ORDER BY seq DESC LIMIT @limit)) AS seqs

-- @seqs: a JSON array of seqs (a page task_page_of_set chose), newest first.
-- name: task_list_by_seqs
SELECT * FROM tasks WHERE seq IN (SELECT value FROM json_each(@seqs)) ORDER BY seq DESC

-- The walks by seq, newest first below @before: along the primary key, or a failed or cancelled
-- task's partial index (in seq order), the other filters checked on each row.
-- name: task_page
SELECT * FROM tasks
WHERE seq < @before AND (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
ORDER BY seq DESC LIMIT @limit

-- Tasks carrying @tag, newest first below @before: the tag's entries of task_tags walked down
-- from @before (its primary key, (tag, task_seq)), each task read by seq, the status and kind
-- tested on the rows read (CROSS JOIN: SQLite keeps task_tags as the outer loop). A page of a tag
-- alone reads `limit` entries; with a status or kind too, the tag's entries until the page fills.
-- name: task_page_tagged
SELECT t.* FROM task_tags g CROSS JOIN tasks t
WHERE g.tag = @tag AND g.task_seq < @before AND t.seq = g.task_seq
  AND (@status IS NULL OR t.status = @status) AND (@kind IS NULL OR t.kind = @kind)
ORDER BY g.task_seq DESC LIMIT @limit

-- Tasks of one correlation id, newest first below @before: the partial index tasks_correlation
-- (correlation_id, seq) walked down from @before (migration 017), the status, kind and tag
-- tested on the rows read.
-- name: task_page_correlated
SELECT * FROM tasks INDEXED BY tasks_correlation
WHERE correlation_id = @correlation_id AND seq < @before
  AND (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
  AND (@tag IS NULL OR EXISTS (SELECT 1 FROM task_tags g WHERE g.tag = @tag AND g.task_seq = tasks.seq))
ORDER BY seq DESC LIMIT @limit

-- A group's tasks (listTasks({ group })), newest first through tasks_group (grouped tasks only).
-- name: task_page_grouped
SELECT * FROM tasks INDEXED BY tasks_group
WHERE group_key IS NOT NULL AND group_key = @group_key AND seq < @before
  AND (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
  AND (@correlation_id IS NULL OR correlation_id = @correlation_id)
  AND (@tag IS NULL OR EXISTS (SELECT 1 FROM task_tags g WHERE g.tag = @tag AND g.task_seq = tasks.seq))
ORDER BY seq DESC LIMIT @limit

-- name: task_page_failed
SELECT * FROM tasks INDEXED BY tasks_failed
WHERE status = 'failed' AND seq < @before AND (@kind IS NULL OR kind = @kind)
ORDER BY seq DESC LIMIT @limit

-- name: task_page_cancelled
SELECT * FROM tasks INDEXED BY tasks_cancelled
WHERE status = 'cancelled' AND seq < @before AND (@kind IS NULL OR kind = @kind)
ORDER BY seq DESC LIMIT @limit

-- Every kind in the tasks table: a loose index scan of the (kind, idempotency_key) unique index,
-- from each kind to the next by one probe (`MIN(kind) WHERE kind > previous`).
-- name: task_kinds
WITH RECURSIVE k(kind) AS (
  SELECT (SELECT MIN(kind) FROM tasks)
  UNION ALL
  SELECT (SELECT MIN(kind) FROM tasks WHERE kind > k.kind) FROM k WHERE k.kind IS NOT NULL)
SELECT kind FROM k WHERE kind IS NOT NULL

-- Dead letters newest first below @before: the open ones through dead_letters_open
-- (redriven_at, seq), or all along the primary key, each with its task's kind (task_seq -> tasks:
-- one probe of the primary key a row shown; null for an invalid task, never stored).
-- name: dead_letter_page_open
SELECT d.*, (SELECT t.kind FROM tasks t WHERE t.seq = d.task_seq) AS kind FROM dead_letters d
WHERE d.redriven_at IS NULL AND d.seq < @before ORDER BY d.seq DESC LIMIT @limit

-- name: dead_letter_page_all
SELECT d.*, (SELECT t.kind FROM tasks t WHERE t.seq = d.task_seq) AS kind FROM dead_letters d
WHERE d.seq < @before ORDER BY d.seq DESC LIMIT @limit

-- A kind's open dead letters, newest first below @before: an open dead letter's task is failed
-- (re-drive marks its dead letters, purge deletes both), so the kind's failed tasks are read from
-- tasks_failed (seq, kind: no row read) into a list, and the dead letters walked down until the
-- page fills. `+d.task_seq`: looked up by task (dead_letters_task), every dead letter of the kind
-- was read and sorted, 0.9-1.8 ms for a page of a kind with 900 (a million tasks), 0.4-0.8 ms so.
-- name: dead_letter_page_open_of_kind
SELECT d.*, @kind AS kind FROM dead_letters d
WHERE d.redriven_at IS NULL AND d.seq < @before
  AND +d.task_seq IN (SELECT seq FROM tasks INDEXED BY tasks_failed WHERE status = 'failed' AND kind = @kind)
ORDER BY d.seq DESC LIMIT @limit

-- Re-driven ones too: their tasks may be in any state, so each dead letter's kind is read from its
-- task until the page fills (a kind with no dead letter reads every one below @before).
-- name: dead_letter_page_all_of_kind
SELECT d.*, @kind AS kind FROM dead_letters d
WHERE d.seq < @before AND (SELECT t.kind FROM tasks t WHERE t.seq = d.task_seq) = @kind
ORDER BY d.seq DESC LIMIT @limit

-- Progress and log lines (issue 35; task-reports.ts). The task a report is for, only while this
-- owner holds its lease at that attempt (the fence: a worker whose lease was taken over, or that
-- runs an older attempt, finds nothing and writes nothing). By (kind, idempotency_key): the
-- unique index, as a handler knows its task by them.
-- name: task_report_lease
SELECT seq FROM tasks
WHERE kind = @kind AND idempotency_key = @key AND status = 'running' AND lease_owner = @owner AND attempts = @attempt

-- In place, `version` untouched: the outcome's guarded transition still matches.
-- name: task_progress_set
UPDATE tasks SET progress = @progress WHERE seq = @seq

-- The task's last kept line (0: none), below the dropped-lines marker.
-- name: task_log_last
SELECT COALESCE(MAX(seq), 0) AS n FROM task_logs WHERE task_seq = @task_seq AND seq <= @cap

-- name: task_log_insert
INSERT INTO task_logs (task_seq, seq, at, attempt, line) VALUES (@task_seq, @seq, @at, @attempt, @line)

-- The marker of the lines past the cap: one row at @seq (the cap + 1) whose line is how many.
-- name: task_log_dropped
INSERT INTO task_logs (task_seq, seq, at, attempt, line) VALUES (@task_seq, @seq, @at, @attempt, @dropped)
ON CONFLICT (task_seq, seq) DO UPDATE SET
  line = CAST(CAST(task_logs.line AS INTEGER) + CAST(excluded.line AS INTEGER) AS TEXT),
  at = excluded.at, attempt = excluded.attempt

-- name: task_log_list
SELECT * FROM task_logs WHERE task_seq = @task_seq ORDER BY seq

-- The log lines of the tasks task_prune deletes (the same rows: run just before it).
-- name: task_log_prune
DELETE FROM task_logs WHERE task_seq IN (
  SELECT seq FROM tasks WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at LIMIT @limit)

-- The log lines of a task task_purge_failed deleted (run after it).
-- name: task_log_purge
DELETE FROM task_logs WHERE task_seq = @seq AND NOT EXISTS (SELECT 1 FROM tasks WHERE seq = @seq)
-- Workflows (issue 35, migration 018; flows.ts, sqlite/flow-release.ts). An edge per parent of a
-- child; a parent is marked has_children when its first edge is written.
-- name: task_edge_insert
INSERT INTO task_edges (parent_seq, child_seq, run_anyway) VALUES (@parent_seq, @child_seq, @run_anyway)
ON CONFLICT DO NOTHING

-- name: task_mark_parent
UPDATE tasks SET has_children = 1 WHERE seq = @seq AND has_children IS NULL

-- A new child: waiting for @waiting_for parents (never due until released: FLOW_WAITING_AT), or
-- due as claimed (0), or cancelled at once by a parent that already failed (@error_message).
-- name: task_flow_file
UPDATE tasks SET waiting_for = @waiting_for,
  next_run_at = CASE WHEN @waiting_for > 0 AND @error_message IS NULL THEN @waiting_at ELSE next_run_at END,
  rank_at = CASE WHEN @waiting_for > 0 AND @error_message IS NULL THEN @waiting_at ELSE rank_at END,
  status = CASE WHEN @error_message IS NULL THEN status ELSE 'cancelled' END,
  finished_at = CASE WHEN @error_message IS NULL THEN finished_at ELSE @now END,
  error_class = CASE WHEN @error_message IS NULL THEN error_class ELSE 'parent_failed' END,
  error_message = @error_message
WHERE seq = @seq AND status = 'queued'

-- A finished task's children: each edge once, in seq order.
-- name: task_edges_of_parent
SELECT child_seq, run_anyway FROM task_edges WHERE parent_seq = @seq ORDER BY child_seq

-- A parent of the child is done (succeeded, or failed with a run-anyway edge): one parent fewer to
-- wait for; the last makes it due now, ranked from now. Only a waiting child changes.
-- name: task_flow_count_done
UPDATE tasks SET waiting_for = waiting_for - 1, version = version + 1, updated_at = @now,
  next_run_at = CASE WHEN waiting_for = 1 THEN @now ELSE next_run_at END,
  rank_at = CASE WHEN waiting_for = 1 THEN :rank_at(@now, priority) ELSE rank_at END
WHERE seq = @seq AND status = 'queued' AND waiting_for > 0

-- A parent failed or was cancelled: the waiting child ends cancelled, saying which.
-- name: task_flow_cancel_waiting
UPDATE tasks SET status = 'cancelled', finished_at = @now, updated_at = @now, version = version + 1,
  error_class = 'parent_failed', error_message = @error_message
WHERE seq = @seq AND status = 'queued' AND waiting_for > 0
RETURNING seq, id, status, has_children

-- A succeed that task_succeed refused: is it a running task with children at @version (then
-- task_succeed_parent ends it, in a transaction with its release), or a stale call?
-- name: task_running_parent
SELECT seq FROM tasks WHERE seq = @seq AND version = @version AND status = 'running' AND has_children = 1

-- A task's parents, with their results (the handler's ctx.parents, reads).
-- name: task_parents_of
SELECT e.child_seq, t.seq, t.id, t.kind, t.status, t.result, e.run_anyway FROM task_edges e JOIN tasks t ON t.seq = e.parent_seq
WHERE e.child_seq = @seq ORDER BY e.parent_seq

-- name: task_children_of
SELECT e.child_seq, t.seq, t.id, t.kind, t.status, NULL AS result, e.run_anyway FROM task_edges e JOIN tasks t ON t.seq = e.child_seq
WHERE e.parent_seq = @seq ORDER BY e.child_seq

-- Retention deletes succeeded tasks: their edges go first, in the same transaction (no trigger, as
-- for task_tags); the same selection as task_prune, read once, and only the tasks in a graph (a
-- parent, has_children; a child, waiting_for) looked up in task_edges. A deleted parent had
-- finished, so its children had counted it: they keep their place and their count, and no longer
-- list it.
-- name: task_edges_prune
WITH victims AS MATERIALIZED (
    SELECT seq, has_children, waiting_for FROM tasks
    WHERE status = 'succeeded' AND finished_at < @cutoff ORDER BY finished_at LIMIT @limit)
DELETE FROM task_edges WHERE parent_seq IN (SELECT seq FROM victims WHERE has_children = 1)
  OR child_seq IN (SELECT seq FROM victims WHERE waiting_for IS NOT NULL)

-- The edges of a failed task task_purge_failed deleted (run after it).
-- name: task_edges_purge
DELETE FROM task_edges WHERE (parent_seq = @seq OR child_seq = @seq) AND NOT EXISTS (SELECT 1 FROM tasks WHERE seq = @seq)
