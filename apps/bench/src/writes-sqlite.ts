// How `taskq-bench writes` measures a SQLite store (a file in a new temporary directory):
//
// - WAL bytes: the frames a phase appended to the -wal file, each a page and its 24-byte header,
//   read from the file's frame headers (the committed frames of the log's current salt). For the
//   phase, the bench holds a read transaction of its own on the file: no checkpoint copies a frame
//   written after it began, so none rewinds the log (a writer restarts the log only when every
//   frame is copied back and no reader holds it), and the log only grows. A rewind is detected
//   (the header's salt changes) and refused. Each frame names its page, and `dbstat` names each
//   page's b-tree: the bytes are also given per table and index.
// - Index entries: SQLite deletes an index entry in the statement that removes it (there are no
//   dead ones, and no per-index counter), so they are net: cells of each index b-tree after the
//   phase less before (`dbstat`, which this build of better-sqlite3 has), what an index gained and
//   what it lost summed apart. A table's rows are its b-tree's leaf cells.
// - "Dead tuples": SQLite has none; the pages it frees go to the freelist (PRAGMA freelist_count).
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type {
  Breakdown,
  FigureLabel,
  Figures,
  Layout,
  PhaseWrites,
  RelationWrites,
  WritesProbe,
} from "./writes.js";

export const SQLITE_FIGURES: { figures: FigureLabel[]; breakdowns: Breakdown[] } = {
  figures: [
    { key: "wal_bytes", label: "WAL bytes (frames x (page + 24))" },
    { key: "wal_frames", label: "WAL frames (pages written)" },
    { key: "rows_net", label: "table rows, net" },
    { key: "index_entries_added", label: "index entries added (net, by index)" },
    { key: "index_entries_removed", label: "index entries removed (net, by index)" },
    { key: "index_entries_net", label: "index entries, net" },
    { key: "freelist_pages", label: "freelist pages, net" },
  ],
  breakdowns: [
    { figure: "entries_net", title: "index entries, net, by index", kinds: ["index"] },
    {
      figure: "wal_bytes",
      title: "WAL bytes, by b-tree (the pages written)",
      kinds: ["table", "index", "other"],
    },
  ],
};

/** The store's b-trees: a table's rows are its leaf cells (unless WITHOUT ROWID), an index's every cell. */
interface Btree {
  readonly kind: "table" | "index";
  readonly table: string;
  /** A b-tree whose every cell is an entry: an index, or a WITHOUT ROWID table. */
  readonly keyed: boolean;
}

/** Cells of each b-tree, which b-tree each page holds, and the file's freelist. */
interface Census {
  readonly cells: Map<string, number>;
  readonly pages: Map<number, string>;
  readonly freelist: number;
}

/** The committed frames of the WAL file: its salt, its page size, and the page each frame wrote. */
interface WalLog {
  readonly salt: string;
  readonly pageSize: number;
  readonly pages: readonly number[];
}

const FRAME_HEADER = 24;
const WAL_HEADER = 32;

/** The frames of the log in `file` (none when the file is missing or empty). */
function readWal(file: string): WalLog {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return { salt: "", pageSize: 0, pages: [] };
  }
  try {
    const header = Buffer.alloc(WAL_HEADER);
    if (readSync(fd, header, 0, WAL_HEADER, 0) < WAL_HEADER) return { salt: "", pageSize: 0, pages: [] };
    const pageSize = header.readUInt32BE(8) === 1 ? 65536 : header.readUInt32BE(8);
    const salt = header.subarray(16, 24).toString("hex");
    const frame = Buffer.alloc(FRAME_HEADER);
    const pages: number[] = [];
    let committed = 0;
    for (let offset = WAL_HEADER; ; offset += FRAME_HEADER + pageSize) {
      if (readSync(fd, frame, 0, FRAME_HEADER, offset) < FRAME_HEADER) break;
      // a frame of an earlier log (before a rewind) has another salt: the log ends there
      if (frame.subarray(8, 16).toString("hex") !== salt) break;
      pages.push(frame.readUInt32BE(0));
      if (frame.readUInt32BE(4) !== 0) committed = pages.length; // a commit frame
    }
    return { salt, pageSize, pages: pages.slice(0, committed) };
  } finally {
    closeSync(fd);
  }
}

