/**
 * The PostgreSQL schema, as migrations applied in order; `<schema>.migrations` records each one
 * applied. Same record and state machine as SQLite's (src/schema.ts); times are epoch ms (bigint)
 * taken from the database's clock. `$S` stands for the quoted schema name.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE $S.tasks (
     seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id               text    NOT NULL,
     idempotency_key  text    NOT NULL UNIQUE,
     type             text    NOT NULL,
     payload          text    NOT NULL,
     status           text    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
     attempts         integer NOT NULL DEFAULT 0,
     max_attempts     integer NOT NULL,
     created_at       bigint  NOT NULL,
     updated_at       bigint  NOT NULL,
     started_at       bigint,
     finished_at      bigint,
     next_run_at      bigint  NOT NULL,
     lease_owner      text,
     lease_expires_at bigint,
     output_key       text,
     etag             text,
     result           text,
     error_class      text,
     error_message    text,
     version          integer NOT NULL DEFAULT 0
   );
   CREATE INDEX tasks_by_id ON $S.tasks (id);
   CREATE INDEX tasks_queued ON $S.tasks (next_run_at, seq) WHERE status = 'queued';
   CREATE INDEX tasks_running ON $S.tasks (lease_owner, lease_expires_at) WHERE status = 'running';
   CREATE INDEX tasks_succeeded ON $S.tasks (finished_at) WHERE status = 'succeeded';
   CREATE TABLE $S.dead_letters (
     seq             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     task_seq        bigint  REFERENCES $S.tasks (seq),
     task_id         text    NOT NULL,
     idempotency_key text,
     payload         text,
     error_class     text    NOT NULL,
     error_message   text    NOT NULL,
     attempts        integer NOT NULL,
     failed_at       bigint  NOT NULL,
     redriven_at     bigint
   );
   CREATE INDEX dead_letters_open ON $S.dead_letters (seq) WHERE redriven_at IS NULL;`,
  // Retention deletes tasks: the foreign key's check looks dead letters up by task.
  `CREATE INDEX dead_letters_task ON $S.dead_letters (task_seq);
   CREATE INDEX dead_letters_failed ON $S.dead_letters (failed_at);`,
  // stats() counts each status through its partial index; failed tasks had none.
  `CREATE INDEX tasks_failed ON $S.tasks (seq) WHERE status = 'failed';`,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
