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

/** A statement with `@name` parameters compiled to PostgreSQL's `$1..$n`. */
export interface CompiledStatement {
  /** The SQL with `$1..$n`. */
  readonly text: string;
  /** The parameter named by each `$n` (index n - 1): a name used twice is one `$n`. */
  readonly names: readonly string[];
}

/**
 * Compiles `@name` parameters to `$1..$n` (once, at load), leaving string literals, quoted
 * identifiers and `::type` casts alone.
 */
export function compileNamed(sql: string): CompiledStatement {
  const names: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|@([a-z_][a-z0-9_]*)/gi, (match, name?: string) => {
    if (name === undefined) return match;
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
}

/** The values of a compiled statement's `$1..$n`, taken from a params object by name. */
export function bindNamed(statement: CompiledStatement, params: object): unknown[] {
  const values = new Array<unknown>(statement.names.length);
  statement.names.forEach((name, i) => {
    const value = (params as Record<string, unknown>)[name];
    if (value === undefined) throw new Error(`missing parameter @${name}`);
    values[i] = value;
  });
  return values;
}
