-- Every attempt of a task kept (issue 36): a row for each attempt that ended other than in
-- success (retried, failed, released at a worker's shutdown, cancelled while it ran, or lost with
-- its worker), written in the transaction that records that end, with its start, its end, its
-- error (class, message, stack, bounded) and the worker that ran it. The attempt that succeeds
-- writes nothing here: the task row holds it (started_at, finished_at, lease_owner). Read by task;
-- deleted with its task by retention. `seq` orders a task's attempts (attempt numbers start
-- again after a re-drive).
CREATE TABLE task_attempts (
  seq           INTEGER PRIMARY KEY,
  task_seq      INTEGER NOT NULL,
  attempt       INTEGER NOT NULL,
  started_at    INTEGER,
  finished_at   INTEGER NOT NULL,
  outcome       TEXT    NOT NULL,
  error_class   TEXT,
  error_message TEXT,
  error_stack   TEXT,
  worker        TEXT
);
CREATE INDEX task_attempts_by_task ON task_attempts (task_seq, seq);
