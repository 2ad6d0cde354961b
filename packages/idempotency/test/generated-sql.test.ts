// What scripts/gen-sql.ts writes into src/sql/generated/ from the SQL files: committed, and fresh
// (an edit of a queries.sql without running gen:sql fails here); and the messages tsc gives when a
// query file and its params types disagree (sql/binding-check.ts, checked by typecheck).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { generatedFiles, PACKAGE_ROOT } from "../scripts/gen-sql.js";
import type { Agree, BindingMismatch } from "../src/sql/binding-check.js";

describe("src/sql/generated/", () => {
  it.each(generatedFiles(PACKAGE_ROOT).map((f) => [f.path, f.text]))(
    "%s is what gen-sql writes from the SQL files (else run: pnpm --filter @taskq/idempotency gen:sql)",
    (path, text) => {
      expect(readFileSync(join(PACKAGE_ROOT, path), "utf8")).toBe(text);
    },
  );
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
