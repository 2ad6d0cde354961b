import type { DurableQueuePort, StoreRecord } from "./ports.js";

/** What the fetcher hands the tasks it takes to: the orchestrator's `adopt` side. */
export interface AdoptPort {
  /** Tasks adopted (or submitted) and not settled yet. */
  readonly pending: number;
  /** Of `pending`, the tasks of `kind`. */
  pendingOf(kind: string): number;
  /** Runs a task taken from the durable queue (`running`, leased to this process). */
  adopt(record: StoreRecord & { readonly payload: unknown }): Promise<unknown>;
}

/** Options of a fetcher. */
export interface FetcherOptions {
  /** Where tasks are taken from. */
  readonly store: DurableQueuePort;
  /** Where taken tasks run. */
  readonly runner: AdoptPort;
  /** Take only tasks of these kinds (the ones the runner has handlers for). @default every kind */
  readonly kinds?: readonly string[];
  /**
   * Most tasks this process holds at once (running, admitted or backing off): it takes no more
   * than `capacity - runner.pending` per look, and waits for a task to settle when full. With
   * `autoPrefetch`, the slots only: the fetcher adds what they would start soon.
   */
  readonly capacity: number;
  /**
   * Hold, beyond `capacity`, what the slots finished in the last `horizonMs` (at most `max`),
   * measured as tasks settle: a worker of fast tasks takes hundreds at a time and fetches the
   * next batch while these run; one whose slots are busy with slow tasks finished none lately and
   * holds only what it can start. A take waits until what is held beyond the slots falls to half
   * that (a low-water mark), so takes stay big. @default none (capacity alone)
   */
  readonly autoPrefetch?: { readonly horizonMs: number; readonly max: number };
  /**
   * Most tasks of a kind this process holds at once, by kind (a worker's own per-kind limits;
   * the store's limits per kind hold across every worker besides). @default none
   */
  readonly perKind?: Readonly<Record<string, number>>;
  /**
   * Kinds that share a capacity of their own within this one: this process holds at most
   * `capacity` tasks of a group's kinds together (with `autoPrefetch`, the group's slots only: the
   * fetcher adds its prefetch, as to `capacity`), and takes each group's tasks in a take of its own,
   * so that a backlog of one group's kinds never fills the slots of another's. Kinds in no group
   * share what is left. Needs `kinds`; the groups' kinds must not overlap. @default none (one take
   * over every kind)
   */
  readonly groups?: readonly FetchGroup[];
  /**
   * How long an idle fetcher waits before it looks again, in ms, when nothing wakes it earlier
   * (a store notification, or one of its tasks settling).
   */
  readonly pollMs: number;
  /**
   * Return once this process holds nothing and the store has nothing queued or running anywhere.
   * @default false
   */
  readonly exitWhenIdle?: boolean;
  /** Stops taking tasks; `run()` returns (what was taken keeps running in the runner). */
  readonly signal?: AbortSignal;
  /** A retryable store error (an unreachable server): reported, and the loop tries again. @default ignored */
  readonly onRetryableError?: (error: Error) => void;
}

/** Kinds holding a capacity of their own within a fetcher's (FetcherOptions.groups). */
export interface FetchGroup {
  readonly kinds: readonly string[];
  /** Most tasks of these kinds together this process holds at once (with autoPrefetch, beyond its prefetch). */
  readonly capacity: number;
}

/** One take of a look: up to `limit` tasks of `kinds`. */
interface Take {
  readonly limit: number;
  readonly kinds: readonly string[] | undefined;
}

/** The shortest idle wait: a due task another worker holds is taken by it, or looked at again soon. */
const MIN_WAIT_MS = 10;

