-- The task record and its dead letters. Times are epoch ms (bigint) from the database's clock.
-- Tables are created in the store's schema: every connection's search_path names it alone.
CREATE TABLE tasks (
  seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id               text    NOT NULL,
  idempotency_key  text    NOT NULL UNIQUE,
  type             text    NOT NULL,
  payload          text    NOT NULL,
  status           text    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  created_at       bigint  NOT NULL,
  updated_at       bigint  NOT NULL,
  output_key       text,
  etag             text,
  result           text,
  error_class      text,
  error_message    text,
  version          integer NOT NULL DEFAULT 0
);
CREATE INDEX tasks_by_id ON tasks (id);
CREATE TABLE dead_letters (
  seq             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_seq        bigint  REFERENCES tasks (seq),
  task_id         text    NOT NULL,
  idempotency_key text,
  payload         text,
  error_class     text    NOT NULL,
  error_message   text    NOT NULL,
  attempts        integer NOT NULL,
  failed_at       bigint  NOT NULL,
  redriven_at     bigint
);
CREATE INDEX dead_letters_open ON dead_letters (seq) WHERE redriven_at IS NULL;
