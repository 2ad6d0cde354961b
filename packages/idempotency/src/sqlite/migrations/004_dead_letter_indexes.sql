-- Retention deletes tasks: the foreign key's check looks dead letters up by task.
CREATE INDEX dead_letters_task ON dead_letters (task_seq);
CREATE INDEX dead_letters_failed ON dead_letters (failed_at);
