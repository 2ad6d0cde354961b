-- Kinds and cancel (issue 20). A task's `type` becomes its kind, the idempotency key is unique per
-- kind (the same key under two kinds is two tasks), `cancelled` is a status, a running task can
-- carry a cancel request (`cancel_requested_at`, epoch ms), and the queued index leads with the
-- kind so a manager takes only the kinds it serves without scanning the others. SQLite can
-- neither drop a column's UNIQUE nor alter a CHECK: the table is rebuilt (copied in seq order,
-- seqs kept) and every index recreated, as SQLite's documented procedure does: the runner turns
-- foreign keys off around the migrating transaction and runs `PRAGMA foreign_key_check` before
-- its commit (dead_letters.task_seq still finds every task it names).
CREATE TABLE tasks_new (
  seq                 INTEGER PRIMARY KEY,
  id                  TEXT    NOT NULL,
  idempotency_key     TEXT    NOT NULL,
  kind                TEXT    NOT NULL,
  payload             TEXT    NOT NULL,
  status              TEXT    NOT NULL
                        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts            INTEGER NOT NULL DEFAULT 0,
  max_attempts        INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  output_key          TEXT,
  etag                TEXT,
  result              TEXT,
  error_class         TEXT,
  error_message       TEXT,
  version             INTEGER NOT NULL DEFAULT 0,
  next_run_at         INTEGER NOT NULL DEFAULT 0,
  started_at          INTEGER,
  finished_at         INTEGER,
  lease_owner         TEXT,
  lease_expires_at    INTEGER,
  cancel_requested_at INTEGER,
  UNIQUE (kind, idempotency_key)
);
INSERT INTO tasks_new (seq, id, idempotency_key, kind, payload, status, attempts, max_attempts, created_at,
  updated_at, output_key, etag, result, error_class, error_message, version, next_run_at, started_at,
  finished_at, lease_owner, lease_expires_at)
SELECT seq, id, idempotency_key, type, payload, status, attempts, max_attempts, created_at,
  updated_at, output_key, etag, result, error_class, error_message, version, next_run_at, started_at,
  finished_at, lease_owner, lease_expires_at
FROM tasks ORDER BY seq;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
CREATE INDEX tasks_by_id ON tasks (id);
CREATE INDEX tasks_queued ON tasks (kind, next_run_at, seq) WHERE status = 'queued';
CREATE INDEX tasks_running ON tasks (lease_owner, lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_succeeded ON tasks (finished_at) WHERE status = 'succeeded';
CREATE INDEX tasks_failed ON tasks (seq) WHERE status = 'failed';
CREATE INDEX tasks_cancelled ON tasks (seq) WHERE status = 'cancelled';
