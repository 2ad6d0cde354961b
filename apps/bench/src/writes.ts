// `taskq-bench writes`: what each task writes (issue 32). On a fresh store, N no-op tasks are
// enqueued (taskq's `connect()` client, `enqueueMany`), then all taken (`takeNext`), then all
// succeeded (`succeed`), in batches, each phase alone, and the store's writes are measured around
// each phase: WAL bytes, rows and index entries, per table and per index, divided by the tasks.
//
// The store is opened and closed again for each phase, so that what its connections did is
// settled when the phase is read (a PostgreSQL backend reports its row counts when it exits).
// How each backend is measured: writes-postgres.ts and writes-sqlite.ts. Every table and index of
// the store is read from its catalog, none named here, so a change of layout is measured as it is.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { newOwnerId, openTaskStore, type TaskRecord, type TaskStoreDriver } from "@taskq/idempotency";
import { connect } from "taskq";
import { type MachineFacts, machineFacts } from "./machine.js";
import { openPostgresProbe, POSTGRES_FIGURES } from "./writes-postgres.js";
import { openSqliteProbe, SQLITE_FIGURES } from "./writes-sqlite.js";

export type WritesStore = "sqlite" | "postgres";

export const PHASES = ["enqueue", "take", "succeed"] as const;
export type Phase = (typeof PHASES)[number];

/** Figures of a phase, by name: totals (null: this run cannot measure it, the notes say why). */
export type Figures = Record<string, number | null>;

/** One table's or index's figures in a phase, or a bucket of WAL that is no relation of the store. */
export interface RelationWrites {
  readonly kind: "table" | "index" | "other";
  /** An index's table. */
  readonly table?: string;
  readonly figures: Figures;
}

/** WAL records of one resource manager and type (PostgreSQL with pg_walinspect). */
export interface RecordWrites {
  readonly records: number;
  /** Their length, full-page images included. */
  readonly bytes: number;
  readonly fpi_bytes: number;
}

/** What a phase wrote: totals, per relation, and (PostgreSQL) per WAL record type. */
export interface PhaseWrites {
  readonly totals: Figures;
  readonly relations: Record<string, RelationWrites>;
  readonly records?: Record<string, RecordWrites>;
}

/** The store's tables and indexes, read from its catalog after its migrations. */
export interface Layout {
  readonly tables: readonly string[];
  readonly indexes: readonly { readonly name: string; readonly table: string }[];
}

/** A label for a figure in the printed table. */
export interface FigureLabel {
  readonly key: string;
  readonly label: string;
}

/** A per-relation table the report prints: one figure, for the relations of these kinds. */
export interface Breakdown {
  readonly figure: string;
  readonly title: string;
  readonly kinds: readonly RelationWrites["kind"][];
}

/** What each backend's measure does (writes-postgres.ts, writes-sqlite.ts). */
export interface WritesProbe {
  /** Where the store is, for the report (no password). */
  readonly server: string;
  /** The store's location, for openTaskStore and connect. */
  readonly location: string;
  /** What the report should say about this run (filled as it goes). */
  readonly notes: string[];
  /** Readies the store its first open made (autovacuum off, extensions); returns its layout. */
  prepare(): Promise<Layout>;
  /** Marks a phase's start (nothing of the store open); the function returned measures its end. */
  begin(): Promise<() => Promise<PhaseWrites>>;
  close(): Promise<void>;
}

/** The printed rows and per-relation tables of each backend. */
export const FIGURES: Record<
  WritesStore,
  { readonly figures: readonly FigureLabel[]; readonly breakdowns: readonly Breakdown[] }
> = { postgres: POSTGRES_FIGURES, sqlite: SQLITE_FIGURES };

export interface WritesOptions {
  readonly store: WritesStore;
  readonly tasks: number;
  /** Tasks per enqueueMany, per takeNext, and succeeds per turn. */
  readonly batch: number;
  /** PostgreSQL: the server (a role that may CREATE DATABASE). @default a throwaway durable one */
  readonly pgUrl?: string;
}

