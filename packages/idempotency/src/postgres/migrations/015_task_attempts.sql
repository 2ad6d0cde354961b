-- Every attempt of a task kept (issue 36): a row for each attempt that ended other than in
-- success (retried, failed, released at a worker's shutdown, cancelled while it ran, or lost with
-- its worker), written by the statement that records that end, with its start, its end, its error
-- (class, message, stack, bounded) and the worker that ran it. The attempt that succeeds writes
-- nothing here: the task row holds it (started_at, finished_at, lease_owner), so a task that
-- succeeds at once costs what it cost before. Read by task (get, status, the task page); deleted
-- with its task by retention. `seq` orders a task's attempts (attempt numbers start again after a
-- re-drive).
CREATE TABLE task_attempts (
  seq           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_seq      bigint  NOT NULL,
  attempt       integer NOT NULL,
  started_at    bigint,
  finished_at   bigint  NOT NULL,
  outcome       text    NOT NULL,
  error_class   text,
  error_message text,
  error_stack   text,
  worker        text
);
CREATE INDEX task_attempts_by_task ON task_attempts (task_seq, seq);
