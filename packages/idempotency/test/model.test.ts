// Model-based tests of the store contract (issue 33): random call sequences (fast-check
// `fc.commands`) by two owners on one backend, with an injected clock the commands move, run
// against each driver and the reference model (test/model.ts); after every call the call's answer,
// every task's record (get), the counts (statusCounts) and cancelRequested must be the model's. A
// failure prints the seed and the shrunk sequence. TASKQ_MODEL_SEED and TASKQ_MODEL_RUNS override
// the seed and runs.
import fc from "fast-check";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  everyTask,
  MAX_COUNT_CAP,
  SqliteTaskStore,
  StoreError,
  type StoreStats,
  storeStatsOf,
  type TaskRecord,
  type TaskStoreDriver,
} from "../src/index.js";
import { PgTaskStore } from "../src/postgres.js";
import { clock } from "./driver-suite.js";
import { tempDb } from "./helpers.js";
import { type ClaimSpec, ModelRefusal, StoreModel } from "./model.js";

const LEASE_MS = 10_000;
const ATTEMPTS = 3;
const OWNERS = ["owner-a", "owner-b"] as const;
const SEED = Number(process.env.TASKQ_MODEL_SEED ?? 20_240_533);
const RUNS = Number(process.env.TASKQ_MODEL_RUNS ?? 40);
const FAILURE = { errorClass: "Boom", message: "it broke" };

interface Real {
  readonly stores: readonly [TaskStoreDriver, TaskStoreDriver];
  readonly clock: { now: () => number; advance: (ms: number) => number };
  /** SQLite takes in strict queue order; PostgreSQL may read on from its last take (see checkTake). */
  readonly strictTake: boolean;
  claims: number;
}
interface World {
  readonly m: StoreModel;
}

/** The task a command refers to: the ref-th of the model's tasks (mod their number). */
function pick(w: World, ref: number): TaskRecord | undefined {
  const list = w.m.list();
  return list.length === 0 ? undefined : list[ref % list.length];
}