export async function openSqliteProbe(): Promise<WritesProbe> {
  const dir = mkdtempSync(join(tmpdir(), "taskq-bench-writes-"));
  const path = join(dir, "tasks.db");
  const notes = [
    "WAL bytes: the frames each phase appended to the -wal file, with checkpoints held off by a read transaction of the bench's own; by b-tree, the page each frame wrote ((freelist): pages free at the phase's end)",
    "SQLite deletes an index entry at once (no dead entries, no per-index counter): index entries are net, cells of each index b-tree after the phase less before (dbstat), what the indexes gained and what they lost summed apart; an entry rewritten in place, or moved within one index, shows as none",
    "no dead tuples in SQLite: the pages it frees go to the freelist (PRAGMA freelist_count)",
  ];
  let btrees = new Map<string, Btree>();

  const census = (db: Database.Database): Census => {
    const cells = new Map<string, number>();
    const pages = new Map<number, string>();
    const rows = db.prepare("SELECT name, pageno, pagetype, ncell FROM dbstat").all() as {
      name: string;
      pageno: number;
      pagetype: string | null;
      ncell: number;
    }[];
    for (const r of rows) {
      pages.set(r.pageno, r.name);
      const tree = btrees.get(r.name);
      if (tree === undefined) continue;
      if (tree.keyed || r.pagetype === "leaf") cells.set(r.name, (cells.get(r.name) ?? 0) + r.ncell);
    }
    const freelist = db.pragma("freelist_count", { simple: true }) as number;
    return { cells, pages, freelist };
  };

  return {
    server: `SQLite file ${path}`,
    location: path,
    notes,
    async prepare(): Promise<Layout> {
      const db = new Database(path, { fileMustExist: true });
      try {
        const rows = db
          .prepare(
            "SELECT type, name, tbl_name AS tbl, sql FROM sqlite_schema WHERE type IN ('table', 'index') ORDER BY type DESC, name",
          )
          .all() as { type: "table" | "index"; name: string; tbl: string; sql: string | null }[];
        btrees = new Map(
          rows.map((r) => [
            r.name,
            {
              kind: r.type,
              table: r.tbl,
              keyed: r.type === "index" || /\bWITHOUT\s+ROWID\b/i.test(r.sql ?? ""),
            },
          ]),
        );
        return {
          tables: rows.filter((r) => r.type === "table").map((r) => r.name),
          indexes: rows.filter((r) => r.type === "index").map((r) => ({ name: r.name, table: r.tbl })),
        };
      } finally {
        db.close();
      }
    },
    async begin() {
      // read-write, so that its close, the last, checkpoints and removes the WAL: each phase's log
      // starts empty (it never writes)
      const db = new Database(path, { fileMustExist: true });
      const before = census(db);
      db.exec("BEGIN");
      db.prepare("SELECT count(*) FROM sqlite_schema").get(); // the read that holds the log
      const walFile = `${path}-wal`;
      const walBefore = readWal(walFile);
      return async (): Promise<PhaseWrites> => {
        const walAfter = readWal(walFile);
        db.exec("COMMIT");
        const after = census(db);
        db.close();
        if (walBefore.pages.length > 0 && walAfter.salt !== walBefore.salt)
          throw new Error("writes: the SQLite WAL was rewound during the phase; its bytes cannot be counted");
        const frameBytes = walAfter.pageSize + FRAME_HEADER;
        const written = walAfter.pages.slice(walBefore.pages.length);
        const relations: Record<string, RelationWrites> = {};
        const totals: Figures = {
          wal_bytes: written.length * frameBytes,
          wal_frames: written.length,
          rows_net: 0,
          index_entries_added: 0,
          index_entries_removed: 0,
          index_entries_net: 0,
          freelist_pages: after.freelist - before.freelist,
        };
        const bump = (figures: Figures, key: string, by: number) => {
          figures[key] = (figures[key] ?? 0) + by;
        };
        for (const [name, tree] of btrees) {
          const net = (after.cells.get(name) ?? 0) - (before.cells.get(name) ?? 0);
          const figures: Figures =
            tree.kind === "index" ? { entries_net: net, wal_bytes: 0 } : { rows_net: net, wal_bytes: 0 };
          relations[name] = {
            kind: tree.kind,
            ...(tree.kind === "index" ? { table: tree.table } : {}),
            figures,
          };
          if (tree.kind === "table") bump(totals, "rows_net", net);
          else {
            bump(totals, "index_entries_net", net);
            bump(totals, net > 0 ? "index_entries_added" : "index_entries_removed", Math.abs(net));
          }
        }
        for (const page of written) {
          // the b-tree that holds the page now; a page freed in the phase is on the freelist
          const name = after.pages.get(page) ?? "(freelist)";
          const relation = relations[name] ?? { kind: "other", figures: { wal_bytes: 0 } };
          relations[name] = relation;
          bump(relation.figures, "wal_bytes", frameBytes);
        }
        return { totals, relations };
      };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
