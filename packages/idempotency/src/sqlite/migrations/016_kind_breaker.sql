-- A circuit breaker per kind across the fleet (setBreaker, issue 34), kept in the kind's
-- kind_limits row beside its limits and its pause: the settings (`breaker_failures` NULL: the kind
-- has none), the counted failures of the current window, since when it is open (NULL: closed) and
-- the probe let through once the cool-down passed (half-open), which holds the one probe slot
-- while its task runs under a live lease (a probe whose worker died frees it when its lease
-- expires). Every take reads the row in its
-- (immediate) transaction, so an open breaker holds the kind's tasks queued like a limit of zero;
-- the statement that ends a failed attempt of a kind with a breaker counts it in the same
-- transaction. `breaker_errors`: NULL counts retryable failures, '*' every failure, else a
-- comma-separated list of error classes.
ALTER TABLE kind_limits ADD COLUMN breaker_failures INTEGER;
ALTER TABLE kind_limits ADD COLUMN breaker_window_ms INTEGER;
ALTER TABLE kind_limits ADD COLUMN breaker_cooldown_ms INTEGER;
ALTER TABLE kind_limits ADD COLUMN breaker_errors TEXT;
ALTER TABLE kind_limits ADD COLUMN breaker_ratio REAL;
ALTER TABLE kind_limits ADD COLUMN breaker_min_attempts INTEGER;
ALTER TABLE kind_limits ADD COLUMN breaker_window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kind_limits ADD COLUMN breaker_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kind_limits ADD COLUMN breaker_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kind_limits ADD COLUMN breaker_opened_at INTEGER;
ALTER TABLE kind_limits ADD COLUMN breaker_probe_seq INTEGER;
