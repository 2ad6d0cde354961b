// Unknown keys in an options object are refused, not ignored: `{ stor: "postgres://..." }` would
// otherwise run against the default store. One helper for every options object of the public API.
import { ConfigError } from "./errors.js";

/**
 * The keys of an options interface, as a value: `keysOf<QueueOptions>()({ handler: true, ... })`
 * fails to compile when a key of the interface is missing or one is not in it, so the list of
 * known keys cannot drift from the type.
 */
export function keysOf<T>() {
  return <const K extends Record<keyof T, true>>(keys: K & Record<Exclude<keyof K, keyof T>, never>) =>
    Object.keys(keys) as (keyof T & string)[];
}

/**
 * Throws a ConfigError for the first own key of `value` not in `known`, naming it (with `where`,
 * the path of a nested object, e.g. `retry`) and, when one is close, the option meant:
 * `unknown option "stor": did you mean "store"?`.
 */
export function checkOptionKeys(value: object, known: readonly string[], where = ""): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const path = (name: string) => (where ? `${where}.${name}` : name);
    const meant = closest(key, known);
    throw new ConfigError(
      path(key),
      meant === undefined
        ? `unknown option "${path(key)}" (the options${where ? ` of ${where}` : ""} are ${known.join(", ")})`
        : `unknown option "${path(key)}": did you mean "${path(meant)}"?`,
    );
  }
}

/** The candidate nearest to `word`, when near enough to be a typo of it (case aside). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // one edit in a short word, up to a third of a longer one's letters
  if (bestDistance <= Math.max(1, Math.floor(word.length / 3))) return best;
  // or one holds the other: "lease" for "leaseMs", "maxAttempts" for "attempts"
  return lower.length < 4
    ? undefined
    : candidates.find(
        (c) => c.length >= 4 && (c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())),
      );
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  // three rows of the optimal-string-alignment table: enough for the swap of neighbours
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (before[j - 2] as number) + 1);
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
