// Named query files: one `.sql` file per dialect holds every statement of its driver, each headed
// `-- name: <statement>` and taking its parameters as `@name`. The names are the keys of the
// driver's params map (sqlite/queries.ts, postgres/queries.ts), so a call is type-checked by
// statement name and parameter name, never by position.

const HEADER = /^--\s*name:\s*([a-z][a-z0-9_]*)\s*$/;

/**
 * Splits a query file into its statements by `-- name:` header. Whole-line comments are dropped
 * (they document the file); the text before the first header is the file's header comment.
 * Throws on a name given twice or a statement with no SQL.
 */
export function parseQueryFile(text: string, file: string): Record<string, string> {
  const statements: Record<string, string> = {};
  let name: string | undefined;
  let lines: string[] = [];
  const close = () => {
    if (name === undefined) return;
    const sql = lines.join("\n").trim();
    if (sql === "") throw new Error(`${file}: statement ${name} has no SQL`);
    statements[name] = sql;
  };
  for (const line of text.split(/\r?\n/)) {
    const header = HEADER.exec(line.trim());
    if (header) {
      close();
      name = header[1] as string;
      if (Object.hasOwn(statements, name)) throw new Error(`${file}: statement ${name} is named twice`);
      lines = [];
    } else if (!/^\s*--/.test(line)) lines.push(line);
  }
  close();
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
