-- A task's tags (`enqueue(kind, payload, { tags })`): the list as given on the task row (a JSON
-- array as text, as SQLite keeps it), read with it, and one row per (tag, task) in task_tags, the
-- index a filter by tag walks newest first. Two row triggers keep task_tags in step with the
-- tasks, in one place for every statement that inserts or deletes one (the turn's claims,
-- claimWith, schedule firings, retention, purges); a task without tags never calls them (the
-- WHEN is false), so it writes what it wrote before. Adding a nullable column without a default
-- rewrites no row. The functions keep the store's schema as their search_path (the migration's,
-- FROM CURRENT), so a trigger fired by an application's own connection (claimWith) finds task_tags.
ALTER TABLE tasks ADD COLUMN tags text;
CREATE TABLE task_tags (
  tag      text   NOT NULL,
  task_seq bigint NOT NULL,
  PRIMARY KEY (tag, task_seq)
);
CREATE FUNCTION task_tags_insert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO task_tags (tag, task_seq) SELECT j.tag, NEW.seq FROM jsonb_array_elements_text(NEW.tags::jsonb) AS j(tag);
  RETURN NULL;
END $$;
CREATE FUNCTION task_tags_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM task_tags WHERE task_seq = OLD.seq AND tag IN (SELECT jsonb_array_elements_text(OLD.tags::jsonb));
  RETURN NULL;
END $$;
CREATE TRIGGER task_tags_insert AFTER INSERT ON tasks FOR EACH ROW WHEN (NEW.tags IS NOT NULL)
  EXECUTE FUNCTION task_tags_insert();
CREATE TRIGGER task_tags_delete AFTER DELETE ON tasks FOR EACH ROW WHEN (OLD.tags IS NOT NULL)
  EXECUTE FUNCTION task_tags_delete();
