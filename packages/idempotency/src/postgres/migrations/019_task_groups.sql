-- Fair groups (issue 35): a task's group (a tenant, a customer), NULL without one, copied into
-- its task_ready row while queued and its task_leases row while running; and a kind's cap on each
-- group's running tasks. `kind_limits.per_group_concurrency` set makes the kind grouped: its takes
-- rotate between its groups that have due tasks, in group-name order from `group_cursor` (the last
-- group a take drew from), and take no task of a group that has that many leases (docs/
-- architecture.md §5.3). The two indexes hold grouped tasks only, so a task without a group writes
-- no entry in them: task_ready_group is the groups' queues (a skip scan finds the next group with
-- queued tasks, a probe its head), task_leases_group counts a group's running tasks. Nullable
-- columns without a default: adding them rewrites no row.
ALTER TABLE tasks ADD COLUMN group_key text;
ALTER TABLE task_ready ADD COLUMN group_key text;
ALTER TABLE task_leases ADD COLUMN group_key text;
ALTER TABLE kind_limits ADD COLUMN per_group_concurrency int, ADD COLUMN group_cursor text;
CREATE INDEX task_ready_group ON task_ready (kind, group_key, rank_at, seq) WHERE group_key IS NOT NULL;
CREATE INDEX task_leases_group ON task_leases (kind, group_key) WHERE group_key IS NOT NULL;
-- listTasks({ group }) (taskq list --group, the dashboard's filter): a group's tasks newest first.
-- Neither column changes after the insert, so a take's and a finish's updates of the row stay HOT.
CREATE INDEX tasks_group ON tasks (group_key, seq) WHERE group_key IS NOT NULL;
-- A workflow's child released by its last parent (migration 018's trigger) gets its ready row with
-- its group, as every other insert of a ready row does: the release, again, with group_key.
CREATE OR REPLACE FUNCTION task_edges_release() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  e record;
  c record;
  t bigint := (extract(epoch FROM now()) * 1000)::bigint;
  woke boolean := false;
BEGIN
  FOR e IN SELECT child_seq, run_anyway FROM task_edges WHERE parent_seq = NEW.seq ORDER BY child_seq LOOP
    IF NEW.status = 'succeeded' OR e.run_anyway THEN
      UPDATE tasks SET waiting_for = waiting_for - 1, updated_at = t, version = version + 1,
        next_run_at = CASE WHEN waiting_for = 1 THEN t ELSE next_run_at END,
        rank_at = CASE WHEN waiting_for = 1 THEN t - CAST(priority AS bigint) * 3600000 ELSE rank_at END
      WHERE seq = e.child_seq AND status = 'queued' AND waiting_for > 0
      RETURNING seq, kind, waiting_for, rank_at, next_run_at, priority, group_key INTO c;
      IF FOUND AND c.waiting_for = 0 THEN
        INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority, group_key)
        VALUES (c.seq, c.kind, c.rank_at, c.next_run_at, c.priority, c.group_key);
        woke := true;
      END IF;
    ELSE
      UPDATE tasks SET status = 'cancelled', finished_at = t, updated_at = t, version = version + 1,
        error_class = 'parent_failed', error_message = format('parent %s %s', NEW.id, NEW.status)
      WHERE seq = e.child_seq AND status = 'queued' AND waiting_for > 0
      RETURNING seq, kind INTO c;
      IF FOUND THEN
        INSERT INTO task_done (seq, kind, status, finished_at) VALUES (c.seq, c.kind, 'cancelled', t);
        PERFORM pg_notify('taskq_done_' || TG_TABLE_SCHEMA, '');
      END IF;
    END IF;
  END LOOP;
  IF woke THEN PERFORM pg_notify('taskq_work_' || TG_TABLE_SCHEMA, ''); END IF;
  RETURN NULL;
END $$;
