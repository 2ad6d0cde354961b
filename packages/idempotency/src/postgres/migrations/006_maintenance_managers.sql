-- What the front door needs to run as a cluster: a once-per-interval gate for maintenance jobs
-- (tryRunMaintenance) and a registry of live managers for monitoring (reportManager, managers).
-- Times are epoch ms by the database's clock. Only the calls that serve them touch these tables.
CREATE TABLE maintenance (
  name        text   PRIMARY KEY,
  owner       text   NOT NULL,
  last_run_at bigint NOT NULL
);
CREATE TABLE managers (
  owner        text   PRIMARY KEY,
  started_at   bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  info         text   NOT NULL
);
