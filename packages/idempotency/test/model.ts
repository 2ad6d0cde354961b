// A reference model of the task store contract's state machine (docs/architecture.md sections 4
// and 5, src/driver.ts), in memory, for model-based tests (test/model.test.ts): random call
// sequences run against a driver and this model, compared after every call. It covers claim and
// enqueueMany (dedupe by kind and key), takeNext (due tasks in rank order, leases, reclaim of
// expired leases, concurrency limits per kind), start, succeed, retry, fail (dead letter), release,
// cancel, cancelRunning, renewLeases, redriveTasks and the reads (get, stats, cancelRequested).
// Left out: rate limits, perKind, schedules, retention, the dashboard's reads, recover of dead
// local processes, notifications.
import { PRIORITY_AGING_MS } from "../src/defaults.js";
import type {
  CancelOutcome,
  ClaimResult,
  KindLimits,
  StoreStats,
  TaskFailure,
  TaskRecord,
  TaskResultData,
} from "../src/index.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A task as the model keeps it: the record, plus its place in the queue (not in TaskRecord). */
interface ModelTask {
  record: Mutable<TaskRecord>;
  rankAt: number;
}

/** A refused call, as the model predicts it. */
export class ModelRefusal extends Error {
  constructor(readonly code: "ERR_STALE_TRANSITION" | "ERR_NOT_FOUND") {
    super(code);
  }
}

/** One claim as the commands generate it (resolved to a ClaimInput by `claimInput`). */
export interface ClaimSpec {
  readonly kind: string;
  readonly key: string;
  readonly priority: number;
  readonly delayMs: number;
  readonly start: boolean;
  readonly maxAttempts: number | undefined;
}

/** The answer of a take, and the choice the model would make (queue order, from the start). */
export interface TakePlan {
  /** Every task the take may take (due, queued, served, within its kind's allowance), queue order. */
  readonly eligible: readonly TaskRecord[];
  /** The take in strict queue order. */
  readonly strict: readonly TaskRecord[];
  /** Per kind, how many the take may take. */
  readonly allow: ReadonlyMap<string, number>;
}

const byRank = (a: ModelTask, b: ModelTask) => a.rankAt - b.rankAt || a.record.seq - b.record.seq;

export class StoreModel {
  readonly tasks = new Map<number, ModelTask>();
  /** (kind, key) → seq. */
  readonly #byKey = new Map<string, number>();
  readonly limits = new Map<string, number>();
  /** Open dead letters, by task seq (a fail adds one, a re-drive closes them). */
  readonly #openDeadLetters = new Map<number, number>();
  /**
   * Per owner and kind, the furthest queue position (rank, seq) the owner has taken since its
   * last short take: how far a PostgreSQL store's take may have read on (see PgTaskStore.#takeFrom).
   */
  readonly readOn = new Map<string, Map<string, { rank: number; seq: number }>>();

  constructor(
    readonly now: () => number,
    readonly leaseMs: number,
    readonly defaultAttempts: number,
  ) {}

  /** Every task in creation (seq) order. */
  list(): TaskRecord[] {
    return [...this.tasks.values()].map((t) => ({ ...t.record })).sort((a, b) => a.seq - b.seq);
  }

  get(seq: number): TaskRecord | undefined {
    const t = this.tasks.get(seq);
    return t && { ...t.record };
  }

