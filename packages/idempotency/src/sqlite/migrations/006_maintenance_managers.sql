-- What the front door needs to run as a cluster: a once-per-interval gate for maintenance jobs
-- (tryRunMaintenance) and a registry of live managers for monitoring (reportManager, managers).
-- Times are epoch ms by the store's clock. Only the calls that serve them touch these tables.
CREATE TABLE maintenance (
  name        TEXT    PRIMARY KEY,
  owner       TEXT    NOT NULL,
  last_run_at INTEGER NOT NULL
);
CREATE TABLE managers (
  owner        TEXT    PRIMARY KEY,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  info         TEXT    NOT NULL
);
