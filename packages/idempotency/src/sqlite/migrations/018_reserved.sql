-- A placeholder for migration 018, which another branch of issue 35 adds (the lead renumbers at
-- merge and drops this file): the generator wants the numbers without a gap.
SELECT 1;
