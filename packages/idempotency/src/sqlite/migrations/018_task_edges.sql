-- Workflows (issue 35): a task may wait for other tasks, its parents. docs/architecture.md §5.2
-- has the design. An edge is a row of task_edges (parent_seq, child_seq, run_anyway: the child runs
-- even when that parent failed or was cancelled). A child's `waiting_for` counts its parents not
-- finished yet (NULL: a task without parents, 0: released); while it is above 0 the child is queued
-- with next_run_at and rank_at at FLOW_WAITING_AT (beyond any time), so a take's range (`rank_at
-- <= now`) never reaches it and nextDueIn never wakes for it. A parent's `has_children` is set when
-- an edge to it is inserted (NULL otherwise). The store releases children in the transaction of
-- the parent's terminal transition (sqlite/flow-release.ts), not by a trigger: a trigger on tasks
-- makes SQLite keep a statement journal for every update. Both columns are nullable without a
-- default: adding them rewrites no row.
ALTER TABLE tasks ADD COLUMN waiting_for INTEGER;
ALTER TABLE tasks ADD COLUMN has_children INTEGER;
CREATE TABLE task_edges (
  parent_seq INTEGER NOT NULL,
  child_seq  INTEGER NOT NULL,
  run_anyway INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (parent_seq, child_seq)
) WITHOUT ROWID;
CREATE INDEX task_edges_child ON task_edges (child_seq, parent_seq);
