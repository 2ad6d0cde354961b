// A lane per thread: the attempts posted in one turn of the event loop go to a thread in one
// message, and the outcomes that finished in one of the thread's turns come back in one, over a
// MessagePort. Tinypool still starts, replaces and ends the threads: a lane's session is one
// tinypool task, asked for when the lane has attempts to post and handed the thread's end of the
// port; it returns once the lane has been idle a while. When tinypool fails that task (the thread
// died, ran out of heap, or was ended past its timeout), the attempts posted on that thread fail,
// saying why, and the next ones go to a session on another thread (tinypool starts one in its
// place). A thread that exits without an error tinypool hears (it listens for none but errors)
// has its session aborted, which makes tinypool drop it the same way.
// Both ends are here: ThreadLanes on the main thread, serveLane in the threads' entry module.
import { MessageChannel, type MessagePort, threadId } from "node:worker_threads";
import {
  type AttemptOutcome,
  type FailureInfo,
  TinypoolExecutor,
  type TinypoolExecutorOptions,
} from "@taskq/queue";
import type { TinypoolWorker } from "tinypool";

/** What a thread's session gets: its end of the lane (the one tinypool task it runs). */
export interface LaneSetup {
  readonly port: MessagePort;
  /** Say when each batch begins, before running it (so the main thread can time its attempts). */
  readonly announce: boolean;
}

/**
 * Main thread to thread: a batch, `[n, request, n, request, ...]` (`n` names the attempt on this
 * lane). Thread to main thread: the outcomes of one turn, `[n, outcome, ...]`; the thread's id,
 * once, when the session opens; with `announce`, word that the next batch begins; a handler's
 * report (`ctx.progress`, `ctx.log`), sent at once, so before its attempt's outcome.
 */
type LaneReply =
  | readonly unknown[]
  | { readonly threadId: number }
  | { readonly began: true }
  | { readonly report: unknown };

const BEGAN: LaneReply = { began: true };

/**
 * The session a thread runs on its lane (the entry module's default export): runs each request of
 * a batch with `run` (after `ready`), and sends back the outcomes that finished in one turn
 * together. A rejected `run` is a retryable `worker_crash`, as tinypool's own path reported it.
 */
export function serveLane<R>(
  run: (request: R) => Promise<unknown>,
  ready: Promise<unknown> = Promise.resolve(),
  /** Given, as each session opens, what sends a report to the main thread on it (ThreadLanesOptions.report). */
  onSession?: (report: (message: unknown) => void) => void,
): (setup: LaneSetup) => Promise<void> {
  return ({ port, announce }) =>
    new Promise<void>((resolve) => {
      onSession?.((report) => port.postMessage({ report } satisfies LaneReply));
      let replies: unknown[] = [];
      let flushing = false;
      const flush = () => {
        flushing = false;
        const sent = replies;
        replies = [];
        port.postMessage(sent);
      };
      const answer = (n: unknown, outcome: unknown) => {
        replies.push(n, outcome);
        if (!flushing) {
          flushing = true;
          setImmediate(flush);
        }
      };
      const start = (batch: readonly unknown[]) => {
        // sent before any handler runs: one that blocks the thread cannot hold it back
        if (announce) port.postMessage(BEGAN);
        for (let i = 0; i < batch.length; i += 2) {
          const n = batch[i];
          run(batch[i + 1] as R).then(
            (outcome) => answer(n, outcome),
            (error: unknown) => answer(n, crashed((error as Error)?.message ?? String(error), 0)),
          );
        }
      };
      let isReady = false;
      void ready.then(
        () => (isReady = true),
        () => undefined, // each attempt's `run` reports it
      );
      port.on("message", (batch: readonly unknown[]) => {
        if (isReady) start(batch);
        else
          void ready.then(
            () => start(batch),
            () => start(batch),
          );
      });
      port.once("close", () => resolve());
      port.postMessage({ threadId } satisfies LaneReply);
    });
}