/** Runs the model's call and the driver's: both answer alike, or both refuse with the same code. */
async function same<T>(model: () => T, real: () => Promise<T>, normalise: (v: T) => unknown = (v) => v) {
  let expected: T | undefined;
  let refusal: ModelRefusal | undefined;
  try {
    expected = model();
  } catch (error) {
    if (!(error instanceof ModelRefusal)) throw error;
    refusal = error;
  }
  if (refusal) {
    const error = await real().then(
      (value) =>
        new Error(`the driver answered ${JSON.stringify(value)} where the model refused ${refusal.code}`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(refusal.code);
    return;
  }
  expect(normalise(await real())).toEqual(normalise(expected as T));
}

/** The store's counts as StoreStats (storeStatsOf): statusCounts with the largest cap, so exact. */
async function countsOf(s: TaskStoreDriver): Promise<StoreStats> {
  return storeStatsOf(await s.statusCounts(MAX_COUNT_CAP));
}

/** After every command: every task as the model has it, the counts and cancel requests. */
async function compareState(w: World, r: Real): Promise<void> {
  const tasks = w.m.list();
  for (const t of tasks) expect(await r.stores[0].get(t.seq), `task #${t.seq}`).toEqual(t);
  expect(await everyTask(r.stores[1])).toEqual(tasks);
  expect(await countsOf(r.stores[1])).toEqual(w.m.stats());
  const seqs = tasks.map((t) => t.seq);
  expect((await r.stores[0].cancelRequested(seqs)).sort((a, b) => a - b)).toEqual(w.m.cancelRequested(seqs));
}

abstract class Cmd implements fc.AsyncCommand<World, Real> {
  /** What the command resolved to when it last ran (a task's seq and version), for the report. */
  protected resolved = "";
  check(): boolean {
    return true;
  }
  abstract call(w: World, r: Real): Promise<void>;
  abstract describe(): string;
  async run(w: World, r: Real): Promise<void> {
    this.resolved = "";
    try {
      await this.call(w, r);
      await compareState(w, r);
    } catch (error) {
      // the failing command, with what it resolved to in this run, leads the message
      if (error instanceof Error) error.message = `${this.describe()}${this.resolved}: ${error.message}`;
      throw error;
    }
  }
  toString(): string {
    return this.describe();
  }
}

type Owner = 0 | 1;
const ownerName = (o: Owner) => (o === 0 ? "A" : "B");

function claimInput(spec: ClaimSpec, id: string) {
  return {
    id,
    idempotencyKey: spec.key,
    kind: spec.kind,
    payload: { id },
    priority: spec.priority,
    ...(spec.start ? { start: true } : { delayMs: spec.delayMs }),
    ...(spec.maxAttempts === undefined ? {} : { maxAttempts: spec.maxAttempts }),
  };
}

const showSpec = (s: ClaimSpec) =>
  `{${s.kind}/${s.key}${s.priority ? ` prio ${s.priority}` : ""}${s.delayMs && !s.start ? ` delay ${s.delayMs}` : ""}${
    s.start ? " start" : ""
  }${s.maxAttempts ? ` max ${s.maxAttempts}` : ""}}`;

class ClaimCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly specs: readonly ClaimSpec[],
    readonly many: boolean,
  ) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.${this.many ? "enqueueMany" : "claim"}(${this.specs.map(showSpec).join(", ")})`;
  }
  async call(w: World, r: Real) {
    const store = r.stores[this.owner];
    const inputs = this.specs.map((s) => claimInput(s, `${s.kind}-${s.key}-${++r.claims}`));
    const answers = this.many
      ? await store.enqueueMany(inputs)
      : [await store.claim(inputs[0] as (typeof inputs)[0])];
    expect(answers).toHaveLength(inputs.length);
    const used = new Set(w.m.list().map((t) => t.seq));
    const expected = this.specs.map((spec, i) => {
      const answer = answers[i];
      return w.m.claim(spec, inputs[i]?.id as string, OWNERS[this.owner], () => {
        // a created task's seq is the driver's: new, and above every seq before it
        expect(answer?.created, `claim ${i} created`).toBe(true);
        const seq = (answer as { seq: number }).seq;
        expect(used.has(seq)).toBe(false);
        expect(seq).toBeGreaterThan(Math.max(0, ...used));
        used.add(seq);
        return seq;
      });
    });
    expect(answers).toEqual(expected);
  }
}

class TakeCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly limit: number,
    readonly kinds: readonly string[] | undefined,
  ) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.takeNext(${this.limit}${this.kinds ? `, ${JSON.stringify(this.kinds)}` : ""})`;
  }
  async call(w: World, r: Real) {
    const owner = OWNERS[this.owner];
    w.m.reclaimExpired();
    const plan = w.m.planTake(this.limit, this.kinds);
    const positions = new Map(w.m.readOn.get(owner) ?? []);
    const got = await r.stores[this.owner].takeNext(this.limit, this.kinds);
    const seqs = got.map((t) => t.seq);
    this.resolved = ` → [${seqs.join(", ")}]`;
    const strict = plan.strict.map((t) => t.seq);
    if (r.strictTake || seqs.join() === strict.join()) expect(seqs, "taken, in queue order").toEqual(strict);
    else {
      // PostgreSQL reads a kind's queue on from where this store's last full take of it ended
      // (architecture.md section 3): a due task ranked before that point, of priority <= 0, may
      // wait for a later take. Anything else must be as the strict take.
      const eligible = new Set(plan.eligible.map((t) => t.seq));
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const seq of seqs) expect(eligible.has(seq), `#${seq} may be taken`).toBe(true);
      expect(seqs.length, "how many taken").toBe(strict.length);
      const perKind = new Map<string, number>();
      for (const t of got) perKind.set(t.kind, (perKind.get(t.kind) ?? 0) + 1);
      for (const [kind, n] of perKind)
        expect(n, `taken of ${kind}`).toBeLessThanOrEqual(plan.allow.get(kind) ?? 0);
      for (const t of plan.strict) {
        if (seqs.includes(t.seq)) continue;
        const at = positions.get(t.kind);
        const rank = w.m.rankOf(t.seq);
        const behind = at !== undefined && (rank < at.rank || (rank === at.rank && t.seq <= at.seq));
        expect(
          t.priority <= 0 && behind,
          `#${t.seq} (${t.kind}, rank ${rank}) skipped, not behind this store's read position ${JSON.stringify(at)}`,
        ).toBe(true);
      }
    }
    expect(got).toEqual(w.m.applyTake(owner, seqs, this.limit));
  }
}

type Transition = "start" | "succeed" | "retry" | "fail" | "release" | "cancelRunning";

class TransitionCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly what: Transition,
    readonly ref: number,
    readonly delta: number,
    readonly delayMs: number,
  ) {
    super();
  }
  describe() {
    const v = this.delta === 0 ? "version" : `version${this.delta > 0 ? "+" : ""}${this.delta}`;
    return `${ownerName(this.owner)}.${this.what}(task[${this.ref}], ${v}${this.what === "retry" ? `, delay ${this.delayMs}` : ""})`;
  }
  async call(w: World, r: Real) {
    const t = pick(w, this.ref);
    if (!t) return;
    const seq = t.seq;
    const version = t.version + this.delta;
    this.resolved = ` = #${seq} v${version} (${t.status} v${t.version})`;
    const s = r.stores[this.owner];
    const m = w.m;
    switch (this.what) {
      case "start":
        return same(
          () => m.start(seq, version, OWNERS[this.owner]),
          () => s.start(seq, version),
        );
      case "succeed":
        return same(
          () => m.succeed(seq, version, { result: `r${seq}` }),
          () => s.succeed(seq, version, { result: `r${seq}` }),
        );
      case "retry":
        return same(
          () => m.retry(seq, version, FAILURE, this.delayMs),
          () => s.retry(seq, version, FAILURE, this.delayMs),
        );
      case "fail":
        return same(
          () => m.fail(seq, version, FAILURE),
          () => s.fail(seq, version, FAILURE),
        );
      case "release":
        return same(
          () => m.release(seq, version),
          () => s.release(seq, version),
        );
      case "cancelRunning":
        return same(
          () => m.cancelRunning(seq, version),
          () => s.cancelRunning(seq, version),
        );
    }
  }
}

class CancelCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly ref: number,
  ) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.cancel(task[${this.ref}])`;
  }
  async call(w: World, r: Real) {
    const t = pick(w, this.ref);
    if (!t) return;
    this.resolved = ` = #${t.seq} (${t.status})`;
    await same(
      () => w.m.cancel(t.seq),
      () => r.stores[this.owner].cancel(t.seq),
    );
  }
}

class RenewCmd extends Cmd {
  constructor(readonly owner: Owner) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.renewLeases()`;
  }
  async call(w: World, r: Real) {
    await same(
      () => w.m.renewLeases(OWNERS[this.owner]),
      () => r.stores[this.owner].renewLeases(),
    );
  }
}

class RedriveCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly ref: number,
  ) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.redriveTasks([task[${this.ref}]])`;
  }
  async call(w: World, r: Real) {
    const t = pick(w, this.ref);
    if (!t) return;
    this.resolved = ` = #${t.seq} (${t.status})`;
    await same(
      () => w.m.redriveTasks([t.seq]),
      () => r.stores[this.owner].redriveTasks([t.seq]),
    );
  }
}

class LimitCmd extends Cmd {
  constructor(
    readonly owner: Owner,
    readonly kind: string,
    readonly concurrency: number | null,
  ) {
    super();
  }
  describe() {
    return `${ownerName(this.owner)}.setKindLimits(${this.kind}, ${this.concurrency === null ? "null" : `{ concurrency: ${this.concurrency} }`})`;
  }
  async call(w: World, r: Real) {
    const limits = this.concurrency === null ? null : { concurrency: this.concurrency };
    await r.stores[this.owner].setKindLimits(this.kind, limits);
    w.m.setKindLimits(this.kind, limits);
  }
}

class AdvanceCmd extends Cmd {
  constructor(readonly ms: number) {
    super();
  }
  describe() {
    return `clock += ${this.ms}`;
  }
  async call(_w: World, r: Real) {
    r.clock.advance(this.ms);
  }
}

const owner = fc.constantFrom<Owner>(0, 1);
const kind = fc.constantFrom("a", "b");
const spec: fc.Arbitrary<ClaimSpec> = fc.record({
  kind,
  key: fc.constantFrom("k0", "k1", "k2", "k3"),
  priority: fc.constantFrom(0, 0, 0, 1, -1),
  delayMs: fc.constantFrom(0, 0, 2000),
  start: fc.boolean(),
  maxAttempts: fc.constantFrom(undefined, undefined, 1, 5),
});
const ref = fc.nat(20);
const transition = (what: Transition) =>
  fc
    .tuple(owner, ref, fc.constantFrom(0, 0, 0, 0, -1, 1), fc.constantFrom(0, 0, 1500))
    .map(([o, r, d, delay]) => new TransitionCmd(o, what, r, d, delay));