function checkPositive(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/**
 * The loop that takes work from the durable queue: take up to the free capacity (the store
 * leases each task to this process), hand each task to the runner, and when nothing was taken,
 * wait for work (a notification where the store has them, a task of ours settling, or the poll
 * interval), whichever comes first. `taskq serve` is this loop over the front door's runtime.
 */
export class Fetcher {
  readonly #options: FetcherOptions;
  #taken = 0;
  /** Settles of the last horizon, counted per bucket of BUCKET_MS (autoPrefetch only). */
  readonly #settles: SettleWindow | undefined;
  /** Wakes a wait when one of the tasks this fetcher handed out settles. */
  #settled: (() => void) | undefined;

  constructor(options: FetcherOptions) {
    if (!options.store) throw new TypeError("store is required");
    if (!options.runner) throw new TypeError("runner is required");
    checkPositive("capacity", options.capacity);
    for (const [kind, max] of Object.entries(options.perKind ?? {})) checkPositive(`perKind.${kind}`, max);
    checkPositive("pollMs", options.pollMs);
    if (options.groups) {
      if (!options.kinds) throw new TypeError("groups needs kinds");
      const seen = new Set<string>();
      for (const group of options.groups) {
        checkPositive("groups[].capacity", group.capacity);
        for (const kind of group.kinds) {
          if (seen.has(kind)) throw new TypeError(`groups: kind ${JSON.stringify(kind)} is in two groups`);
          seen.add(kind);
        }
      }
    }
    if (options.autoPrefetch) {
      checkPositive("autoPrefetch.horizonMs", options.autoPrefetch.horizonMs);
      checkPositive("autoPrefetch.max", options.autoPrefetch.max);
      this.#settles = new SettleWindow(options.autoPrefetch.horizonMs);
    }
    this.#options = options;
  }

  /** What it holds beyond its slots now: the slots' finishes of the last horizon, capped. */
  get prefetch(): number {
    const auto = this.#options.autoPrefetch;
    return auto && this.#settles ? Math.min(auto.max, this.#settles.count(performance.now())) : 0;
  }

  /** Tasks taken from the store so far. */
  get taken(): number {
    return this.#taken;
  }

  /** Runs until `signal` aborts (or, with `exitWhenIdle`, until the store is idle); resolves with tasks taken. */
  async run(): Promise<number> {
    const { store, runner, capacity, signal } = this.#options;
    while (!signal?.aborted) {
      const extra = this.prefetch;
      const free = capacity + extra - runner.pending;
      // the low-water mark: with tasks held beyond the slots, take again once they fall to half
      if (free <= 0 || (extra > 1 && runner.pending > capacity + extra / 2)) {
        await this.#wait({ work: false, settle: true });
        continue;
      }
      // what this process may still hold of each kind with a per-kind limit
      const caps = this.#caps();
      const kinds = caps ? this.#options.kinds?.filter((kind) => (caps[kind] ?? 1) > 0) : this.#options.kinds;
      const takes = this.#takes(free, extra, kinds);
      if (takes.length === 0) {
        await this.#wait({ work: false, settle: true });
        continue;
      }
      let records: readonly (StoreRecord & { readonly payload: unknown })[] = [];
      for (const take of takes) {
        const limit = Math.min(take.limit, free - records.length);
        if (limit <= 0) break;
        try {
          const got = await store.takeNext(limit, take.kinds, caps && { perKind: caps });
          records = records.length === 0 ? got : [...records, ...got];
        } catch (error) {
          if ((error as { retryable?: unknown }).retryable !== true) {
            this.#adopt(records); // leased to this process already: run them before failing
            throw error;
          }
          this.#options.onRetryableError?.(error as Error);
        }
      }
      this.#adopt(records);
      this.#taken += records.length;
      if (records.length > 0) continue;
      // idle here, and nothing of its kinds left anywhere: none queued, none running on another
      // process (a dead process's lease expires and its tasks come back as queued)
      if (this.#options.exitWhenIdle && runner.pending === 0 && (await this.#storeIdle())) break;
      // Draining to exit, a task of ours settling may leave the store idle: look again then,
      // not a poll interval later. Otherwise a settle frees capacity that only new work needs.
      // a kind at its per-kind limit may take again when one of ours settles
      // (and a group at its capacity when one of its tasks settles)
      await this.#wait({
        work: await this.#idleWaitMs(this.#options.groups ? takes.flatMap((t) => t.kinds ?? []) : kinds),
        settle:
          this.#options.exitWhenIdle === true || caps !== undefined || this.#options.groups !== undefined,
      });
    }
    return this.#taken;
  }

  /** Hands what a look took to the runner; each settle wakes the loop. */
  #adopt(records: readonly (StoreRecord & { readonly payload: unknown })[]): void {
    for (const record of records) {
      this.#options.runner
        .adopt(record)
        .catch(() => undefined) // its outcome is the store's and the metrics' business
        .finally(() => this.#wake());
    }
  }

  /**
   * The takes of a look: one over `kinds` without groups (as many as are `free`); with groups, one
   * per group with room (up to what it may still hold), then one over the kinds in no group.
   */
  #takes(free: number, extra: number, kinds: readonly string[] | undefined): Take[] {
    const { groups, runner } = this.#options;
    if (!groups) return kinds?.length === 0 ? [] : [{ limit: free, kinds }];
    const takes: Take[] = [];
    const grouped = new Set<string>();
    for (const group of groups) {
      for (const kind of group.kinds) grouped.add(kind);
      let held = 0;
      for (const kind of group.kinds) held += runner.pendingOf(kind);
      const room = group.capacity + extra - held;
      const open = group.kinds.filter((kind) => kinds?.includes(kind));
      if (room > 0 && open.length > 0) takes.push({ limit: room, kinds: open });
    }
    const rest = kinds?.filter((kind) => !grouped.has(kind)) ?? [];
    if (rest.length > 0) takes.push({ limit: free, kinds: rest });
    return takes;
  }

  /**
   * Nothing queued or running in the store: of the kinds it takes, or of any kind. Bounded at any
   * size: the earliest due time (null: none queued) and a page of one running task per kind.
   */
  async #storeIdle(): Promise<boolean> {
    const { store, kinds } = this.#options;
    if ((await store.nextDueIn(kinds)) !== null) return false;
    const running = await Promise.all(
      (kinds ?? [undefined]).map((kind) =>
        store.listTasks({ status: "running", limit: 1, ...(kind === undefined ? {} : { kind }) }),
      ),
    );
    return running.every((page) => page.length === 0);
  }

  /**
   * How long an idle look waits for work: the poll interval, or less when a queued task of its
   * kinds falls due sooner (a delayed task, a retry's backoff), so it is taken on time without
   * polling. A task due now that was not taken (another worker holds it) waits MIN_WAIT_MS.
   */
  async #idleWaitMs(kinds: readonly string[] | undefined): Promise<number> {
    const { store, pollMs } = this.#options;
    let dueIn: number | null = null;
    try {
      dueIn = await store.nextDueIn(kinds);
    } catch (error) {
      if ((error as { retryable?: unknown }).retryable !== true) throw error;
      this.#options.onRetryableError?.(error as Error);
    }
    return dueIn === null ? pollMs : Math.min(pollMs, Math.max(MIN_WAIT_MS, dueIn));
  }

  /** What this process may still take of each kind with a per-kind limit (undefined: none set). */
  #caps(): Record<string, number> | undefined {
    const { perKind, runner } = this.#options;
    if (!perKind) return undefined;
    const caps: Record<string, number> = {};
    for (const [kind, max] of Object.entries(perKind)) caps[kind] = Math.max(0, max - runner.pendingOf(kind));
    return caps;
  }

  /**
   * A settle frees a slot: the wait ends after the current turn of the event loop, so the slots
   * that the same store commit freed (its turn answers many calls at once) are taken together, in
   * one take, rather than one take per slot.
   */
  #wake(): void {
    this.#settles?.add(performance.now());
    const wake = this.#settled;
    if (!wake) return;
    this.#settled = undefined;
    setImmediate(wake);
  }

  /**
   * Waits for the store's wake-up or `work` ms, for one of our tasks to settle
   * (`settle`), or for the signal, whichever comes first.
   */
  async #wait(on: { readonly work: number | false; readonly settle: boolean }): Promise<void> {
    const { store, signal } = this.#options;
    if (signal?.aborted) return;
    const done = new AbortController();
    const onAbort = () => done.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const waits: Promise<void>[] = [
      new Promise<void>((resolve) => done.signal.addEventListener("abort", () => resolve(), { once: true })),
    ];
    if (on.settle) waits.push(new Promise<void>((resolve) => (this.#settled = resolve)));
    if (on.work !== false) waits.push(store.waitForWork(on.work, done.signal));
    try {
      await Promise.race(waits);
    } finally {
      this.#settled = undefined;
      done.abort(); // ends the store's wait and the abort listener's promise
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Counts events over a sliding horizon in ten buckets (one counter each: no per-event memory). */
class SettleWindow {
  readonly #bucketMs: number;
  readonly #counts = new Array<number>(10).fill(0);
  #bucket = 0;

  constructor(horizonMs: number) {
    this.#bucketMs = Math.max(1, horizonMs / 10);
  }

  add(now: number): void {
    this.#roll(now);
    this.#counts[this.#bucket % 10] = (this.#counts[this.#bucket % 10] as number) + 1;
  }

  count(now: number): number {
    this.#roll(now);
    let sum = 0;
    for (const n of this.#counts) sum += n;
    return sum;
  }

  /** Empties the buckets the clock has passed since the last event. */
  #roll(now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const passed = Math.min(10, bucket - this.#bucket);
    for (let i = 1; i <= passed; i++) this.#counts[(this.#bucket + i) % 10] = 0;
    if (passed > 0) this.#bucket = bucket;
  }
}
