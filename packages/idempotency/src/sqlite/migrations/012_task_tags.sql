-- A task's tags (`enqueue(kind, payload, { tags })`): the list as given on the task row (a JSON
-- array), read with it, and one row per (tag, task) in task_tags, the index a filter by tag walks
-- newest first (WITHOUT ROWID: the key is the row). The store writes task_tags itself, only for a
-- task that has tags (task_tags_insert after its claim, task_tags_prune and task_tags_purge before
-- its task is deleted), not by triggers: a trigger on tasks makes SQLite keep a statement journal
-- for every insert and delete, tagged or not (measured: 3-9% of a claim and succeed).
ALTER TABLE tasks ADD COLUMN tags TEXT;
CREATE TABLE task_tags (
  tag      TEXT    NOT NULL,
  task_seq INTEGER NOT NULL,
  PRIMARY KEY (tag, task_seq)
) WITHOUT ROWID;
