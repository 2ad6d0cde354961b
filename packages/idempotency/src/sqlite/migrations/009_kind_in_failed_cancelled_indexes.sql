-- The dashboard counts failed and cancelled tasks by kind (statusCounts, over at most its cap of
-- each): with the kind in their partial indexes the count reads no table rows, however scattered
-- those tasks are (at 10 million tasks, 9,900 failed ones read row by row took 77 ms on
-- PostgreSQL). Still in seq order for the pages that walk them. These indexes change only when a
-- task fails, is cancelled or is re-driven: nothing on the hot path.
DROP INDEX tasks_failed;
CREATE INDEX tasks_failed ON tasks (seq, kind) WHERE status = 'failed';
DROP INDEX tasks_cancelled;
CREATE INDEX tasks_cancelled ON tasks (seq, kind) WHERE status = 'cancelled';