export interface WritesResult {
  readonly generated_at: string;
  readonly machine: MachineFacts;
  readonly store: WritesStore;
  readonly server: string;
  readonly tasks: number;
  readonly batch: number;
  readonly layout: Layout;
  /** Each phase and their sum (`total`): totals, per relation, and the totals per task. */
  readonly phases: Record<Phase | "total", PhaseWrites & { readonly per_task: Figures }>;
  readonly notes: readonly string[];
}

/** The kind of the no-op tasks. */
const KIND = "noop";

/** Enqueues, takes and succeeds `tasks` tasks on a fresh store, measuring each phase. */
export async function runWrites(
  options: WritesOptions,
  log: (line: string) => void = () => undefined,
): Promise<WritesResult> {
  const probe = options.store === "sqlite" ? await openSqliteProbe() : await openPostgresProbe(options.pgUrl);
  try {
    log(`task store: ${probe.server}`);
    // The first open runs the migrations; the layout is what they made.
    await (await openTaskStore(probe.location)).close();
    const layout = await probe.prepare();
    log(`layout: ${layout.tables.length} tables, ${layout.indexes.length} indexes`);
    // One owner for the take and the succeed (a lease is its owner's), leases that outlast the run.
    const storeOptions = { owner: newOwnerId(), leaseMs: 3_600_000, recover: false };
    const withStore = async (work: (store: TaskStoreDriver) => Promise<void>) => {
      const store = await openTaskStore(probe.location, storeOptions);
      try {
        await work(store);
      } finally {
        await store.close();
      }
    };
    const measured = async (phase: Phase, work: () => Promise<void>): Promise<PhaseWrites> => {
      const end = await probe.begin();
      const started = performance.now();
      await work();
      const seconds = (performance.now() - started) / 1000;
      const writes = await end();
      log(`${phase}: ${options.tasks} tasks in ${seconds.toFixed(1)} s, measured`);
      return writes;
    };

    const enqueue = await measured("enqueue", async () => {
      const client = await connect({ store: probe.location });
      try {
        for (let n = 0; n < options.tasks; n += options.batch) {
          const payloads = Array.from({ length: Math.min(options.batch, options.tasks - n) }, (_, i) => ({
            n: n + i,
          }));
          await client.enqueueMany(KIND, payloads);
        }
      } finally {
        await client.close();
      }
    });
    const taken: TaskRecord[] = [];
    const take = await measured("take", () =>
      withStore(async (store) => {
        while (taken.length < options.tasks) {
          const got = await store.takeNext(Math.min(options.batch, options.tasks - taken.length), [KIND]);
          if (got.length === 0) break;
          taken.push(...got);
        }
      }),
    );
    if (taken.length !== options.tasks)
      throw new Error(`writes: took ${taken.length} of the ${options.tasks} tasks enqueued`);
    const succeed = await measured("succeed", () =>
      withStore(async (store) => {
        for (let n = 0; n < taken.length; n += options.batch)
          // one turn: the calls made together are committed together
          await Promise.all(
            taken.slice(n, n + options.batch).map((t) => store.succeed(t.seq, t.version, { result: null })),
          );
      }),
    );

    const byPhase = { enqueue, take, succeed };
    const total = sumPhases(PHASES.map((p) => byPhase[p]));
    const perTask = (w: PhaseWrites) => ({ ...w, per_task: divide(w.totals, options.tasks) });
    return {
      generated_at: new Date().toISOString(),
      machine: machineFacts(),
      store: options.store,
      server: probe.server,
      tasks: options.tasks,
      batch: options.batch,
      layout,
      phases: {
        enqueue: perTask(enqueue),
        take: perTask(take),
        succeed: perTask(succeed),
        total: perTask(total),
      },
      notes: [...probe.notes],
    };
  } finally {
    await probe.close();
  }
}

const add = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || b === null ? null : (a ?? 0) + (b ?? 0);

