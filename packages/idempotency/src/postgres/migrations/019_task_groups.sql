-- Fair groups (issue 35): a task's group (a tenant, a customer), NULL without one, copied into
-- its task_ready row while queued and its task_leases row while running; and a kind's cap on each
-- group's running tasks. `kind_limits.per_group_concurrency` set makes the kind grouped: its takes
-- rotate between its groups that have due tasks, in group-name order from `group_cursor` (the last
-- group a take drew from), and take no task of a group that has that many leases (docs/
-- architecture.md §5.2). The two indexes hold grouped tasks only, so a task without a group writes
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