const commands = fc.commands(
  [
    fc.tuple(owner, spec).map(([o, s]) => new ClaimCmd(o, [s], false)),
    fc.tuple(owner, fc.array(spec, { minLength: 1, maxLength: 3 })).map(([o, s]) => new ClaimCmd(o, s, true)),
    fc
      .tuple(owner, fc.integer({ min: 1, max: 3 }), fc.constantFrom(undefined, ["a"], ["b"], ["a", "b"]))
      .map(([o, l, k]) => new TakeCmd(o, l, k)),
    fc.tuple(owner, fc.integer({ min: 1, max: 3 })).map(([o, l]) => new TakeCmd(o, l, undefined)),
    fc.tuple(owner, fc.integer({ min: 1, max: 2 })).map(([o, l]) => new TakeCmd(o, l, undefined)),
    transition("start"),
    transition("succeed"),
    transition("retry"),
    transition("fail"),
    transition("release"),
    transition("cancelRunning"),
    fc.tuple(owner, ref).map(([o, r]) => new CancelCmd(o, r)),
    owner.map((o) => new RenewCmd(o)),
    fc.tuple(owner, ref).map(([o, r]) => new RedriveCmd(o, r)),
    fc.tuple(owner, kind, fc.constantFrom(1, 2, null)).map(([o, k, c]) => new LimitCmd(o, k, c)),
    fc.tuple(owner, kind, fc.constantFrom(1, 2)).map(([o, k, c]) => new LimitCmd(o, k, c)),
    fc.constantFrom(1, 500, 2500, LEASE_MS + 1).map((ms) => new AdvanceCmd(ms)),
  ],
  { maxCommands: 25 },
);

const plain = (kind: string, key: string, start = false): ClaimSpec => ({
  kind,
  key,
  priority: 0,
  delayMs: 0,
  start,
  maxAttempts: undefined,
});

/**
 * Sequences run before the random ones, every time: differences the random runs found, or that
 * they seldom reach, shrunk.
 */
const EXAMPLES: Cmd[][] = [
  // A stale transition by the lease holder is refused and changes nothing: the task still runs,
  // leased to A, so A's renewLeases must still renew it (PostgreSQL dropped it from the tasks its
  // heartbeat renews: 0 renewed, and its lease runs out under the worker).
  [new ClaimCmd(0, [plain("a", "k0", true)], false), new TransitionCmd(0, "fail", 0, -1, 0), new RenewCmd(0)],
  [
    new ClaimCmd(1, [plain("a", "k0", true)], true),
    new TransitionCmd(1, "release", 0, 1, 0),
    new RenewCmd(1),
  ],
  // A limit set by one store binds the next take of another, in queue order across kinds: B must
  // take #1 (kind a, first in the queue, a slot free under its new limit), not #2 (kind b).
  [
    new TakeCmd(1, 1, undefined),
    new ClaimCmd(0, [plain("a", "k0")], false),
    new ClaimCmd(0, [plain("b", "k0")], false),
    new LimitCmd(0, "a", 1),
    new TakeCmd(1, 1, undefined),
  ],
];

type Open = (options: {
  owner: string;
  now: () => number;
  sameAs?: TaskStoreDriver;
}) => Promise<{ store: TaskStoreDriver; dispose?: () => Promise<void> }>;

function modelTest(name: string, open: Open, strictTake: boolean) {
  it(`${name}: random call sequences by two owners answer as the model`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const c = clock();
        const a = await open({ owner: OWNERS[0], now: c.now });
        const b = await open({ owner: OWNERS[1], now: c.now, sameAs: a.store });
        const real: Real = { stores: [a.store, b.store], clock: c, strictTake, claims: 0 };
        try {
          await fc.asyncModelRun(
            () => ({ model: { m: new StoreModel(c.now, LEASE_MS, ATTEMPTS) }, real }),
            cmds,
          );
        } finally {
          await b.store.close();
          await a.store.close();
          await a.dispose?.();
        }
        runs++;
      }),
      { seed: SEED, numRuns: RUNS, verbose: 1, examples: EXAMPLES.map((e): [Cmd[]] => [e]) },
    );
    expect(runs).toBe(RUNS);
  });
}

describe("the store contract against its model", () => {
  modelTest(
    "SQLite",
    async ({ owner, now, sameAs }) => {
      const path = sameAs ? (sameAs as SqliteTaskStore).store.path : tempDb();
      return { store: SqliteTaskStore.open({ path, owner, now, leaseMs: LEASE_MS, maxAttempts: ATTEMPTS }) };
    },
    true,
  );

  const url = inject("pgUrl");
  const admin = new pg.Client({ connectionString: url });
  const connected = admin.connect();
  afterAll(() => admin.end());
  let schemas = 0;
  modelTest(
    "PostgreSQL",
    async ({ owner, now, sameAs }) => {
      const schema = sameAs ? (sameAs as PgTaskStore).schema : `model_${process.pid}_${++schemas}`;
      const store = await PgTaskStore.open({
        url,
        schema,
        owner,
        now,
        leaseMs: LEASE_MS,
        maxAttempts: ATTEMPTS,
      });
      return {
        store,
        dispose: async () => {
          await connected;
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        },
      };
    },
    false,
  );
});
