-- Kinds and cancel (issue 20). A task's `type` becomes its kind, the idempotency key is unique per
-- kind (the same key under two kinds is two tasks), `cancelled` is a status, a running task can
-- carry a cancel request (`cancel_requested_at`, epoch ms), and the queued index leads with the
-- kind so a manager takes only the kinds it serves without scanning the others.
ALTER TABLE tasks RENAME COLUMN type TO kind;
ALTER TABLE tasks DROP CONSTRAINT tasks_idempotency_key_key;
ALTER TABLE tasks ADD CONSTRAINT tasks_kind_idempotency_key_key UNIQUE (kind, idempotency_key);
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE tasks ADD COLUMN cancel_requested_at bigint;
DROP INDEX tasks_queued;
CREATE INDEX tasks_queued ON tasks (kind, next_run_at, seq) WHERE status = 'queued';
CREATE INDEX tasks_cancelled ON tasks (seq) WHERE status = 'cancelled';
