// The compile-time check that a query file and its TypeScript bindings agree: every statement of
// the file has a params type and every params type a statement, with exactly the `@params` the
// statement binds. The file's side is generated (scripts/gen-sql.ts → src/sql/generated/), so an
// edit of a `.sql` file that the params types do not follow fails tsc, each disagreement named:
//
//   src/sqlite/queries.ts(150,3): error TS2344: Type '"sqlite/queries.sql: statement task_fetch has
//   no entry in SqliteParams"' does not satisfy the constraint 'never'.
//   src/sqlite/queries.ts(151,3): error TS2344: Type '"SqliteParams.task_get is no statement of
//   sqlite/queries.sql"' does not satisfy the constraint 'never'.

/** The names `A` has and `B` lacks. */
type Extra<A, B> = Exclude<keyof A & string, keyof B>;
/** The names both have. */
type Shared<A, B> = keyof A & keyof B & string;

/**
 * The disagreements between the statements of query file `File` (`Sql`: statement → its
 * `@params` as keys, generated) and params map `Map` (`Params`: statement → the object its
 * parameters are read from), by kind: each a union of messages (a template literal type makes
 * one per name), never when there is none.
 */
export interface BindingMismatch<Sql, Params, File extends string, Map extends string> {
  /** Statements of the file with no params type. */
  readonly statement: `${File}: statement ${Extra<Sql, Params>} has no entry in ${Map}`;
  /** Params types with no statement. */
  readonly entry: `${Map}.${Extra<Params, Sql>} is no statement of ${File}`;
  /** Parameters a statement binds that its params type lacks. */
  readonly bound: {
    [N in Shared<Sql, Params>]: `${File}: ${N} binds @${Extra<Sql[N], Params[N]>}, which ${Map}.${N} lacks`;
  }[Shared<Sql, Params>];
  /** Properties of a params type that its statement does not bind. */
  readonly unbound: {
    [N in Shared<
      Sql,
      Params
    >]: `${Map}.${N} has ${Extra<Params[N], Sql[N]>}, which ${N} in ${File} does not bind`;
  }[Shared<Sql, Params>];
}

/**
 * Compiles only when `Mismatch` is never. Written once per kind of BindingMismatch, each a type
 * reference of its own, so tsc names every kind that fails, with its messages:
 * `[Agree<M["statement"]>, Agree<M["entry"]>, Agree<M["bound"]>, Agree<M["unbound"]>]`.
 */
export type Agree<Mismatch extends never> = Mismatch;
