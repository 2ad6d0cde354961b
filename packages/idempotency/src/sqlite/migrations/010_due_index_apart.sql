-- PostgreSQL gives tasks_due a predicate of its own, so its planner never plans a take on it.
-- SQLite's take names its index (INDEXED BY tasks_queued): nothing to change here; the version
-- is kept in step with PostgreSQL's.
SELECT 1;
