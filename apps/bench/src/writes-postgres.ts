// How `taskq-bench writes` measures a PostgreSQL store (a new database on the server `--pg-url`
// names, or on a throwaway durable one), schema `taskq`, every table and index in it as the
// catalog lists them:
//
// - WAL bytes: the server's insert position after the phase less before (pg_current_wal_insert_lsn),
//   and pg_stat_wal's records and full-page images. Both are the whole server's: nothing else may
//   run on it meanwhile (a throwaway server runs nothing else).
// - Rows: pg_stat_user_tables' n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del and n_dead_tup, per
//   table. A backend reports them when it exits (or at most once a second while idle), so the
//   store is closed after each phase and the bench waits until its backends are gone; autovacuum
//   is off on the store's tables for the run, so dead tuples stay countable.
// - Index entries, with a superuser (the throwaway server's `postgres` over its unix socket, or a
//   --pg-url role that is one; otherwise not measured, and the notes say so):
//   - written: the btree leaf inserts the WAL holds for each index between the two positions
//     (pg_walinspect: INSERT_LEAF, INSERT_POST, and SPLIT_L/SPLIT_R at level 0, each one entry),
//     which pg_walinspect also gives as WAL bytes per relation and per record type;
//   - net: the heap TIDs in each btree's leaf pages, live and dead, after less before
//     (pageinspect: bt_page_stats and bt_page_items page by page, posting lists counted by their
//     TIDs, high keys left out; PostgreSQL 15 has no bt_multi_page_stats);
//   - removed: the items an index deleted itself, without vacuum, to make room (simple and
//     bottom-up deletion: WAL DELETE records), which is why net can be less than written.
import pg from "pg";
import { openBenchDatabases } from "./pg-databases.js";
import type {
  Breakdown,
  FigureLabel,
  Figures,
  Layout,
  PhaseWrites,
  RecordWrites,
  RelationWrites,
  WritesProbe,
} from "./writes.js";

export const POSTGRES_FIGURES: { figures: FigureLabel[]; breakdowns: Breakdown[] } = {
  figures: [
    { key: "wal_bytes", label: "WAL bytes (insert position)" },
    { key: "wal_records", label: "WAL records (pg_stat_wal)" },
    { key: "wal_fpi", label: "WAL full-page images" },
    { key: "heap_inserted", label: "heap rows inserted" },
    { key: "heap_updated", label: "heap rows updated" },
    { key: "heap_hot_updated", label: "  of which HOT (no index entry)" },
    { key: "heap_deleted", label: "heap rows deleted" },
    { key: "dead_tuples", label: "dead tuples left" },
    { key: "index_entries_written", label: "index entries written (WAL)" },
    { key: "index_entries_net", label: "index entries, net (leaf pages)" },
    { key: "index_items_removed", label: "index items removed without vacuum" },
  ],
  breakdowns: [
    { figure: "entries_written", title: "index entries written, by index", kinds: ["index"] },
    { figure: "entries_net", title: "index entries, net, by index", kinds: ["index"] },
    {
      figure: "wal_bytes",
      title: "WAL bytes, by relation (pg_walinspect)",
      kinds: ["table", "index", "other"],
    },
  ],
};

/** The schema of the store's tables (the default of openTaskStore and connect). */
const SCHEMA = "taskq";
/** How long the store's backends may take to exit after it closed. */
const EXIT_WAIT_MS = 30_000;

/** A relation of the store: a table, an index, or other (a sequence, a TOAST table or its index). */
interface Relation {
  readonly name: string;
  readonly kind: "table" | "index" | "other";
  readonly table: string | null;
  readonly filenode: string;
  readonly btree: boolean;
}

interface TableStats {
  readonly relname: string;
  readonly ins: number;
  readonly upd: number;
  readonly hot: number;
  readonly del: number;
  readonly dead: number;
}

/** WAL records of one relation (by its first block), resource manager, type and btree level. */
interface WalRecordRow {
  readonly rmgr: string;
  readonly type: string;
  readonly filenode: string | null;
  readonly level: string | null;
  readonly records: number;
  readonly bytes: number;
  readonly fpi_bytes: number;
  /** Btree DELETE records: the items they removed. */
  readonly ndeleted: number;
}

interface Snapshot {
  readonly lsn: string;
  readonly walRecords: number;
  readonly walFpi: number;
  readonly checkpoints: number;
  readonly tables: Map<string, TableStats>;
  /** Heap TIDs in each btree's leaf pages; null without a superuser. */
  readonly entries: Map<string, number> | null;
}

