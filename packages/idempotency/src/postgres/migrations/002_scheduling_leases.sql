-- Scheduling (a next run time, for retries with backoff) and leases (who runs a task, until when).
-- The default only fills the rows of a table that has some; every insert sets next_run_at.
ALTER TABLE tasks
  ADD COLUMN started_at       bigint,
  ADD COLUMN finished_at      bigint,
  ADD COLUMN next_run_at      bigint NOT NULL DEFAULT 0,
  ADD COLUMN lease_owner      text,
  ADD COLUMN lease_expires_at bigint;
ALTER TABLE tasks ALTER COLUMN next_run_at DROP DEFAULT;
