// The PostgreSQL driver's SQL. Every statement takes `$1` = the clock: NULL for the database's
// own (`now()`, the default: leases are judged by one clock for every node), or an epoch-ms value
// injected by tests. Batched transitions take arrays and join them with `unnest`, so one
// statement (one round trip, one commit) carries every call of an event-loop turn.

const CLOCK = "clock AS (SELECT COALESCE($1::bigint, (extract(epoch FROM now()) * 1000)::bigint) AS t)";

/** Every statement of the driver for one schema (`s` is the quoted schema name). */
export function statements(s: string) {
  const tasks = `${s}.tasks`;
  const dead = `${s}.dead_letters`;
  return {
    // One statement per event-loop turn carries every batched call: claims and the five
    // transitions as data-modifying CTEs over `unnest` arrays (one round trip, one commit). The
    // calls of one turn never touch the same row twice (each needs the version the previous call
    // on that task returned); when a buggy caller sends two on one row, one wins and the other is
    // refused as stale. A NOTIFY goes out, on commit, when any task became queued. Each
    // transition finds its rows by primary key (`seq = ANY(...)`): with a generic plan, an empty
    // array costs nothing, where a join alone made every CTE scan all running tasks.
    // $2 owner, $3 lease ms; claims $4-$9 (sorted by key: two turns lock keys in one order);
    // start $10-$11; succeed $12-$16; retry $17-$21; fail $22-$25; release $26-$27; $28 channel
    turn: `WITH ${CLOCK},
      c AS (
        INSERT INTO ${tasks} (id, idempotency_key, type, payload, status, attempts, max_attempts, created_at, updated_at,
          next_run_at, started_at, lease_owner, lease_expires_at, version)
        SELECT u.id, u.key, u.type, u.payload,
          CASE WHEN u.start THEN 'running' ELSE 'queued' END, CASE WHEN u.start THEN 1 ELSE 0 END,
          u.max_attempts, clock.t, clock.t, clock.t,
          CASE WHEN u.start THEN clock.t END, CASE WHEN u.start THEN $2::text END,
          CASE WHEN u.start THEN clock.t + $3::bigint END, 0
        FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bool[]) WITH ORDINALITY
          AS u(id, key, type, payload, max_attempts, start, ord), clock
        ORDER BY u.ord
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING seq, idempotency_key, version, status, attempts),
      st AS (
        UPDATE ${tasks} t SET status = 'running', attempts = t.attempts + 1, version = t.version + 1,
          started_at = clock.t, updated_at = clock.t, lease_owner = $2, lease_expires_at = clock.t + $3::bigint
        FROM unnest($10::bigint[], $11::int[]) AS u(seq, version), clock
        WHERE t.seq = ANY($10::bigint[]) AND t.seq = u.seq AND t.version = u.version AND t.status = 'queued'
        RETURNING t.seq, t.version, t.attempts),
      su AS (
        UPDATE ${tasks} t SET status = 'succeeded', output_key = u.output_key, etag = u.etag, result = u.result,
          finished_at = clock.t, updated_at = clock.t, error_class = NULL, error_message = NULL,
          lease_owner = NULL, lease_expires_at = NULL, version = t.version + 1
        FROM unnest($12::bigint[], $13::int[], $14::text[], $15::text[], $16::text[]) AS u(seq, version, output_key, etag, result), clock
        WHERE t.seq = ANY($12::bigint[]) AND t.seq = u.seq AND t.version = u.version AND t.status = 'running'
        RETURNING t.seq),
      re AS (
        UPDATE ${tasks} t SET status = 'queued', next_run_at = clock.t + u.delay, error_class = u.error_class,
          error_message = u.message, updated_at = clock.t, lease_owner = NULL, lease_expires_at = NULL,
          version = t.version + 1
        FROM unnest($17::bigint[], $18::int[], $19::bigint[], $20::text[], $21::text[]) AS u(seq, version, delay, error_class, message), clock
        WHERE t.seq = ANY($17::bigint[]) AND t.seq = u.seq AND t.version = u.version AND t.status = 'running'
        RETURNING t.seq),
      fa AS (
        UPDATE ${tasks} t SET status = 'failed', error_class = u.error_class, error_message = u.message,
          finished_at = clock.t, updated_at = clock.t, lease_owner = NULL, lease_expires_at = NULL,
          version = t.version + 1
        FROM unnest($22::bigint[], $23::int[], $24::text[], $25::text[]) AS u(seq, version, error_class, message), clock
        WHERE t.seq = ANY($22::bigint[]) AND t.seq = u.seq AND t.version = u.version AND t.status = 'running'
        RETURNING t.*),
      dl AS (
        INSERT INTO ${dead} (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
        SELECT seq, id, idempotency_key, payload, error_class, error_message, attempts, finished_at FROM fa),
      rl AS (
        UPDATE ${tasks} t SET status = 'queued', updated_at = clock.t, lease_owner = NULL, lease_expires_at = NULL,
          version = t.version + 1
        FROM unnest($26::bigint[], $27::int[]) AS u(seq, version), clock
        WHERE t.seq = ANY($26::bigint[]) AND t.seq = u.seq AND t.version = u.version AND t.status = 'running'
        RETURNING t.seq),
      -- the records that held a claimed key already (only the keys \`c\` did not insert are
      -- looked up; every CTE reads the snapshot the statement started with)
      ex AS (
        SELECT t.* FROM ${tasks} t
        WHERE t.idempotency_key IN (SELECT k FROM unnest($5::text[]) AS k EXCEPT SELECT idempotency_key FROM c)),
      wake AS (
        SELECT pg_notify($28, '') FROM (
          SELECT 1 FROM c WHERE status = 'queued' UNION ALL SELECT 1 FROM re UNION ALL SELECT 1 FROM rl LIMIT 1) AS queued)
      SELECT 'claim' AS kind, seq, idempotency_key AS key, version, status, attempts, NULL::json AS record FROM c
      UNION ALL SELECT 'existing', seq, idempotency_key, NULL, NULL, NULL, row_to_json(ex) FROM ex
      UNION ALL SELECT 'start', seq, NULL, version, NULL, attempts, NULL FROM st
      UNION ALL SELECT 'succeed', seq, NULL, NULL, NULL, NULL, NULL FROM su
      UNION ALL SELECT 'retry', seq, NULL, NULL, NULL, NULL, NULL FROM re
      UNION ALL SELECT 'fail', seq, NULL, NULL, NULL, NULL, NULL FROM fa
      UNION ALL SELECT 'release', seq, NULL, NULL, NULL, NULL, NULL FROM rl
      UNION ALL SELECT 'wake', NULL, NULL, NULL, NULL, NULL, NULL FROM wake`,
    byKeys: `SELECT * FROM ${tasks} WHERE idempotency_key = ANY($1::text[])`,
    reclaimExpired: `WITH ${CLOCK}
      UPDATE ${tasks} t SET status = 'queued', updated_at = clock.t, lease_owner = NULL, lease_expires_at = NULL,
        version = t.version + 1
      FROM clock WHERE t.status = 'running' AND t.lease_expires_at < clock.t`,
    // $2 owner, $3 lease ms, $4 limit: SKIP LOCKED, so two nodes never take one task
    take: `WITH ${CLOCK},
      next AS (
        SELECT seq FROM ${tasks}, clock WHERE status = 'queued' AND next_run_at <= clock.t
        ORDER BY next_run_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
      UPDATE ${tasks} t SET status = 'running', attempts = t.attempts + 1, version = t.version + 1,
        started_at = clock.t, updated_at = clock.t, lease_owner = $2, lease_expires_at = clock.t + $3::bigint
      FROM next, clock WHERE t.seq = next.seq
      RETURNING t.*`,
    runningOwners: `SELECT DISTINCT lease_owner FROM ${tasks} WHERE status = 'running' AND lease_owner IS NOT NULL`,
    // $2 owner
    releaseOwner: `WITH ${CLOCK}
      UPDATE ${tasks} t SET status = 'queued', updated_at = clock.t, lease_owner = NULL, lease_expires_at = NULL,
        version = t.version + 1
      FROM clock WHERE t.status = 'running' AND t.lease_owner = $2`,
    // $2 owner, $3 lease ms, $4 the seqs this node knows it runs: a task leased by a statement
    // whose answer was lost (a dropped connection) is not renewed, expires, and is taken again
    renew: `WITH ${CLOCK}
      UPDATE ${tasks} t SET lease_expires_at = clock.t + $3::bigint FROM clock
      WHERE t.status = 'running' AND t.lease_owner = $2 AND t.seq = ANY($4::bigint[])`,
    bySeq: `SELECT * FROM ${tasks} WHERE seq = $1`,
    byKey: `SELECT * FROM ${tasks} WHERE idempotency_key = $1`,
    byId: `SELECT * FROM ${tasks} WHERE id = $1 ORDER BY seq`,
    all: `SELECT * FROM ${tasks} ORDER BY seq`,
    // $2 task id, $3 payload, $4 error class, $5 message
    invalid: `WITH ${CLOCK}
      INSERT INTO ${dead} (task_seq, task_id, idempotency_key, payload, error_class, error_message, attempts, failed_at)
      SELECT NULL, $2, NULL, $3, $4, $5, 0, clock.t FROM clock RETURNING seq`,
    deadOpen: `SELECT * FROM ${dead} WHERE redriven_at IS NULL ORDER BY seq`,
    deadAll: `SELECT * FROM ${dead} ORDER BY seq`,
    // $2 task id or NULL for all
    redrive: `WITH ${CLOCK},
      letters AS (
        SELECT seq, task_seq FROM ${dead}
        WHERE redriven_at IS NULL AND task_seq IS NOT NULL AND ($2::text IS NULL OR task_id = $2::text)
        FOR UPDATE),
      marked AS (UPDATE ${dead} d SET redriven_at = clock.t FROM letters, clock WHERE d.seq = letters.seq),
      redriven AS (
        UPDATE ${tasks} t SET status = 'queued', attempts = 0, next_run_at = clock.t, updated_at = clock.t,
          error_class = NULL, error_message = NULL, version = t.version + 1
        FROM clock WHERE t.seq IN (SELECT task_seq FROM letters) AND t.status = 'failed'
        RETURNING t.seq)
      SELECT count(*)::int AS n FROM redriven`,
    stats: `WITH ${CLOCK}
      SELECT
        (SELECT count(*) FROM ${tasks} WHERE status = 'queued')::int AS queued,
        (SELECT count(*) FROM ${tasks} WHERE status = 'running')::int AS running,
        (SELECT count(*) FROM ${tasks} WHERE status = 'succeeded')::int AS succeeded,
        (SELECT count(*) FROM ${tasks} WHERE status = 'failed')::int AS failed,
        (SELECT count(*) FROM ${dead} WHERE redriven_at IS NULL)::int AS dead_letters,
        (SELECT clock.t - MIN(created_at) FROM ${tasks} WHERE status = 'queued') AS oldest_age
      FROM clock`,
    // $2 interval ms
    succeededWithin: `WITH ${CLOCK}
      SELECT count(*)::int AS n FROM ${tasks}, clock WHERE status = 'succeeded' AND finished_at >= clock.t - $2::bigint`,
    // $2 older than (ms), $3 limit: the oldest succeeded tasks, their history's dead letters with them
    prune: `WITH ${CLOCK},
      victims AS (
        SELECT seq FROM ${tasks}, clock WHERE status = 'succeeded' AND finished_at < clock.t - $2::bigint
        ORDER BY finished_at LIMIT $3 FOR UPDATE SKIP LOCKED),
      letters AS (DELETE FROM ${dead} WHERE task_seq IN (SELECT seq FROM victims)),
      gone AS (DELETE FROM ${tasks} WHERE seq IN (SELECT seq FROM victims) RETURNING seq)
      SELECT count(*)::int AS n FROM gone`,
    // $2 older than (ms): old dead letters, and the failed tasks left with none
    purge: `WITH ${CLOCK},
      letters AS (DELETE FROM ${dead} d USING clock WHERE d.failed_at < clock.t - $2::bigint RETURNING d.seq, d.task_seq),
      tasks AS (
        DELETE FROM ${tasks} t WHERE t.status = 'failed' AND t.seq IN (SELECT task_seq FROM letters)
          AND NOT EXISTS (SELECT 1 FROM ${dead} d WHERE d.task_seq = t.seq AND d.seq NOT IN (SELECT seq FROM letters)))
      SELECT count(*)::int AS n FROM letters`,
    leaseHolders: `SELECT lease_owner AS owner, count(*)::int AS running, MAX(lease_expires_at) AS expires
      FROM ${tasks} WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner`,
  } as const;
}

export type StatementName = keyof ReturnType<typeof statements>;
