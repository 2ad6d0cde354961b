import { bindNamed, type CompiledStatement } from "../sql/query-file.js";

/**
 * A string JSON writes with an escape other than `\"` and `\\`: a control character (`\n`,
 * `\u0001`) or a lone surrogate (`\ud800`), which PostgreSQL's array syntax would read as the
 * letter after the backslash.
 */
const NOT_AS_IN_JSON =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  /[\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A statement parameter as `pg` is given it: an array of strings, finite numbers, booleans and
 * nulls becomes PostgreSQL's array literal through JSON.stringify (JSON quotes and escapes a
 * string as an array literal does, and writes numbers, booleans and nulls as it reads them), where
 * `pg` builds it element by element with two regular-expression replaces each: for a bulk
 * enqueue's nine arrays of 100,000 elements that was a sixth of the client's time. Anything else
 * (a string JSON would escape otherwise, a nested array, a Buffer, a Date) is left to `pg`.
 */
export function pgValue(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  for (const element of value) {
    switch (typeof element) {
      case "string":
        if (NOT_AS_IN_JSON.test(element)) return value;
        break;
      case "number":
        if (!Number.isFinite(element)) return value;
        break;
      case "boolean":
      case "undefined":
        break;
      default:
        if (element !== null) return value;
    }
  }
  const json = JSON.stringify(value);
  return `{${json.slice(1, -1)}}`;
}

/** A named statement's positional values for `pg` (bindNamed), arrays as literals (pgValue). */
export function bindPg(statement: CompiledStatement, params: object): unknown[] {
  const values = bindNamed(statement, params);
  for (let i = 0; i < values.length; i++) values[i] = pgValue(values[i]);
  return values;
}
