-- The queue's states in narrow tables beside the wide task row (docs/architecture.md §4.2): a
-- take and a finish changed `status`, which every partial index named, so each rewrote the wide
-- row through every index (3 wide row versions and 13-14 index entries a task). Now no index of
-- `tasks` names a column a take or a finish changes, and the row has room on its page, so both
-- update it in place (HOT); the states that are searched live in narrow tables, a row written
-- when a task enters the state and deleted when it leaves:
--   task_ready: the queued tasks (a row is the token of "queued": a take, a start and a cancel
--     delete it first, then change the task, so two never change one task and locks are taken
--     ready row first, task row second, everywhere)
--   task_leases: the running tasks, with their lease (reclaim and renew read it whole: it holds
--     only what runs now)
--   task_done: the finished tasks (retention and throughput by finish time; pages of failed and
--     cancelled by seq)
-- Built from the tasks present, in every state; the status indexes of `tasks` are dropped.
CREATE TABLE task_ready (
  seq         bigint  NOT NULL,
  kind        text    NOT NULL,
  rank_at     bigint  NOT NULL,
  next_run_at bigint  NOT NULL,
  priority    integer NOT NULL
);
INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority)
  SELECT seq, kind, rank_at, COALESCE(next_run_at, 0), priority FROM tasks WHERE status = 'queued';
CREATE INDEX task_ready_queue ON task_ready (kind, rank_at, seq);
CREATE INDEX task_ready_due ON task_ready (kind, next_run_at);
CREATE INDEX task_ready_positive ON task_ready (kind, rank_at, seq) WHERE priority > 0;
CREATE INDEX task_ready_negative ON task_ready (kind, rank_at) WHERE priority < 0;

-- a running task stored before leases (schema 1) has none: expired at once, it is reclaimed
CREATE TABLE task_leases (
  seq        bigint PRIMARY KEY,
  kind       text   NOT NULL,
  owner      text   NOT NULL,
  expires_at bigint NOT NULL
);
INSERT INTO task_leases (seq, kind, owner, expires_at)
  SELECT seq, kind, COALESCE(lease_owner, ''), COALESCE(lease_expires_at, 0) FROM tasks WHERE status = 'running';

CREATE TABLE task_done (
  seq         bigint NOT NULL,
  kind        text   NOT NULL,
  status      text   NOT NULL,
  finished_at bigint NOT NULL
);
INSERT INTO task_done (seq, kind, status, finished_at)
  SELECT seq, kind, status, COALESCE(finished_at, updated_at) FROM tasks
  WHERE status IN ('succeeded', 'failed', 'cancelled');
-- read index-only (the seq and kind in each entry): retention and throughput by finish time, the
-- capped counts by kind, the pages of each status. One index of the failed and cancelled together
-- read the status from the table for each entry: the dashboard's overview took 245 ms at 10 million
-- tasks (10,000 failed and 10,000 cancelled, each on a page of its own), 22.5 ms with these
-- (packages/dashboard/bench/big-store.mjs --store postgres, medians, the same slow hour).
CREATE INDEX task_done_succeeded ON task_done (finished_at, seq, kind) WHERE status = 'succeeded';
CREATE INDEX task_done_failed ON task_done (seq, kind) WHERE status = 'failed';
CREATE INDEX task_done_cancelled ON task_done (seq, kind) WHERE status = 'cancelled';

DROP INDEX tasks_queued, tasks_due, tasks_queued_negative, tasks_queued_positive, tasks_running,
  tasks_succeeded, tasks_failed, tasks_cancelled;
-- room on each page for a new version of every row on it: a take updates a page's rows in one
-- statement, and none of their old versions can be pruned before it commits. Measured with
-- `taskq-bench writes --store postgres --tasks 10000 --batch 250`: of the take's updates 57% were
-- HOT at fillfactor 60, 90% at 50, 100% at 40 (index entries a task 8.62, 7.48, 7.00). 50 keeps
-- most of it at twice the heap of a full page (40: 2.5 times). New pages only: those written before
-- fill as they did.
ALTER TABLE tasks SET (fillfactor = 50);
