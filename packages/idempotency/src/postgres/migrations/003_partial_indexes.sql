-- Partial indexes: a status change touches an index only when the row enters or leaves the
-- state the index serves.
CREATE INDEX tasks_queued ON tasks (next_run_at, seq) WHERE status = 'queued';
CREATE INDEX tasks_running ON tasks (lease_owner, lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_succeeded ON tasks (finished_at) WHERE status = 'succeeded';
