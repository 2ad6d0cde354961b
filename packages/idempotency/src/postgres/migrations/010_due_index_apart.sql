-- tasks_due gets a predicate of its own (`next_run_at IS NOT NULL`, true of every row), so only
-- statements that say so use it: the next-due probe and the counts of due and scheduled tasks
-- (the take tests its run time `IS TRUE`, which implies nothing of it).
-- With the same predicate as tasks_queued, the take could be planned on it: on statistics from
-- before a burst of enqueues (a table the planner still believes empty), a take read and sorted
-- every queued task of its kind instead of reading tasks_queued in order (a 60,000 task backlog:
-- 40-50 ms a take, each take).
DROP INDEX tasks_due;
CREATE INDEX tasks_due ON tasks (kind, next_run_at) WHERE status = 'queued' AND next_run_at IS NOT NULL;
