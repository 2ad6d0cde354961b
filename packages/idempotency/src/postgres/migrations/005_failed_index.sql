-- stats() counts each status through its partial index; failed tasks had none.
CREATE INDEX tasks_failed ON tasks (seq) WHERE status = 'failed';
