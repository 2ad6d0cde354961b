-- PostgreSQL gives the queued tasks of a positive priority an index that every take reads from its
-- start (its takes read the main queue on from where the last one ended). SQLite's take reads
-- every kind's queue from its start: nothing to change here; the version is kept in step.
SELECT 1;
