// What scripts/gen-sql.ts writes into src/sql/generated/ from the SQL files: committed, and fresh
// (an edit of a queries.sql or a migrations folder without running gen:sql fails here); the
// migration lists it makes (one per folder, the same names in both); and the messages tsc gives
// when a query file and its params types disagree (sql/binding-check.ts, checked by typecheck).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { generatedFiles, PACKAGE_ROOT } from "../scripts/gen-sql.js";
import { PG_MIGRATIONS } from "../src/postgres/migrate.js";
import type { Agree, BindingMismatch } from "../src/sql/binding-check.js";
import { MIGRATION_NAMES, SCHEMA_VERSION } from "../src/sql/migrations.js";
import { SQLITE_MIGRATIONS } from "../src/sqlite/migrations.js";

describe("src/sql/generated/", () => {
  it.each(generatedFiles(PACKAGE_ROOT).map((f) => [f.path, f.text]))(
    "%s is what gen-sql writes from the SQL files (else run: pnpm --filter @taskq/idempotency gen:sql)",
    (path, text) => {
      expect(readFileSync(join(PACKAGE_ROOT, path), "utf8")).toBe(text);
    },
  );
});

describe("migrations: one list, read from the folders", () => {
  it("each dialect runs every file of its folder, numbered from 001, the same names in both", () => {
    expect(MIGRATION_NAMES.length).toBe(SCHEMA_VERSION);
    for (const migrations of [SQLITE_MIGRATIONS, PG_MIGRATIONS]) {
      expect(migrations.map((m) => m.name)).toEqual(MIGRATION_NAMES);
      for (const m of migrations) {
        expect(m.name.slice(0, 3)).toBe(String(m.version).padStart(3, "0"));
        expect(m.sql.trim()).not.toBe("");
      }
    }
    expect(SQLITE_MIGRATIONS.map((m) => m.sql)).not.toEqual(PG_MIGRATIONS.map((m) => m.sql));
  });

  /** A copy of the package's SQL files in a temporary folder, changed by `change`. */
  function withCopy(change: (root: string) => void): () => unknown {
    return () => {
      const root = mkdtempSync(join(tmpdir(), "gen-sql-"));
      try {
        for (const dialect of ["sqlite", "postgres"])
          cpSync(join(PACKAGE_ROOT, "src", dialect), join(root, "src", dialect), {
            recursive: true,
            filter: (from) => !from.endsWith(".ts"),
          });
        change(root);
        return generatedFiles(root);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    };
  }

  it("a migration added to both folders is in the list; to one folder only, gen-sql refuses it", () => {
    const next = `${String(SCHEMA_VERSION + 1).padStart(3, "0")}_next`;
    const both = withCopy((root) => {
      for (const dialect of ["sqlite", "postgres"])
        writeFileSync(join(root, `src/${dialect}/migrations/${next}.sql`), "SELECT 1;\n");
    })() as { path: string; text: string }[];
    expect(both.find((f) => f.path.endsWith("migration-names.ts"))?.text).toContain(`"${next}",`);
    expect(both.find((f) => f.path.endsWith("postgres-migrations.ts"))?.text).toContain(
      `from "../../postgres/migrations/${next}.sql";`,
    );
    expect(
      withCopy((root) => writeFileSync(join(root, `src/postgres/migrations/${next}.sql`), "SELECT 1;\n")),
    ).toThrow(`only one has src/postgres/migrations/${next}.sql`);
    expect(
      withCopy((root) => {
        for (const dialect of ["sqlite", "postgres"])
          writeFileSync(join(root, `src/${dialect}/migrations/099_gap.sql`), "SELECT 1;\n");
      }),
    ).toThrow(`src/sqlite/migrations/099_gap.sql: expected migration number ${next.slice(0, 3)} here`);
  });
});

describe("binding check: what tsc says when a query file and its params types disagree", () => {
  /** The params types of three statements. */
  interface XParams {
    task_get: { readonly seq: number };
    task_start: { readonly seq: number; readonly version: number; readonly now: number };
    task_list: Record<never, never>;
  }
  /** A query file as gen-sql writes it (statement → its `@params` as keys), checked against XParams. */
  type Check<File> = BindingMismatch<File, XParams, "x/queries.sql", "XParams">;
  interface Agreeing {
    task_get: { seq: true };
    task_start: { seq: true; version: true; now: true };
    task_list: Record<never, never>;
  }

  it("names each disagreement by kind, and none when they agree", () => {
    expectTypeOf<Check<Agreeing>>().toEqualTypeOf<{
      readonly statement: never;
      readonly entry: never;
      readonly bound: never;
      readonly unbound: never;
    }>();
    // a statement renamed in the file (task_get → task_fetch), its params type left as it was
    interface Renamed extends Omit<Agreeing, "task_get"> {
      task_fetch: { seq: true };
    }
    expectTypeOf<
      Check<Renamed>["statement"]
    >().toEqualTypeOf<"x/queries.sql: statement task_fetch has no entry in XParams">();
    expectTypeOf<
      Check<Renamed>["entry"]
    >().toEqualTypeOf<"XParams.task_get is no statement of x/queries.sql">();
    // a parameter misspelled in the file (@version → @versoin)
    interface Misspelled extends Omit<Agreeing, "task_start"> {
      task_start: { seq: true; versoin: true; now: true };
    }
    expectTypeOf<
      Check<Misspelled>["bound"]
    >().toEqualTypeOf<"x/queries.sql: task_start binds @versoin, which XParams.task_start lacks">();
    expectTypeOf<
      Check<Misspelled>["unbound"]
    >().toEqualTypeOf<"XParams.task_start has version, which task_start in x/queries.sql does not bind">();
    expectTypeOf<Check<Misspelled>["statement"] | Check<Misspelled>["entry"]>().toEqualTypeOf<never>();
  });

  it("Agree compiles only when a kind has no disagreement", () => {
    type M = Check<Misspelled2>;
    interface Misspelled2 extends Omit<Agreeing, "task_get"> {
      task_get: { sq: true };
    }
    type Passes = [Agree<M["statement"]>, Agree<M["entry"]>];
    expectTypeOf<Passes>().toEqualTypeOf<[never, never]>();
    // @ts-expect-error Type '"x/queries.sql: task_get binds @sq, which XParams.task_get lacks"' does not satisfy the constraint 'never'
    type Fails = Agree<M["bound"]>;
    expectTypeOf<Fails>().toEqualTypeOf<"x/queries.sql: task_get binds @sq, which XParams.task_get lacks">();
  });
});
