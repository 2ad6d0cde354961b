-- PostgreSQL moves the queue's states into narrow tables beside the task row (a take and a finish
-- rewrote its wide row through every index: PostgreSQL writes a new row version and, unless no
-- indexed column changed, an entry in every index). SQLite rewrites a row in place and touches
-- only the indexes whose columns changed, so its take and finish already write only the status
-- indexes they move between: nothing to change here; the version is kept in step.
SELECT 1;
