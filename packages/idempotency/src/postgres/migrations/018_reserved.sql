-- A placeholder for a migration number assigned to a branch built beside this one (issue 35:
-- workflows, fair groups): the generator wants the numbers without a gap. Dropped at the merge,
-- where that branch's own file takes the number.
SELECT 1;
