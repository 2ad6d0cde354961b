// Named query files: one `.sql` file per dialect holds every statement of its driver, each headed
// `-- name: <statement>` and taking its parameters as `@name`. The names are the keys of the
// driver's params map (sqlite/queries.ts, postgres/queries.ts), so a call is type-checked by
// statement name and parameter name, never by position; scripts/gen-sql.ts writes each file's
// statements and parameter names as a type (src/sql/generated/), and tsc checks the params map
// against it (binding-check.ts).
//
// Two placeholders are filled in when the file is parsed, so what they stand for is written once:
// - `:<fragment>`: the SQL of a `-- fragment: <fragment>` block of the same file (a piece several
//   statements share; a fragment may use others, never itself);
// - `:rank_at(<run time>, <priority>)`: the queue rank of a task (rank.ts), the arguments SQL
//   expressions without parentheses or commas.
// Others (`:schema.`, `:per_kind`) are left for the driver to fill in.
import { rankAtSql } from "./rank.js";

const HEADER = /^--\s*(name|fragment):\s*([a-z][a-z0-9_]*)\s*$/;

/** A string literal, a quoted identifier (both left alone), or a `:placeholder`. */
const PLACEHOLDER = /'(?:[^']|'')*'|"(?:[^"]|"")*"|(?<![:\w]):([a-z_][a-z0-9_]*)\b/gi;

const RANK_AT = /:rank_at\(([^(),]+),([^(),]+)\)/g;

/**
 * Splits a query file into its statements by `-- name:` header, with its fragments and `:rank_at`
 * filled in. Whole-line comments are dropped (they document the file); the text before the first
 * header is the file's header comment. Throws on a name given twice, a statement or fragment with
 * no SQL, a fragment no statement uses, or a `:rank_at` it cannot read.
 */
export function parseQueryFile(text: string, file: string): Record<string, string> {
  const blocks = { name: {} as Record<string, string>, fragment: {} as Record<string, string> };
  let header: { readonly kind: "name" | "fragment"; readonly name: string } | undefined;
  let lines: string[] = [];
  const close = () => {
    if (header === undefined) return;
    const sql = lines.join("\n").trim();
    const what = header.kind === "name" ? "statement" : "fragment";
    if (sql === "") throw new Error(`${file}: ${what} ${header.name} has no SQL`);
    blocks[header.kind][header.name] = sql;
  };
  for (const line of text.split(/\r?\n/)) {
    const match = HEADER.exec(line.trim());
    if (match) {
      close();
      header = { kind: match[1] as "name" | "fragment", name: match[2] as string };
      if (Object.hasOwn(blocks.name, header.name) || Object.hasOwn(blocks.fragment, header.name))
        throw new Error(
          `${file}: ${header.kind === "name" ? "statement" : "fragment"} ${header.name} is named twice`,
        );
      lines = [];
    } else if (!/^\s*--/.test(line)) lines.push(line);
  }
  close();
  const unused = new Set(Object.keys(blocks.fragment));
  // a fragment's SQL with the fragments it uses filled in (`seen`: the fragments being filled, so
  // a fragment that uses itself, directly or not, is an error rather than a loop)
  const fill = (sql: string, seen: readonly string[]): string =>
    sql.replace(PLACEHOLDER, (match, placeholder?: string) => {
      if (placeholder === undefined || !Object.hasOwn(blocks.fragment, placeholder)) return match;
      if (seen.includes(placeholder))
        throw new Error(
          `${file}: fragment ${placeholder} uses itself (${[...seen, placeholder].join(" -> ")})`,
        );
      unused.delete(placeholder);
      return fill(blocks.fragment[placeholder] as string, [...seen, placeholder]);
    });
  const statements: Record<string, string> = {};
  for (const [name, sql] of Object.entries(blocks.name)) {
    const filled = fill(sql, []);
    const ranked = filled.replace(RANK_AT, (_, runAt: string, priority: string) =>
      rankAtSql(runAt.trim(), priority.trim()),
    );
    if (ranked.includes(":rank_at"))
      throw new Error(
        `${file}: statement ${name}: write :rank_at(<run time>, <priority>), expressions without parentheses or commas`,
      );
    statements[name] = ranked;
  }
  if (unused.size > 0) throw new Error(`${file}: fragment ${[...unused].join(", ")} is used by no statement`);
  return statements;
}

/** A statement with its `@name` parameters compiled to positional ones. */
export interface CompiledStatement {
  /** The SQL with `$1..$n` (PostgreSQL) or `?` (SQLite). */
  readonly text: string;
  /**
   * The parameter named by each position: for `$n`, a name used twice is one `$n`; for `?`, each
   * use is a position of its own.
   */
  readonly names: readonly string[];
}

/**
 * Compiles `@name` parameters to positional ones (once, at load), leaving string literals, quoted
 * identifiers and `::type` casts alone: PostgreSQL's `$1..$n` (`style` "$n"), or SQLite's `?`
 * (better-sqlite3 binds an array of values faster than it looks names up in an object).
 */
export function compileNamed(sql: string, style: "$n" | "?" = "$n"): CompiledStatement {
  const names: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|@([a-z_][a-z0-9_]*)/gi, (match, name?: string) => {
    if (name === undefined) return match;
    if (style === "?") {
      names.push(name);
      return "?";
    }
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
}

/** The values of a compiled statement's positions, taken from a params object by name. */
export function bindNamed(statement: CompiledStatement, params: object): unknown[] {
  const { names } = statement;
  const values = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) {
    const value = (params as Record<string, unknown>)[names[i] as string];
    if (value === undefined) throw new Error(`missing parameter @${names[i]}`);
    values[i] = value;
  }
  return values;
}