/** Options of ThreadLanes: TinypoolExecutor's, and how long an attempt may hold its thread. */
export interface ThreadLanesOptions<T> extends TinypoolExecutorOptions<T> {
  /** The entry module: its default export is `serveLane(...)`. */
  readonly filename: string | URL;
  /**
   * An attempt's own timeout, which it is expected to heed; 0: none. Past it and `graceMs`
   * (counted from when its thread began it), its thread is ended and replaced, and every attempt on
   * that thread fails as a retryable `timeout`.
   */
  readonly timeoutMs?: number;
  /** @default 1000 */
  readonly graceMs?: number;
  /** Hears each report a thread sends (serveLane's `onSession`). @default none */
  readonly report?: (message: unknown) => void;
  /**
   * Called as an attempt's outcome arrives, before it is handed on: a promise holds the outcome
   * until it settles (its reports written). @default none
   */
  readonly settle?: (task: T, attempt: number) => Promise<void> | undefined;
}

/** An attempt waiting for its outcome. */
interface Pending<T, O> {
  readonly n: number;
  readonly task: T;
  readonly attempt: number;
  readonly resolve: (outcome: AttemptOutcome<O>) => void;
  readonly start: number;
  lane: Lane<T, O>;
  /** Its batch, while the lane times its batches (with a timeout). */
  batch: Batch | undefined;
}

/** A batch whose attempts are timed from when the thread began it. */
interface Batch {
  left: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A lane, for one session (a lane whose session ends, or closes when idle, is replaced by a new
 * one, opened when attempts come).
 */
interface Lane<T, O> {
  readonly index: number;
  /** The main thread's end of the port, once the session is asked for. */
  port: MessagePort | undefined;
  /** Posted to the thread, by `n`. */
  readonly posted: Map<number, Pending<T, O>>;
  /** This turn's batch, not yet posted: the wire form and its attempts. */
  outbox: unknown[];
  unsent: Pending<T, O>[];
  /** Posted batches the thread has not begun yet, in order (with a timeout). */
  readonly unbegun: Batch[];
  /** The thread, and its exit, once the session said which thread it runs on. */
  thread: TinypoolWorker | undefined;
  exited: Promise<void> | undefined;
  /** Why the thread is being ended on purpose: the failure of every attempt on it. */
  failure: FailureInfo | undefined;
  ended: boolean;
  /** Since when nothing has been posted or waiting (while the session is open). */
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
  /**
   * Aborts the session's tinypool task: tinypool then drops its thread and starts another (for a
   * thread that exited on its own, whose errors nobody hears any more).
   */
  readonly abort: AbortController;
}

/**
 * How long a lane's session stays open with nothing to run, ms. A thread's session is a tinypool
 * task, and tinypool keeps the process alive while a thread runs one: an idle executor holds
 * none, as with a task per attempt, while a lane that empties between turns keeps its session.
 */
export const LANE_IDLE_MS = 1000;

function newLane<T, O>(index: number): Lane<T, O> {
  return {
    index,
    port: undefined,
    posted: new Map(),
    outbox: [],
    unsent: [],
    unbegun: [],
    thread: undefined,
    exited: undefined,
    failure: undefined,
    ended: false,
    idleSince: 0,
    idleTimer: undefined,
    abort: new AbortController(),
  };
}

function crashed(message: string, runMs: number): AttemptOutcome<never> {
  return {
    ok: false,
    error: { errorClass: "worker_crash", retryable: true, message: `thread failed: ${message}` },
    runMs,
  };
}

/** Whether tinypool failed a thread's task because the thread ran out of heap (Node ended it). */
function outOfMemory(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ERR_WORKER_OUT_OF_MEMORY";
}

/** The failure of the attempts on a thread that ran out of heap: the limit it had, in words. */
export function threadOutOfMemory(memoryLimitMb: number | undefined): FailureInfo {
  const limit = memoryLimitMb === undefined ? "" : ` (memoryLimitMb ${memoryLimitMb})`;
  return {
    errorClass: "worker_crash",
    retryable: true,
    message: `out of memory${limit}: an attempt on this thread went past ${memoryLimitMb === undefined ? "V8's heap limit" : "its heap limit"}; the thread was ended and a new one takes its place`,
  };
}

/**
 * Runs attempts on tinypool's threads through a lane per thread. An attempt goes to the lane with
 * the fewest attempts (posted or about to be): since the caller never runs more than
 * `concurrency` at once, no thread holds more than `concurrentTasksPerThread`. A lane's session
 * is asked of tinypool when it has attempts to post, and ends when the lane has been idle for
 * LANE_IDLE_MS; each thread runs one session at most (tinypool's concurrentTasksPerWorker is 1),
 * so the open lanes are on threads of their own. A thread that dies fails only the attempts posted
 * to it, as retryable `worker_crash`es (answered once the thread has exited, at most `graceMs`
 * later, so their slots are not handed on while their code may still run; one that ran out of
 * heap says "out of memory", with `resourceLimits.maxOldGenerationSizeMb` when given, and one that
 * exited says its exit code); the attempts of this turn not yet posted go to the lane that
 * replaces it.
 */
export class ThreadLanes<T, O> extends TinypoolExecutor<T, O> {
  override readonly concurrency: number;
  /**
   * What crossed the lanes: sessions opened, batches and attempts posted, replies and outcomes
   * received.
   */
  readonly counts = { sessions: 0, batches: 0, attempts: 0, replies: 0, outcomes: 0 };
  readonly #request: (task: T, attempt: number) => unknown;
  readonly #timeoutMs: number;
  readonly #graceMs: number;
  readonly #memoryLimitMb: number | undefined;
  readonly #report: ((message: unknown) => void) | undefined;
  readonly #settle: ((task: T, attempt: number) => Promise<void> | undefined) | undefined;
  readonly #lanes: Lane<T, O>[] = [];
  #next = 0;
  #flushing = false;
  #destroyed = false;

