-- A running task's progress and log (issue 35): `ctx.progress(value)` and `ctx.log(line)` in a
-- handler. `progress` is the last value reported (JSON text, at most 4,096 bytes), written only
-- by the worker that holds the task's lease, in place (no index names it, so the update is HOT
-- when the page has room), without touching `version` (the outcome's guarded transition is
-- unaffected). Nullable without a default: adding it rewrites no row, and a task that never
-- reports stores a NULL.
-- `task_logs` keeps a task's log lines, numbered from 1 within the task (`seq`), with the time and
-- attempt each was written in; at most 1,000 lines a task: the lines past that are dropped and
-- counted in one marker row at `seq` 1,001, whose `line` is the number dropped. Read by task
-- (primary key), deleted with its task by retention and the dead letters' purge.
ALTER TABLE tasks ADD COLUMN progress text;
CREATE TABLE task_logs (
  task_seq bigint  NOT NULL,
  seq      integer NOT NULL,
  at       bigint  NOT NULL,
  attempt  integer NOT NULL,
  line     text    NOT NULL,
  PRIMARY KEY (task_seq, seq)
);
