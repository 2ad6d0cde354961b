-- A task's tags (`enqueue(kind, payload, { tags })`): the list as given on the task row (a JSON
-- array), read with it, and one row per (tag, task) in task_tags, the index a filter by tag walks
-- newest first (WITHOUT ROWID: the key is the row). Two triggers keep task_tags in step with the
-- tasks, in one place for every statement that inserts or deletes one (claims, schedule firings,
-- retention, purges); a task without tags fires neither body (the WHEN is false), so it writes
-- what it wrote before.
ALTER TABLE tasks ADD COLUMN tags TEXT;
CREATE TABLE task_tags (
  tag      TEXT    NOT NULL,
  task_seq INTEGER NOT NULL,
  PRIMARY KEY (tag, task_seq)
) WITHOUT ROWID;
CREATE TRIGGER task_tags_insert AFTER INSERT ON tasks WHEN new.tags IS NOT NULL
BEGIN
  INSERT INTO task_tags (tag, task_seq) SELECT value, new.seq FROM json_each(new.tags);
END;
CREATE TRIGGER task_tags_delete AFTER DELETE ON tasks WHEN old.tags IS NOT NULL
BEGIN
  DELETE FROM task_tags WHERE task_seq = old.seq AND tag IN (SELECT value FROM json_each(old.tags));
END;
