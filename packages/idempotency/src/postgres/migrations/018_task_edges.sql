-- Workflows (issue 35): a task may wait for other tasks, its parents (`enqueue(kind, payload,
-- { after })`, `enqueueFlow`). docs/architecture.md §5.2 has the design. An edge is a row of
-- task_edges (parent_seq, child_seq, run_anyway: the child runs even when that parent failed or was
-- cancelled). A child's `waiting_for` counts its parents not finished yet (NULL: a task without
-- parents, 0: released); while it is above 0 the child is queued without a task_ready row, so no
-- take sees it. A parent's `has_children` is set when an edge to it is inserted (NULL otherwise).
-- Both columns are nullable without a default: adding them rewrites no row.
--
-- The release is a row trigger, in the statement of the parent's terminal transition, under that
-- transition's version and status guard (a stale writer changes no row, so fires nothing): every
-- statement that ends a task (the turn, reclaim, cancel, cancel of a running task) releases or
-- cancels its children in one place. Its WHEN reads only the new row, so a task without children
-- queues no trigger event and pays nothing. A success (or a run-anyway edge) counts the child's
-- parent done: `waiting_for - 1`, under the child row's lock, so two parents finishing at once on
-- two workers count one after the other and exactly one of them sees 0 and files the child in
-- task_ready (due now, ranked from now). A failure or a cancel ends a waiting child cancelled
-- (`parent_failed`, "parent <id> failed|cancelled"), whose own update fires this trigger again for
-- its children: a cascade down the graph. Children are visited in seq order, so two cascades lock
-- rows in one order. The functions keep the store's schema as their search_path (FROM CURRENT).
ALTER TABLE tasks ADD COLUMN waiting_for integer;
ALTER TABLE tasks ADD COLUMN has_children boolean;
CREATE TABLE task_edges (
  parent_seq bigint  NOT NULL,
  child_seq  bigint  NOT NULL,
  run_anyway boolean NOT NULL DEFAULT false,
  PRIMARY KEY (parent_seq, child_seq)
);
CREATE INDEX task_edges_child ON task_edges (child_seq, parent_seq);
CREATE FUNCTION task_edges_release() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
      RETURNING seq, kind, waiting_for, rank_at, next_run_at, priority INTO c;
      IF FOUND AND c.waiting_for = 0 THEN
        INSERT INTO task_ready (seq, kind, rank_at, next_run_at, priority)
        VALUES (c.seq, c.kind, c.rank_at, c.next_run_at, c.priority);
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
CREATE TRIGGER task_edges_release AFTER UPDATE OF status ON tasks FOR EACH ROW
  WHEN (NEW.has_children IS TRUE AND NEW.status IN ('succeeded', 'failed', 'cancelled')
    AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION task_edges_release();
-- Retention and purges delete finished tasks: a deleted task's edges go with it (its children keep
-- their place in the graph and their count: a deleted parent had finished, so it was counted).
CREATE FUNCTION task_edges_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM task_edges WHERE parent_seq = OLD.seq;
  DELETE FROM task_edges WHERE child_seq = OLD.seq;
  RETURN NULL;
END $$;
CREATE TRIGGER task_edges_delete AFTER DELETE ON tasks FOR EACH ROW
  WHEN (OLD.has_children IS TRUE OR OLD.waiting_for IS NOT NULL)
  EXECUTE FUNCTION task_edges_delete();