  constructor(options: ThreadLanesOptions<T>) {
    // one session per thread: tinypool places each on a thread of its own
    super({ ...options, concurrentTasksPerThread: 1, concurrentTasksPerWorker: undefined });
    const perThread = options.concurrentTasksPerThread ?? options.concurrentTasksPerWorker ?? 1;
    if (!Number.isInteger(perThread) || perThread < 1)
      throw new RangeError(`concurrentTasksPerThread must be a positive integer, got ${perThread}`);
    this.concurrency = this.threads * perThread;
    this.#request = options.request ?? ((task, attempt) => ({ task, attempt }));
    this.#timeoutMs = options.timeoutMs ?? 0;
    this.#graceMs = options.graceMs ?? 1000;
    this.#memoryLimitMb = options.resourceLimits?.maxOldGenerationSizeMb;
    this.#report = options.report;
    this.#settle = options.settle;
    for (let i = 0; i < this.threads; i++) this.#lanes.push(newLane(i));
  }

  override run(task: T, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<O>> {
    if (this.#destroyed) return Promise.resolve(crashed("the executor was destroyed", 0));
    if (signal?.aborted) return Promise.resolve(this.#aborted(signal));
    let lane = this.#lanes[0] as Lane<T, O>;
    let load = lane.posted.size + lane.unsent.length;
    for (let i = 1; i < this.#lanes.length && load > 0; i++) {
      const other = this.#lanes[i] as Lane<T, O>;
      const otherLoad = other.posted.size + other.unsent.length;
      if (otherLoad < load) [lane, load] = [other, otherLoad];
    }
    const n = this.#next++;
    const outcome = new Promise<AttemptOutcome<O>>((resolve) => {
      const pending: Pending<T, O> = {
        n,
        task,
        attempt,
        resolve,
        start: performance.now(),
        lane,
        batch: undefined,
      };
      lane.outbox.push(n, this.#request(task, attempt));
      lane.unsent.push(pending);
      if (signal) this.#abortOn(signal, pending);
    });
    this.#scheduleFlush();
    return outcome;
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(this.#flush);
  }

  /** Posts each lane's batch of this turn (opening its session first when it has none). */
  readonly #flush = (): void => {
    this.#flushing = false;
    if (this.#destroyed) return;
    for (const lane of this.#lanes) {
      if (lane.unsent.length === 0) continue;
      const port = lane.port ?? this.#open(lane);
      const batch: Batch | undefined =
        this.#timeoutMs > 0 ? { left: lane.unsent.length, timer: undefined } : undefined;
      for (const pending of lane.unsent) {
        pending.batch = batch;
        lane.posted.set(pending.n, pending);
      }
      if (batch) lane.unbegun.push(batch);
      port.postMessage(lane.outbox);
      this.counts.batches++;
      this.counts.attempts += lane.unsent.length;
      lane.outbox = [];
      lane.unsent = [];
    }
  };

  #reply(lane: Lane<T, O>, reply: LaneReply): void {
    if (Array.isArray(reply)) {
      this.counts.replies++;
      for (let i = 0; i < reply.length; i += 2) {
        const pending = lane.posted.get(reply[i] as number);
        if (!pending) continue;
        lane.posted.delete(pending.n);
        this.counts.outcomes++;
        const batch = pending.batch;
        if (batch && --batch.left === 0) clearTimeout(batch.timer);
        const outcome = reply[i + 1] as AttemptOutcome<O>;
        const settled = this.#settle?.(pending.task, pending.attempt);
        if (settled) void settled.then(() => pending.resolve(outcome));
        else pending.resolve(outcome);
      }
      if (lane.posted.size === 0 && lane.unsent.length === 0) this.#idle(lane);
    } else if ("report" in reply) {
      this.#report?.(reply.report);
    } else if ("threadId" in reply) {
      const thread = this.pool.threads.find((t) => t.threadId === reply.threadId);
      lane.thread = thread;
      lane.exited =
        thread &&
        new Promise<void>((resolve) =>
          thread.once("exit", (code: number) => {
            resolve();
            // after the turn: an error Node reports with the exit (out of memory) ends the lane first
            setImmediate(() => this.#exitedAlone(lane, code));
          }),
        );
    } else {
      const batch = lane.unbegun.shift();
      if (!batch || batch.left === 0) return;
      batch.timer = setTimeout(() => {
        if (batch.left > 0) this.#endThread(lane, this.#timedOut());
      }, this.#timeoutMs + this.#graceMs);
      batch.timer.unref();
    }
  }

  /** The lane has nothing to run: its session ends once that has lasted LANE_IDLE_MS. */
  #idle(lane: Lane<T, O>): void {
    lane.idleSince = performance.now();
    if (lane.idleTimer) return;
    const check = (): void => {
      lane.idleTimer = undefined;
      if (lane.ended || lane.posted.size > 0 || lane.unsent.length > 0) return;
      const left = lane.idleSince + LANE_IDLE_MS - performance.now();
      if (left > 0) {
        lane.idleTimer = setTimeout(check, left);
        lane.idleTimer.unref();
        return;
      }
      // the next attempts go to a new lane, whose session tinypool starts on a free thread
      lane.ended = true;
      this.#lanes[lane.index] = newLane(lane.index);
      lane.port?.close(); // the thread's session returns, and tinypool lets the thread wait
    };
    lane.idleTimer = setTimeout(check, LANE_IDLE_MS);
    lane.idleTimer.unref();
  }

  #timedOut(): FailureInfo {
    return {
      errorClass: "timeout",
      retryable: true,
      message: `an attempt on this thread ran past timeoutMs (${this.#timeoutMs} ms) and ${this.#graceMs} ms of grace without heeding ctx.signal: the thread was terminated and replaced`,
    };
  }

  /**
   * A lane's thread exited with no error tinypool heard of (a plain exit: tinypool's threads
   * report only errors, and its task would wait forever): the thread is ended as a failed one, and
   * the attempts on it fail, saying its exit code.
   */
  #exitedAlone(lane: Lane<T, O>, code: number): void {
    if (lane.ended || lane.failure) return;
    lane.failure = {
      errorClass: "worker_crash",
      retryable: true,
      message: `the thread exited with code ${code} while attempts ran on it; a new thread takes its place`,
    };
    // an exited thread's listeners are gone (an error emitted on it would be nobody's): tinypool
    // drops the thread of an aborted task, and starts another
    lane.abort.abort();
  }

  /**
   * A `signal` that aborts once its attempt is posted ends the attempt's thread: every attempt on
   * it fails as a `timeout` (one still in this turn's batch runs: the orchestrator passes a signal
   * only with a task timeout, and a forced close destroys the executor).
   */
  #abortOn(signal: AbortSignal, pending: Pending<T, O>): void {
    signal.addEventListener(
      "abort",
      () => {
        if (pending.lane.posted.has(pending.n)) this.#endThread(pending.lane, this.#aborted(signal).error);
      },
      { once: true },
    );
  }

  #aborted(signal: AbortSignal): AttemptOutcome<never> & { ok: false } {
    const reason = (signal.reason as Error | undefined)?.message ?? String(signal.reason);
    return {
      ok: false,
      error: { errorClass: "timeout", retryable: true, message: `attempt cancelled: ${reason}` },
      runMs: 0,
    };
  }

  /**
   * Ends a lane's thread on purpose. Tinypool fails the task a thread runs when the thread emits
   * `error`, then terminates it and starts another; a plain terminate() would leave it pending.
   */
  #endThread(lane: Lane<T, O>, failure: FailureInfo): void {
    if (lane.ended || lane.failure || !lane.thread) return;
    lane.failure = failure;
    lane.thread.emit("error", new Error(failure.message));
  }

