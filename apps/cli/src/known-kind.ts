import type { TaskStoreDriver } from "@taskq/idempotency";
import { BUILT_IN_KINDS, CliError, readKnownKinds } from "taskq/app";

/** The `--strict` flag of the commands that name a kind for tasks to come (submit, schedule add). */
export const STRICT_OPTION = {
  type: "boolean",
  default: false,
  describe:
    "refuse a --kind the store does not know (exit 2, nothing stored): known are the built-in task types, the kinds the workers in the store's registry serve (running, or stopped without closing and not yet cleared), the kinds of its schedules and of the tasks it holds; without --strict such a kind is stored with a warning",
} as const;

/** At most this many known kinds are named in the one line; the rest are counted. */
const NAMED = 20;

/**
 * Checks `kind`, given by `flag`, against the kinds the store knows (readKnownKinds; no store yet:
 * the built-in task types only). A kind it does not know is most likely mistyped, and its tasks
 * would wait for ever: a one-line warning on stderr naming the known kinds (the tasks are stored),
 * or with `strict` a usage error (exit 2) before anything is stored.
 */
export async function checkKnownKind(
  store: TaskStoreDriver | undefined,
  kind: string,
  strict: boolean,
  flag = "--kind",
): Promise<void> {
  const known =
    store === undefined ? [...BUILT_IN_KINDS].sort() : (await readKnownKinds(store)).map((k) => k.kind);
  if (known.includes(kind)) return;
  const named =
    known.slice(0, NAMED).join(", ") + (known.length > NAMED ? ` and ${known.length - NAMED} more` : "");
  // a slip of a letter or two (two only in a longer name: "emial" is "email", "fail" is not "emil")
  const near = known.filter((k) => editDistance(k, kind) <= (kind.length >= 5 ? 2 : 1));
  const guess = near.length > 0 ? `did you mean ${near.join(" or ")}? ` : "";
  const what = `${flag} ${kind} is not a kind this store knows (no worker has served it, no schedule, limit, pause or task has it); ${guess}known kinds: ${named}`;
  if (strict) throw new CliError(`${what} (refused: --strict)`, 2);
  process.stderr.write(`taskq: warning: ${what} (stored anyway; --strict refuses it)\n`);
}

/** Levenshtein distance: how many letters to insert, delete or change to turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] as number;
}
