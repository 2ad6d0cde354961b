-- Fair groups (issue 35): a task's group (a tenant, a customer), NULL without one, and a kind's
-- cap on each group's running tasks. `kind_limits.per_group_concurrency` set makes the kind
-- grouped: its takes rotate between its groups that have due tasks, in group-name order from
-- `group_cursor` (the last group a take drew from), and take no task of a group that has that many
-- running (docs/architecture.md §5.3). Both indexes hold grouped tasks only, so a task without a
-- group writes no entry in them: the queued one is the groups' queues (a skip scan finds the next
-- group with queued tasks, a probe its head), the running one counts a group's running tasks,
-- tasks_group lists a group's tasks.
-- Nullable columns without a default: adding them rewrites no row.
ALTER TABLE tasks ADD COLUMN group_key TEXT;
ALTER TABLE kind_limits ADD COLUMN per_group_concurrency INTEGER;
ALTER TABLE kind_limits ADD COLUMN group_cursor TEXT;
CREATE INDEX tasks_group_queued ON tasks (kind, group_key, rank_at, seq)
  WHERE status = 'queued' AND group_key IS NOT NULL;
CREATE INDEX tasks_group_running ON tasks (kind, group_key)
  WHERE status = 'running' AND group_key IS NOT NULL;
-- listTasks({ group }) (taskq list --group, the dashboard's filter): a group's tasks newest first.
CREATE INDEX tasks_group ON tasks (group_key, seq) WHERE group_key IS NOT NULL;