  /** Asks tinypool for the lane's session, on a thread of its own, handing it its end of a port. */
  #open(lane: Lane<T, O>): MessagePort {
    const { port1, port2 } = new MessageChannel();
    lane.port = port1;
    port1.on("message", (reply: LaneReply) => this.#reply(lane, reply));
    port1.unref(); // the session (a tinypool task) keeps the process alive while it is open
    this.counts.sessions++;
    const setup: LaneSetup = { port: port2, announce: this.#timeoutMs > 0 };
    this.pool.run(setup, { transferList: [port2], signal: lane.abort.signal }).then(
      () => this.#ended(lane, "its session ended"),
      (error: unknown) => {
        if (outOfMemory(error)) lane.failure ??= threadOutOfMemory(this.#memoryLimitMb);
        this.#ended(lane, (error as Error)?.message ?? String(error));
      },
    );
    return port1;
  }

  /**
   * A lane's session ended (its thread failed, was ended, or the executor destroyed; or it
   * closed when idle, and then nothing is in flight): its posted attempts fail, and the attempts
   * not yet posted go to the lane that replaces it.
   */
  #ended(lane: Lane<T, O>, reason: string): void {
    lane.ended = true;
    lane.port?.close();
    for (const batch of lane.unbegun) clearTimeout(batch.timer);
    const lost = [...lane.posted.values()];
    lane.posted.clear();
    if (this.#destroyed) lost.push(...lane.unsent);
    else if (this.#lanes[lane.index] === lane) {
      const next = newLane<T, O>(lane.index);
      this.#lanes[lane.index] = next;
      next.outbox = lane.outbox;
      next.unsent = lane.unsent;
      for (const pending of next.unsent) pending.lane = next;
      if (next.unsent.length > 0) this.#scheduleFlush();
    }
    lane.outbox = [];
    lane.unsent = [];
    if (lost.length === 0) return;
    const answer = () => {
      const now = performance.now();
      for (const pending of lost) {
        const runMs = now - pending.start;
        pending.resolve(lane.failure ? { ok: false, error: lane.failure, runMs } : crashed(reason, runMs));
      }
    };
    if (!lane.exited) {
      answer();
      return;
    }
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.#graceMs).unref());
    void Promise.race([lane.exited, grace]).then(answer);
  }

  override async destroy(): Promise<void> {
    this.#destroyed = true;
    // what was never posted ends now; what was, when tinypool ends its thread (#ended)
    for (const lane of this.#lanes) {
      clearTimeout(lane.idleTimer);
      for (const pending of lane.unsent.splice(0)) pending.resolve(crashed("the executor was destroyed", 0));
      lane.outbox = [];
    }
    await super.destroy();
  }
}
