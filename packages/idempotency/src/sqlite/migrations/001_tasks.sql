-- The task record and its dead letters (the seed's schema).
CREATE TABLE tasks (
  seq             INTEGER PRIMARY KEY,
  id              TEXT    NOT NULL,
  idempotency_key TEXT    NOT NULL UNIQUE,
  type            TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  output_key      TEXT,
  etag            TEXT,
  result          TEXT,
  error_class     TEXT,
  error_message   TEXT,
  version         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_by_id ON tasks (id);
CREATE TABLE dead_letters (
  seq             INTEGER PRIMARY KEY,
  task_seq        INTEGER REFERENCES tasks (seq),
  task_id         TEXT    NOT NULL,
  idempotency_key TEXT,
  payload         TEXT,
  error_class     TEXT    NOT NULL,
  error_message   TEXT    NOT NULL,
  attempts        INTEGER NOT NULL,
  failed_at       INTEGER NOT NULL,
  redriven_at     INTEGER
);
CREATE INDEX dead_letters_open ON dead_letters (redriven_at, seq);
