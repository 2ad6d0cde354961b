-- An emulation of a table of groups for a grouped take (docs/architecture.md §5.3, "Why not a
-- table of groups"), measured by bench/group-take-explain.mts (EXTRA=bench/group-take-table.sql,
-- on a store it filled: the setup below runs first, in the store's schema). The take reads the
-- kind's next groups after the cursor with room and ready tasks from task_groups, probes each for
-- its first due tasks, takes them as task_take_groups does, and updates the taken groups' counts
-- in the same statement (what a trigger would do, without a trigger's own cost). Only the groups
-- after the cursor (no wrap, no ungrouped place): a lower bound of the real statement's cost.
-- setup:
-- CREATE TABLE IF NOT EXISTS task_groups (kind text NOT NULL, group_key text NOT NULL,
--   running int NOT NULL DEFAULT 0, ready int NOT NULL DEFAULT 0, PRIMARY KEY (kind, group_key));
-- TRUNCATE task_groups;
-- INSERT INTO task_groups SELECT kind, group_key, sum(running)::int, sum(ready)::int FROM (
--   SELECT kind, group_key, 0 AS running, 1 AS ready FROM task_ready WHERE group_key IS NOT NULL
--   UNION ALL SELECT kind, group_key, 1, 0 FROM task_leases WHERE group_key IS NOT NULL) x GROUP BY 1, 2;
-- VACUUM ANALYZE task_groups;
-- statement:
WITH clock AS (SELECT (extract(epoch FROM now()) * 1000)::bigint AS t),
  walked AS (SELECT g.group_key AS g, row_number() OVER (ORDER BY g.group_key) AS w, g.running AS busy
    FROM (SELECT group_key, running FROM task_groups WHERE kind = @kind::text AND group_key > @cursor::text AND running < @cap::int AND ready > 0
      ORDER BY group_key LIMIT @limit::int + 1) g),
  share AS (SELECT ceil(@limit::numeric / count(*))::int AS n FROM walked),
  room AS (SELECT w.g, w.w, LEAST(share.n, @cap::int - w.busy) AS n FROM walked w, share),
  heads AS (
    SELECT p.rid, p.seq, p.rank_at, p.group_key, room.w, room.n AS room
    FROM room CROSS JOIN LATERAL (
      SELECT r.ctid AS rid, r.seq, r.rank_at, r.group_key FROM task_ready r, clock
      WHERE r.group_key IS NOT NULL AND r.kind = @kind::text AND r.group_key = room.g
        AND (r.next_run_at <= clock.t) IS TRUE
      ORDER BY r.rank_at, r.seq LIMIT room.n FOR UPDATE SKIP LOCKED) p),
  picked AS (
    SELECT rid, seq, w, k, room, group_key, count(*) OVER (PARTITION BY w) AS drawn FROM (
      SELECT rid, seq, w, room, k, group_key FROM (
        SELECT rid, seq, w, room, group_key, row_number() OVER (PARTITION BY w ORDER BY rank_at, seq) AS k FROM heads) h
      ORDER BY k, w LIMIT @limit::int) f),
  unready AS (DELETE FROM task_ready WHERE ctid = ANY(ARRAY(SELECT rid FROM picked))),
  taken AS (
    UPDATE tasks t SET status = 'running', attempts = t.attempts + 1, version = t.version + 1,
      started_at = clock.t, updated_at = clock.t, lease_owner = @owner, lease_expires_at = clock.t + @lease_ms::bigint
    FROM clock WHERE t.seq = ANY(ARRAY(SELECT seq FROM picked)) AND (t.status = 'queued') IS TRUE
    RETURNING t.*),
  leased AS (
    INSERT INTO task_leases (seq, kind, owner, expires_at, group_key)
    SELECT seq, kind, lease_owner, lease_expires_at, group_key FROM taken),
  counted AS (
    UPDATE task_groups tg SET running = tg.running + c.n, ready = tg.ready - c.n
    FROM (SELECT group_key, count(*)::int AS n FROM taken GROUP BY group_key) c
    WHERE tg.kind = @kind::text AND tg.group_key = c.group_key)
SELECT taken.*, picked.drawn >= picked.room AS place_full
FROM taken JOIN picked ON picked.seq = taken.seq ORDER BY picked.k, picked.w