  #task(seq: number): ModelTask {
    const t = this.tasks.get(seq);
    if (!t) throw new Error(`model: no task ${seq}`);
    return t;
  }

  /**
   * A claim: `seqOf` tells the seq the driver gave a created task (seqs are the driver's: PostgreSQL
   * draws one for a duplicate too); the model decides whether it is created.
   */
  claim(spec: ClaimSpec, id: string, owner: string, newSeq: () => number): ClaimResult {
    const ident = `${spec.kind}\u0000${spec.key}`;
    const held = this.#byKey.get(ident);
    if (held !== undefined) return { created: false, record: this.get(held) as TaskRecord };
    const now = this.now();
    const seq = newSeq();
    const nextRunAt = spec.start ? now : now + spec.delayMs;
    const record: Mutable<TaskRecord> = {
      seq,
      id,
      idempotencyKey: spec.key,
      kind: spec.kind,
      payload: { id },
      status: spec.start ? "running" : "queued",
      attempts: spec.start ? 1 : 0,
      maxAttempts: spec.maxAttempts ?? this.defaultAttempts,
      createdAt: now,
      updatedAt: now,
      startedAt: spec.start ? now : null,
      finishedAt: null,
      nextRunAt,
      priority: spec.priority,
      leaseOwner: spec.start ? owner : null,
      leaseExpiresAt: spec.start ? now + this.leaseMs : null,
      outputKey: null,
      etag: null,
      result: null,
      errorClass: null,
      errorMessage: null,
      version: 0,
      cancelRequestedAt: null,
      tags: [],
      correlationId: null,
      traceContext: null,
      progress: null,
      waitingFor: null,
      hasChildren: false,
      group: null,
    };
    this.tasks.set(seq, { record, rankAt: nextRunAt - spec.priority * PRIORITY_AGING_MS });
    this.#byKey.set(ident, seq);
    return spec.start
      ? { created: true, seq, version: 0, status: "running", attempts: 1 }
      : { created: true, seq, version: 0, status: "queued", attempts: 0 };
  }

  /** A version- and status-guarded transition: refused (nothing changed) unless it holds. */
  #guard(seq: number, version: number, status: TaskRecord["status"]): ModelTask {
    const t = this.tasks.get(seq);
    if (!t || t.record.version !== version || t.record.status !== status)
      throw new ModelRefusal("ERR_STALE_TRANSITION");
    return t;
  }

  #startNow(t: ModelTask, owner: string, now: number): void {
    const r = t.record;
    r.status = "running";
    r.attempts++;
    r.version++;
    r.startedAt = now;
    r.updatedAt = now;
    r.leaseOwner = owner;
    r.leaseExpiresAt = now + this.leaseMs;
  }

  start(seq: number, version: number, owner: string): { seq: number; version: number; attempts: number } {
    const t = this.#guard(seq, version, "queued");
    this.#startNow(t, owner, this.now());
    return { seq, version: t.record.version, attempts: t.record.attempts };
  }

  succeed(seq: number, version: number, data: TaskResultData): number {
    const r = this.#guard(seq, version, "running").record;
    const now = this.now();
    r.status = "succeeded";
    r.outputKey = data.outputKey ?? null;
    r.etag = data.etag ?? null;
    r.result = data.result ?? null;
    r.finishedAt = now;
    r.updatedAt = now;
    r.errorClass = null;
    r.errorMessage = null;
    r.leaseExpiresAt = null;
    return ++r.version;
  }

  retry(seq: number, version: number, failure: TaskFailure, delayMs: number): number {
    const t = this.#guard(seq, version, "running");
    const r = t.record;
    const now = this.now();
    // a cancel asked for while it ran (its worker had not heard of it): cancelled, not retried
    const cancelled = r.cancelRequestedAt !== null;
    r.status = cancelled ? "cancelled" : "queued";
    if (cancelled) r.finishedAt = now;
    r.nextRunAt = now + Math.max(0, delayMs);
    t.rankAt = r.nextRunAt - r.priority * PRIORITY_AGING_MS;
    r.errorClass = failure.errorClass;
    r.errorMessage = failure.message;
    r.updatedAt = now;
    if (!cancelled) r.leaseOwner = null;
    r.leaseExpiresAt = null;
    return ++r.version;
  }

  fail(seq: number, version: number, failure: TaskFailure): number {
    const r = this.#guard(seq, version, "running").record;
    const now = this.now();
    r.status = "failed";
    r.errorClass = failure.errorClass;
    r.errorMessage = failure.message;
    r.finishedAt = now;
    r.updatedAt = now;
    r.leaseExpiresAt = null;
    this.#openDeadLetters.set(seq, (this.#openDeadLetters.get(seq) ?? 0) + 1);
    return ++r.version;
  }

  release(seq: number, version: number): number {
    const r = this.#guard(seq, version, "running").record;
    const now = this.now();
    if (r.cancelRequestedAt === null) {
      this.#requeue(r, now);
      return r.version;
    }
    // a cancel asked for while it ran: cancelled, not handed back
    r.status = "cancelled";
    r.finishedAt = now;
    r.updatedAt = now;
    r.leaseExpiresAt = null;
    return ++r.version;
  }

  /** running → queued, lease dropped (release, and the reclaim of an expired lease). */
  #requeue(r: Mutable<TaskRecord>, now: number): void {
    r.status = "queued";
    r.updatedAt = now;
    r.leaseOwner = null;
    r.leaseExpiresAt = null;
    r.version++;
  }

  cancelRunning(seq: number, version: number): number {
    const r = this.#guard(seq, version, "running").record;
    const now = this.now();
    r.status = "cancelled";
    r.finishedAt = now;
    r.updatedAt = now;
    r.leaseExpiresAt = null;
    return ++r.version;
  }

  cancel(seq: number): CancelOutcome {
    const t = this.tasks.get(seq);
    if (!t) throw new ModelRefusal("ERR_NOT_FOUND");
    const r = t.record;
    const now = this.now();
    if (r.status === "queued") {
      r.status = "cancelled";
      r.finishedAt = now;
      r.updatedAt = now;
      r.version++;
      return { outcome: "cancelled", record: { ...r } };
    }
    if (r.status === "running") {
      r.cancelRequestedAt ??= now;
      r.updatedAt = now;
      return { outcome: "requested", record: { ...r } };
    }
    return { outcome: "finished", record: { ...r } };
  }

  cancelRequested(seqs: readonly number[]): number[] {
    return seqs
      .filter((seq) => {
        const r = this.tasks.get(seq)?.record;
        return r?.status === "running" && r.cancelRequestedAt !== null;
      })
      .sort((a, b) => a - b);
  }

  renewLeases(owner: string): number {
    const now = this.now();
    let n = 0;
    for (const { record: r } of this.tasks.values())
      if (r.status === "running" && r.leaseOwner === owner) {
        r.leaseExpiresAt = now + this.leaseMs;
        n++;
      }
    return n;
  }

  redriveTasks(seqs: readonly number[]): number {
    const now = this.now();
    let n = 0;
    for (const seq of new Set(seqs)) {
      const t = this.tasks.get(seq);
      if (t?.record.status !== "failed") continue;
      const r = t.record;
      r.status = "queued";
      r.attempts = 0;
      r.nextRunAt = now;
      t.rankAt = now - r.priority * PRIORITY_AGING_MS;
      r.updatedAt = now;
      r.leaseOwner = null;
      r.errorClass = null;
      r.errorMessage = null;
      r.version++;
      this.#openDeadLetters.delete(seq);
      n++;
    }
    return n;
  }

  setKindLimits(kind: string, limits: KindLimits | null): void {
    if (limits?.concurrency === undefined) this.limits.delete(kind);
    else this.limits.set(kind, limits.concurrency);
  }

  /**
   * The expired leases (a take reclaims them first): back to queued, except a task whose cancel
   * was asked for (cancelled) and one whose last attempt it was (failed, a dead letter,
   * `lease_expired`): attempts never pass maxAttempts.
   */
  reclaimExpired(): void {
    const now = this.now();
    for (const [seq, { record: r }] of this.tasks)
      if (r.status === "running" && r.leaseExpiresAt !== null && r.leaseExpiresAt < now) {
        if (r.cancelRequestedAt === null && r.attempts < r.maxAttempts) {
          this.#requeue(r, now);
          continue;
        }
        if (r.cancelRequestedAt !== null) r.status = "cancelled";
        else {
          r.status = "failed";
          r.errorClass = "lease_expired";
          r.errorMessage =
            "its last attempt's worker stopped without finishing it (killed, or frozen past its lease): no attempts left";
          this.#openDeadLetters.set(seq, (this.#openDeadLetters.get(seq) ?? 0) + 1);
        }
        r.finishedAt = now;
        r.updatedAt = now;
        r.leaseExpiresAt = null;
        r.version++;
      }
  }

  /**
   * What a take may take, after the reclaim (call reclaimExpired first): each served kind's due
   * tasks within its allowance (the take's limit, or the slots its concurrency leaves), and the
   * first `limit` of those in queue order.
   */
  planTake(limit: number, kinds: readonly string[] | undefined): TakePlan {
    const now = this.now();
    const all = [...this.tasks.values()];
    const served = kinds
      ? [...new Set(kinds)]
      : [...new Set(all.filter((t) => t.record.status === "queued").map((t) => t.record.kind))];
    const allow = new Map<string, number>();
    const eligible: ModelTask[] = [];
    const picked: ModelTask[] = [];
    for (const kind of served) {
      const concurrency = this.limits.get(kind);
      const running = all.filter((t) => t.record.kind === kind && t.record.status === "running").length;
      const n = concurrency === undefined ? limit : Math.max(0, Math.min(limit, concurrency - running));
      allow.set(kind, n);
      const due = all
        .filter((t) => t.record.kind === kind && t.record.status === "queued" && t.record.nextRunAt <= now)
        .sort(byRank);
      if (n > 0) eligible.push(...due);
      picked.push(...due.slice(0, n));
    }
    const strict = picked.sort(byRank).slice(0, limit);
    return {
      eligible: eligible.sort(byRank).map((t) => ({ ...t.record })),
      strict: strict.map((t) => ({ ...t.record })),
      allow,
    };
  }

  /** The rank of a task (the queue's order key). */
  rankOf(seq: number): number {
    return this.#task(seq).rankAt;
  }

  /** Applies a take the driver made (checked against the plan by the caller): each task started. */
  applyTake(owner: string, seqs: readonly number[], limit: number): TaskRecord[] {
    const now = this.now();
    const taken = seqs.map((seq) => this.#task(seq));
    for (const t of taken) this.#startNow(t, owner, now);
    const positions = this.readOn.get(owner) ?? new Map<string, { rank: number; seq: number }>();
    this.readOn.set(owner, positions);
    if (taken.length < limit) positions.clear();
    else
      for (const t of taken) {
        if (t.rankAt > now) continue;
        const at = positions.get(t.record.kind);
        if (!at || t.rankAt > at.rank || (t.rankAt === at.rank && t.record.seq > at.seq))
          positions.set(t.record.kind, { rank: t.rankAt, seq: t.record.seq });
      }
    return taken.sort(byRank).map((t) => ({ ...t.record }));
  }

  stats(): StoreStats {
    const now = this.now();
    const count = (s: TaskRecord["status"]) =>
      [...this.tasks.values()].filter((t) => t.record.status === s).length;
    const queued = [...this.tasks.values()].filter((t) => t.record.status === "queued");
    const due = queued.filter((t) => t.record.nextRunAt <= now).map((t) => t.record.nextRunAt);
    const counts = {
      queued: count("queued"),
      running: count("running"),
      succeeded: count("succeeded"),
      failed: count("failed"),
      cancelled: count("cancelled"),
    };
    return {
      ...counts,
      scheduled: queued.length - due.length,
      total: this.tasks.size,
      deadLetters: [...this.#openDeadLetters.values()].reduce((a, b) => a + b, 0),
      oldestQueuedAgeMs: due.length === 0 ? null : Math.max(0, now - Math.min(...due)),
    };
  }
}
