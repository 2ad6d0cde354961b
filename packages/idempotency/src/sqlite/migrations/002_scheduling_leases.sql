-- Scheduling (a next run time, for retries with backoff) and leases (who runs a task, until when).
ALTER TABLE tasks ADD COLUMN next_run_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN started_at INTEGER;
ALTER TABLE tasks ADD COLUMN finished_at INTEGER;
ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
ALTER TABLE tasks ADD COLUMN lease_expires_at INTEGER;
CREATE INDEX tasks_ready ON tasks (status, next_run_at, seq);
CREATE INDEX tasks_finished ON tasks (status, finished_at);
