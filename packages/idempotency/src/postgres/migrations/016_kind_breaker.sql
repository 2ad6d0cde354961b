-- A circuit breaker per kind across the fleet (setBreaker, issue 34), kept in the kind's
-- kind_limits row beside its limits and its pause: the settings (`breaker_failures` NULL: the kind
-- has none), the counted failures of the current window, since when it is open (NULL: closed) and
-- the probe let through once the cool-down passed (half-open), which holds the one probe slot
-- while its task runs under a live lease (a probe whose worker died frees it when its lease
-- expires). Every take of a kind with a row
-- locks it in its transaction (kind_limit_lock), so an open breaker holds the kind's tasks queued
-- like a limit of zero; the turn that ends a failed attempt of a kind with a breaker locks the row
-- and counts it in the same statement. `breaker_errors`: NULL counts retryable failures, '*' every
-- failure, else a comma-separated list of error classes. With `breaker_ratio`, it also opens when
-- that share of the window's ended attempts (`breaker_attempts`: successes and counted failures)
-- failed, once there are `breaker_min_attempts` of them.
ALTER TABLE kind_limits
  ADD COLUMN breaker_failures int,
  ADD COLUMN breaker_window_ms bigint,
  ADD COLUMN breaker_cooldown_ms bigint,
  ADD COLUMN breaker_errors text,
  ADD COLUMN breaker_ratio double precision,
  ADD COLUMN breaker_min_attempts int,
  ADD COLUMN breaker_window_start bigint NOT NULL DEFAULT 0,
  ADD COLUMN breaker_count int NOT NULL DEFAULT 0,
  ADD COLUMN breaker_attempts int NOT NULL DEFAULT 0,
  ADD COLUMN breaker_opened_at bigint,
  ADD COLUMN breaker_probe_seq bigint;