export async function openPostgresProbe(pgUrl?: string): Promise<WritesProbe> {
  const databases = await openBenchDatabases(pgUrl);
  let client: pg.Client | undefined;
  try {
    const url = await databases.create();
    const superuser = databases.superuser?.(url);
    client = new pg.Client(superuser ?? { connectionString: url });
    await client.connect();
    const db = client;
    const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      (await db.query<R>(sql, params)).rows;

    const isSuperuser =
      (await query<{ s: boolean }>("SELECT rolsuper AS s FROM pg_roles WHERE rolname = current_user"))[0]
        ?.s === true;
    const notes = [
      "WAL bytes and records are the whole server's (pg_stat_wal, the WAL position): measured on a server that ran nothing else meanwhile",
      "rows from pg_stat_user_tables, autovacuum off on the store's tables for the run; a row lock (FOR UPDATE) writes WAL (Heap/LOCK) but no row version",
    ];
    // PostgreSQL 17 moved the checkpoint counts from pg_stat_bgwriter to pg_stat_checkpointer
    const [version] = await query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
    const checkpointCount =
      (version?.v ?? 0) >= 170000
        ? "SELECT num_timed + num_requested FROM pg_stat_checkpointer"
        : "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter";
    let relations: Relation[] = [];
    let walinspect = false;

    /** Waits until no backend but this one is in the database: the store's have exited, their counts reported. */
    const storeGone = async () => {
      const deadline = Date.now() + EXIT_WAIT_MS;
      for (;;) {
        const [row] = await query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        );
        if (row?.n === 0) return;
        if (Date.now() > deadline) throw new Error("writes: the store's connections did not close");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    const indexEntries = async (): Promise<Map<string, number> | null> => {
      if (!isSuperuser) return null;
      const counts = new Map<string, number>();
      for (const r of relations.filter((x) => x.btree)) {
        const [row] = await query<{ n: string }>(
          `SELECT coalesce(sum(CASE WHEN i.tids IS NULL THEN 1 ELSE cardinality(i.tids) END), 0) AS n
             FROM generate_series(1, pg_relation_size($1::text::regclass) / current_setting('block_size')::int - 1) AS b(blkno)
             CROSS JOIN LATERAL bt_page_stats($1::text, b.blkno) AS s
             CROSS JOIN LATERAL bt_page_items($1::text, b.blkno) AS i
            WHERE s.type = 'l' AND NOT (s.btpo_next <> 0 AND i.itemoffset = 1)`,
          [`${SCHEMA}.${quoteIdent(r.name)}`],
        );
        counts.set(r.name, Number(row?.n ?? 0));
      }
      return counts;
    };

    /**
     * The counts now, once the store's backends are gone. The WAL position is read last before a
     * phase and first after it (counting index entries writes nothing, but takes a while).
     */
    const snapshot = async (when: "before" | "after"): Promise<Snapshot> => {
      await storeGone();
      const early = when === "before" ? await indexEntries() : undefined;
      await query("SELECT pg_stat_force_next_flush()");
      await query("SELECT pg_stat_clear_snapshot()");
      const tables = await query<TableStats>(
        `SELECT relname, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot,
                n_tup_del::float8 AS del, n_dead_tup::float8 AS dead
           FROM pg_stat_user_tables WHERE schemaname = $1`,
        [SCHEMA],
      );
      const [wal] = await query<{ records: number; fpi: number; checkpoints: number; lsn: string }>(
        `SELECT w.wal_records::float8 AS records, w.wal_fpi::float8 AS fpi,
                (${checkpointCount})::float8 AS checkpoints, pg_current_wal_insert_lsn()::text AS lsn
           FROM pg_stat_wal AS w`,
      );
      if (wal === undefined) throw new Error("writes: pg_stat_wal returned no row");
      return {
        lsn: wal.lsn,
        walRecords: wal.records,
        walFpi: wal.fpi,
        checkpoints: wal.checkpoints,
        tables: new Map(tables.map((t) => [t.relname, t])),
        entries: early === undefined ? await indexEntries() : early,
      };
    };

    /** The WAL between two positions, by relation and record type (pg_walinspect). */
    const walRecords = async (from: string, to: string) => {
      // pg_walinspect reads only WAL flushed to disk: the walwriter flushes within a moment
      const deadline = Date.now() + EXIT_WAIT_MS;
      while (
        (await query<{ ok: boolean }>("SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok", [to]))[0]
          ?.ok !== true
      ) {
        if (Date.now() > deadline) throw new Error("writes: the server did not flush its WAL");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return query<WalRecordRow>(
        `SELECT resource_manager AS rmgr, record_type AS type,
                substring(block_ref from 'blkref #0: rel [0-9]+/[0-9]+/([0-9]+)') AS filenode,
                substring(description from 'level:? ([0-9]+)') AS level,
                count(*)::float8 AS records, sum(record_length)::float8 AS bytes,
                sum(fpi_length)::float8 AS fpi_bytes,
                sum(coalesce(substring(description from 'ndeleted:? ([0-9]+)')::int, 0))::float8 AS ndeleted
           FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
          GROUP BY 1, 2, 3, 4`,
        [from, to],
      );
    };

    return {
      server: `${databases.server} (database ${new URL(url).pathname.slice(1)}, schema ${SCHEMA}${isSuperuser ? ", measured as a superuser" : ""})`,
      location: url,
      notes,
      async prepare(): Promise<Layout> {
        relations = (
          await query<{
            name: string;
            kind: string;
            table: string | null;
            filenode: string;
            am: string | null;
          }>(
            `SELECT c.relname || CASE WHEN c.relkind = 'S' THEN ' (sequence)' ELSE '' END AS name,
                    c.relkind::text AS kind, t.relname AS table,
                    pg_relation_filenode(c.oid)::text AS filenode, am.amname AS am
               FROM pg_class AS c
               JOIN pg_namespace AS n ON n.oid = c.relnamespace
               LEFT JOIN pg_am AS am ON am.oid = c.relam
               LEFT JOIN pg_index AS x ON x.indexrelid = c.oid
               LEFT JOIN pg_class AS t ON t.oid = x.indrelid
              WHERE n.nspname = $1 AND c.relkind IN ('r', 'i', 'S')
             UNION ALL
             SELECT c.relname || ' (TOAST)', 'o', NULL, pg_relation_filenode(c.reltoastrelid)::text, NULL
               FROM pg_class AS c
               JOIN pg_namespace AS n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind = 'r' AND c.reltoastrelid <> 0
             UNION ALL
             SELECT c.relname || ' (TOAST index)', 'o', NULL, pg_relation_filenode(x.indexrelid)::text, NULL
               FROM pg_class AS c
               JOIN pg_namespace AS n ON n.oid = c.relnamespace
               JOIN pg_index AS x ON x.indrelid = c.reltoastrelid
              WHERE n.nspname = $1 AND c.relkind = 'r'
              ORDER BY 2 DESC, 1`,
            [SCHEMA],
          )
        ).map((r) => ({
          name: r.name,
          kind: r.kind === "r" ? "table" : r.kind === "i" ? "index" : "other",
          table: r.table,
          filenode: r.filenode,
          btree: r.am === "btree",
        }));
        const tables = relations.filter((r) => r.kind === "table");
        // ALTER TABLE needs the owner: the store's role made them (or a superuser asks)
        const owner = isSuperuser ? db : new pg.Client({ connectionString: url });
        if (owner !== db) await owner.connect();
        try {
          for (const t of tables)
            await owner.query(
              `ALTER TABLE ${SCHEMA}.${quoteIdent(t.name)} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)`,
            );
        } finally {
          if (owner !== db) await owner.end();
        }
        if (isSuperuser) {
          await query("CREATE EXTENSION IF NOT EXISTS pageinspect");
          try {
            await query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
            walinspect = true;
            notes.push(
              "WAL by relation and by record type: the lengths of the records that name it (pg_walinspect; a record goes to the relation of its first block), which leave out the WAL's page headers and padding",
            );
          } catch (error) {
            notes.push(
              `no WAL per relation or index entries written: pg_walinspect: ${(error as Error).message}`,
            );
          }
          const others = relations.filter((r) => r.kind === "index" && !r.btree).map((r) => r.name);
          if (others.length > 0) notes.push(`not btree, entries not counted: ${others.join(", ")}`);
        } else {
          notes.push(
            "index entries not measured: they need a superuser (pageinspect, pg_walinspect), and --pg-url's role is not one (without --pg-url the bench's throwaway server has one)",
          );
        }
        return {
          tables: tables.map((t) => t.name),
          indexes: relations
            .filter((r) => r.kind === "index")
            .map((r) => ({ name: r.name, table: r.table ?? "" })),
        };
      },
      async begin() {
        const before = await snapshot("before");
        return async (): Promise<PhaseWrites> => {
          const after = await snapshot("after");
          const [diff] = await query<{ bytes: number }>("SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes", [
            after.lsn,
            before.lsn,
          ]);
          const checkpoints = after.checkpoints - before.checkpoints;
          if (checkpoints > 0)
            notes.push(
              `${checkpoints} checkpoint(s) during a phase: the first change of each page after one writes a full-page image (wal_fpi)`,
            );
          const records = walinspect ? await walRecords(before.lsn, after.lsn) : null;
          return phaseWrites(relations, before, after, diff?.bytes ?? 0, records);
        };
      },
      async close() {
        try {
          await db.end();
        } finally {
          await databases.dispose();
        }
      },
    };
  } catch (error) {
    await client?.end().catch(() => undefined);
    await databases.dispose();
    throw error;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Btree WAL records that add one entry to a leaf page (a split at level 0 carries its new item). */
function leafInserts(type: string, level: string | null): boolean {
  return (
    type === "INSERT_LEAF" ||
    type === "INSERT_POST" ||
    ((type === "SPLIT_L" || type === "SPLIT_R") && level === "0")
  );
}

function phaseWrites(
  relations: readonly Relation[],
  before: Snapshot,
  after: Snapshot,
  walBytes: number,
  records: readonly WalRecordRow[] | null,
): PhaseWrites {
  const byName: Record<string, RelationWrites> = {};
  const byFilenode = new Map<string, RelationWrites>();
  const measured = records !== null;
  const entriesMeasured = after.entries !== null && before.entries !== null;
  for (const r of relations) {
    let figures: Figures;
    if (r.kind === "table") {
      const a = after.tables.get(r.name);
      const b = before.tables.get(r.name);
      const d = (k: "ins" | "upd" | "hot" | "del" | "dead") => (a?.[k] ?? 0) - (b?.[k] ?? 0);
      figures = {
        inserted: d("ins"),
        updated: d("upd"),
        hot_updated: d("hot"),
        deleted: d("del"),
        dead_tuples: d("dead"),
        wal_bytes: measured ? 0 : null,
      };
    } else if (r.kind === "other") {
      figures = { wal_bytes: measured ? 0 : null };
    } else {
      const counted = r.btree && entriesMeasured;
      figures = {
        entries_written: counted && measured ? 0 : null,
        entries_net: counted ? (after.entries?.get(r.name) ?? 0) - (before.entries?.get(r.name) ?? 0) : null,
        items_removed: counted && measured ? 0 : null,
        wal_bytes: measured ? 0 : null,
      };
    }
    const writes: RelationWrites = { kind: r.kind, ...(r.table === null ? {} : { table: r.table }), figures };
    byName[r.name] = writes;
    byFilenode.set(r.filenode, writes);
  }
  const byType: Record<string, RecordWrites> = {};
  for (const rec of records ?? []) {
    const type = `${rec.rmgr}/${rec.type}`;
    const into = byType[type] ?? { records: 0, bytes: 0, fpi_bytes: 0 };
    byType[type] = {
      records: into.records + rec.records,
      bytes: into.bytes + rec.bytes,
      fpi_bytes: into.fpi_bytes + rec.fpi_bytes,
    };
    // a record naming no block (a commit) is its resource manager's; a block outside the schema, other
    let relation = rec.filenode === null ? undefined : byFilenode.get(rec.filenode);
    if (relation === undefined) {
      const bucket = rec.filenode === null ? `(${rec.rmgr}: no relation)` : "(relations outside the schema)";
      relation = byName[bucket] ?? { kind: "other", figures: { wal_bytes: 0 } };
      byName[bucket] = relation;
    }
    relation.figures.wal_bytes = (relation.figures.wal_bytes ?? 0) + rec.bytes;
    if (relation.kind === "index" && rec.rmgr === "Btree" && relation.figures.entries_written !== null) {
      if (leafInserts(rec.type, rec.level))
        relation.figures.entries_written = (relation.figures.entries_written ?? 0) + rec.records;
      if (rec.type === "DELETE")
        relation.figures.items_removed = (relation.figures.items_removed ?? 0) + rec.ndeleted;
    }
  }
  const sum = (kind: RelationWrites["kind"], key: string): number | null => {
    let total = 0;
    for (const r of Object.values(byName)) {
      if (r.kind !== kind) continue;
      const v = r.figures[key];
      if (v === null) return null;
      total += v ?? 0;
    }
    return total;
  };
  const entriesOf = (key: string) => (entriesMeasured ? sum("index", key) : null);
  const totals: Figures = {
    wal_bytes: walBytes,
    wal_records: after.walRecords - before.walRecords,
    wal_fpi: after.walFpi - before.walFpi,
    wal_fpi_bytes: measured ? Object.values(byType).reduce((s, t) => s + t.fpi_bytes, 0) : null,
    checkpoints: after.checkpoints - before.checkpoints,
    heap_inserted: sum("table", "inserted"),
    heap_updated: sum("table", "updated"),
    heap_hot_updated: sum("table", "hot_updated"),
    heap_deleted: sum("table", "deleted"),
    dead_tuples: sum("table", "dead_tuples"),
    index_entries_written: measured ? entriesOf("entries_written") : null,
    index_entries_net: entriesOf("entries_net"),
    index_items_removed: measured ? entriesOf("items_removed") : null,
  };
  return { totals, relations: byName, ...(measured ? { records: byType } : {}) };
}
