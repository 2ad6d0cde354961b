-- A kind paused across the fleet (pauseKind / resumeKind, issue 36): `paused_at` in the kind's
-- kind_limits row, NULL when it runs. A pause is a limit of zero: every take reads the kind_limits
-- rows in its (immediate) transaction, so a pause binds every process's next take, and a kind
-- paused without limits is a row with no concurrency and no rate. Running tasks finish; queued
-- ones stay queued.
ALTER TABLE kind_limits ADD COLUMN paused_at INTEGER;