/** The phases added up: a figure is null in the sum when it is null in any phase. */
function sumPhases(phases: readonly PhaseWrites[]): PhaseWrites {
  const totals: Figures = {};
  const relations: Record<string, RelationWrites> = {};
  const records: Record<string, RecordWrites> = {};
  for (const phase of phases) {
    for (const [key, value] of Object.entries(phase.totals)) totals[key] = add(totals[key], value);
    for (const [name, r] of Object.entries(phase.relations)) {
      const into = relations[name] ?? { ...r, figures: {} };
      for (const [key, value] of Object.entries(r.figures)) into.figures[key] = add(into.figures[key], value);
      relations[name] = into;
    }
    for (const [type, r] of Object.entries(phase.records ?? {})) {
      const into = records[type] ?? { records: 0, bytes: 0, fpi_bytes: 0 };
      records[type] = {
        records: into.records + r.records,
        bytes: into.bytes + r.bytes,
        fpi_bytes: into.fpi_bytes + r.fpi_bytes,
      };
    }
  }
  return { totals, relations, ...(phases.some((p) => p.records) ? { records } : {}) };
}

function divide(figures: Figures, tasks: number): Figures {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v === null ? null : v / tasks]));
}

/** A figure per task: whole numbers from 100 up, else two decimals; "-" when not measured. */
function perTaskText(value: number | null | undefined): string {
  if (value === null || value === undefined) return "-";
  return Math.abs(value) >= 100
    ? Math.round(value).toLocaleString("en-US")
    : value.toFixed(2).replace(/^-(0\.00)$/, "$1");
}

const COLUMNS = [...PHASES, "total"] as const;

/** The report: each figure per task, by phase, then the per-relation tables, then the notes. */
export function formatWrites(result: WritesResult): string {
  const { figures, breakdowns } = FIGURES[result.store];
  const n = (v: number) => v.toLocaleString("en-US");
  const width = 46;
  const row = (label: string, values: readonly (number | null | undefined)[]) =>
    label.padEnd(width) + values.map((v) => perTaskText(v).padStart(10)).join("");
  const header = (title: string) => title.padEnd(width) + COLUMNS.map((c) => c.padStart(10)).join("");
  const lines = [
    `taskq-bench writes · ${result.store} store · ${n(result.tasks)} no-op tasks enqueued, then taken, then succeeded, in batches of ${n(result.batch)} · figures per task`,
    `machine: ${result.machine.cores} cores, ${result.machine.cpu}, node ${result.machine.node}` +
      (result.store === "postgres" ? " (the database server shares these cores)" : ""),
    `store: ${result.server} · ${result.layout.tables.length} tables, ${result.layout.indexes.length} indexes`,
    "",
    header("per task"),
    ...figures.map((f) =>
      row(
        f.label,
        COLUMNS.map((c) => result.phases[c].per_task[f.key]),
      ),
    ),
  ];
  for (const b of breakdowns) {
    const names = Object.keys(result.phases.total.relations)
      .filter((name) => b.kinds.includes(result.phases.total.relations[name]?.kind ?? "other"))
      .filter((name) =>
        COLUMNS.some((c) => {
          const v = result.phases[c].relations[name]?.figures[b.figure];
          return v !== null && v !== undefined && v !== 0;
        }),
      )
      .sort();
    if (names.length === 0) continue;
    lines.push("", header(b.title));
    for (const name of names)
      lines.push(
        row(
          name,
          COLUMNS.map((c) => {
            // a relation missing from a phase wrote nothing in it
            const v = result.phases[c].relations[name]?.figures[b.figure] ?? 0;
            return v === null ? v : v / result.tasks;
          }),
        ),
      );
  }
  const records = result.phases.total.records;
  if (records !== undefined) {
    lines.push("", header("WAL bytes, by record type (pg_walinspect)"));
    for (const [type] of Object.entries(records).sort(([, a], [, b]) => b.bytes - a.bytes))
      lines.push(
        row(
          type,
          COLUMNS.map((c) => (result.phases[c].records?.[type]?.bytes ?? 0) / result.tasks),
        ),
      );
  }
  if (result.notes.length > 0) lines.push("", ...result.notes.map((note) => `- ${note}`));
  return lines.join("\n");
}

/** Writes `writes-<store>.json` to `out`; returns its path. */
export async function writeWrites(result: WritesResult, out: string): Promise<string> {
  await mkdir(out, { recursive: true });
  const file = join(out, `writes-${result.store}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
