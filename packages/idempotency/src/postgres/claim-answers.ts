// The answer to each claim of a statement that inserts tasks (task_turn for the turn's claims and
// enqueueMany, task_claim_with for claimWith): the one place the rows they return are read.
import { StoreError } from "../errors.js";
import { createdClaim, type Row, toRecord } from "../record.js";
import type { ClaimResult } from "../types.js";
import type { CheckedClaim } from "../validate.js";

/** A claim's identity: its kind and key (a kind never holds a NUL). */
export const identity = (kind: string, key: string): string => `${kind}\u0000${key}`;

/** A row of a claim statement's answer: a task it inserted (`claim`), or the record that held a key (`existing`). */
export interface ClaimRow {
  /** A bigint: a number on the store's connections, text on the application's (claimWith). */
  readonly seq: number | string;
  /** An inserted task's kind and key: null from task_turn when it inserted every claim. */
  readonly kind: string | null;
  readonly key: string | null;
  /** For `existing`: the whole row, as JSON. */
  readonly record: Row | null;
}

/**
 * Answers each of `claims`, in order: created, with the seq of its row in `inserted`; or not, with
 * the record that holds its key, from `held` or else read by `readHeld` (task_list_by_keys: a key
 * a concurrent transaction committed, or one twice in `claims`); or a StoreError when neither.
 * `retriedBy` (the store's owner) says the statement was sent again after a lost connection: a
 * record that is the claim's own insert, committed by the first try, is answered created.
 */
export async function answerClaims(
  claims: readonly CheckedClaim[],
  inserted: readonly ClaimRow[],
  held: readonly ClaimRow[],
  readHeld: (kinds: string[], keys: string[]) => Promise<readonly Row[]>,
  retriedBy?: string,
): Promise<(ClaimResult | StoreError)[]> {
  if (inserted.length === claims.length) {
    // every claim inserted: its seqs were drawn in the claims' order (a bulk enqueue's usual case,
    // with no key to compare)
    const seqs = Float64Array.from(inserted, (row) => Number(row.seq)).sort();
    return claims.map((claim, i) => createdClaim(seqs[i] as number, claim.start));
  }
  const created = new Map(inserted.map((row) => [identity(row.kind as string, row.key as string), row]));
  const ids = claims.map((claim) => identity(claim.kind, claim.idempotencyKey));
  const results: (ClaimResult | undefined)[] = claims.map((claim, i) => {
    const row = created.get(ids[i] as string);
    if (!row) return undefined;
    created.delete(ids[i] as string); // a key twice in one statement: the second is a duplicate
    return createdClaim(Number(row.seq), claim.start);
  });
  const byKey = new Map(
    held.map((row) => [identity(row.kind as string, row.key as string), toRecord(row.record as Row)]),
  );
  // keys a concurrent transaction committed while the statement ran, or twice in it: read now (rare)
  const missing = new Map<string, CheckedClaim>();
  claims.forEach((claim, i) => {
    const id = ids[i] as string;
    if (results[i] === undefined && !byKey.has(id)) missing.set(id, claim);
  });
  if (missing.size > 0) {
    const unread = [...missing.values()];
    const rows = await readHeld(
      unread.map((c) => c.kind),
      unread.map((c) => c.idempotencyKey),
    );
    for (const row of rows) byKey.set(identity(row.kind, row.idempotency_key), toRecord(row));
  }
  return claims.map((claim, i) => {
    const result = results[i];
    if (result) return result;
    const record = byKey.get(ids[i] as string);
    if (!record)
      return new StoreError(
        "ERR_POSTGRES",
        `claim of ${claim.kind} ${claim.idempotencyKey}: neither inserted nor found`,
      );
    // a retried statement may find its own insert, committed before the connection dropped
    const mine =
      retriedBy !== undefined &&
      record.id === claim.id &&
      record.version === 0 &&
      (claim.start
        ? record.status === "running" && record.leaseOwner === retriedBy
        : record.status === "queued");
    return mine ? createdClaim(record.seq, claim.start) : { created: false, record };
  });
}
