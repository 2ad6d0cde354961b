-- The queued tasks of a positive priority get an index of their own, which every take reads from
-- its start. A take reads the main queue on from where the store's last take of the kind ended
-- (the entries of the tasks taken since the last vacuum stay in front of it); a task enqueued
-- since with a higher priority ranks before that point, and ran only after the next take from
-- the start (up to 8 takes later): a worker busy on one slot ran it after five tasks of
-- priority 0 enqueued before it. Tasks of a positive priority are the few an application
-- raises, so this index stays small.
CREATE INDEX tasks_queued_positive ON tasks (kind, rank_at, seq) WHERE status = 'queued' AND priority > 0;
