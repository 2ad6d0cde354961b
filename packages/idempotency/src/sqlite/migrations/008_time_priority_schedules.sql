-- Time and priorities (issue 22). A task has a `priority` (an integer, default 0, larger first)
-- and a `rank_at`: the time it ranks as in the queue, its run time minus its priority's worth of
-- waiting (`next_run_at - priority * aging`, aging one hour per priority point, written by every
-- statement that sets next_run_at). Taking in rank_at order is "larger priority first, then
-- earlier run time", and a task that has waited an hour longer than one a point above it goes
-- first: no stream of higher priorities starves a lower one for ever. The queued index follows;
-- a take reads it only up to now (a due task of priority >= 0 ranks no later than its run time),
-- and a small index of the negative priorities finds the due ones ranked later. One more by run
-- time tells an idle worker when the earliest delayed task is due.
-- `schedules` holds the recurring tasks: a cron expression (and its time zone), the task it
-- enqueues, and the next occurrence (epoch ms) a scheduler enqueues, claimed by compare-and-set.
-- `kind_limits` holds the limits of a kind across every worker: at most `concurrency` running at
-- once, at most `rate_limit` starts per `rate_interval_ms` (a fixed window from `window_start`,
-- `window_count` starts in it so far). A take of a limited kind reads its row (locked, on
-- PostgreSQL), so two workers never both take the last slot.
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN rank_at INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET rank_at = next_run_at WHERE status IN ('queued', 'running');
DROP INDEX tasks_queued;
CREATE INDEX tasks_queued ON tasks (kind, rank_at, seq) WHERE status = 'queued';
CREATE INDEX tasks_due ON tasks (kind, next_run_at) WHERE status = 'queued';
CREATE INDEX tasks_queued_negative ON tasks (kind, rank_at) WHERE status = 'queued' AND priority < 0;
CREATE TABLE schedules (
  name        TEXT    PRIMARY KEY,
  cron        TEXT    NOT NULL,
  timezone    TEXT,
  kind        TEXT    NOT NULL,
  payload     TEXT    NOT NULL,
  options     TEXT    NOT NULL,
  paused      INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER NOT NULL,
  last_run_at INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE paused = 0;
CREATE TABLE kind_limits (
  kind             TEXT    PRIMARY KEY,
  concurrency      INTEGER,
  rate_limit       INTEGER,
  rate_interval_ms INTEGER,
  window_start     INTEGER NOT NULL DEFAULT 0,
  window_count     INTEGER NOT NULL DEFAULT 0,
  updated_at       INTEGER NOT NULL
);
