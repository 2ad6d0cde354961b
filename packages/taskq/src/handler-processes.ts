// A kind's handlers in child processes of their own (`isolation: { resize: "process" }`): a fixed
// number of processes, started when attempts first need them, each running up to `concurrency`
// attempts at once; an attempt goes to the process with the fewest. Attempts and cancels go over
// each process's IPC channel (handler-process.ts is its entry module). A process that ends (it
// exited, was killed by a signal, ran out of heap, threw where nothing caught it) fails only the
// attempts it ran, as retryable `worker_crash`es saying what happened; the next attempt starts a
// new process in its place. An attempt past `timeoutMs` and the grace has its process killed.
//
// Not tinypool's `runtime: "child_process"`: a child there gets no workerData and only the
// environment given (not the parent's), cannot take a MessagePort (so no lane, no cancel to one
// attempt), and its end is reported as "Worker exited unexpectedly", with no exit code or signal.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AttemptOutcome, FailureInfo, LoggerPort } from "@taskq/queue";
import { attemptRequest, cancelToken, type HandlerTask, RecentCancels } from "./handler.js";
import type { FromProcess, HandlerProcessData, ToProcess } from "./handler-process.js";
import type { LoadedKind } from "./kinds.js";
import type { TaskReporter } from "./report-sink.js";

/** The processes' built entry module: `../dist/` from both `src/` (tests) and `dist/` (the package). */
const processEntryUrl = new URL("../dist/handler-process.js", import.meta.url);

/** What V8 prints to stderr when a process runs out of heap (before it aborts). */
const OUT_OF_HEAP = "JavaScript heap out of memory";
/** How much of a process's stderr is kept to see why it ended. */
const STDERR_TAIL = 4096;
/** How long an ended process's stderr may take to finish after its exit, ms. */
const STDERR_WAIT_MS = 250;

export interface HandlerProcessesOptions {
  /** The kinds these processes run (their handler modules, by URL). */
  readonly kinds: readonly LoadedKind[];
  /** Processes. */
  readonly count: number;
  /** Attempts one process runs at once. */
  readonly concurrency: number;
  /** Each process's heap limit (`--max-old-space-size`), MB. @default none: V8's own */
  readonly memoryLimitMb?: number;
  readonly objectsRoot: string | undefined;
  readonly handlerOptions: unknown;
  readonly logLevel: string;
  readonly timeoutMs: number;
  /** How long past `timeoutMs` an attempt may run before its process is killed. */
  readonly graceMs: number;
  readonly logger: LoggerPort;
  /** Writes the handlers' reports (`ctx.progress`, `ctx.log`); waited for before an outcome is handed on. @default none */
  readonly reporter?: TaskReporter;
}

interface Attempt {
  readonly n: number;
  readonly task: HandlerTask;
  readonly attempt: number;
  readonly token: string;
  readonly start: number;
  readonly resolve: (outcome: AttemptOutcome<string | null>) => void;
  /** Its hard timeout, once it began (with a timeout). */
  timer: NodeJS.Timeout | undefined;
  /** Stops listening to the caller's signal. */
  unlisten: (() => void) | undefined;
}

interface Proc {
  readonly index: number;
  readonly child: ChildProcess;
  readonly running: Map<number, Attempt>;
  /** The end of its stderr (what V8 says when it runs out of heap). */
  stderr: string;
  /** What the process said before it exited on an uncaught exception. */
  crash: string | undefined;
  /**
   * Why it is being killed on purpose: one attempt ran past its timeout and grace, or its
   * caller's signal aborted (a forced close, a cancel); that attempt's failure (the others' is
   * said apart).
   */
  killed:
    | { readonly n: number; readonly cause: "timeout" | "aborted"; readonly failure: FailureInfo }
    | undefined;
  ended: boolean;
  referenced: boolean;
}

function failed(error: FailureInfo, runMs: number): AttemptOutcome<never> {
  return { ok: false, error, runMs };
}

const crash = (message: string): FailureInfo => ({ errorClass: "worker_crash", retryable: true, message });

/**
 * Runs handler attempts in child processes. `concurrency` is `count` x attempts per process; the
 * caller never runs more at once (a process past its share still takes them).
 */
export class HandlerProcesses {
  readonly concurrency: number;
  /** Its processes (`count`), each started when first needed. */
  readonly processes: number;
  readonly #o: HandlerProcessesOptions;
  readonly #procs: (Proc | undefined)[];
  /** Every process not ended yet: in #procs, or killed and on its way out (out of #procs). */
  readonly #live = new Set<Proc>();
  readonly #data: HandlerProcessData;
  readonly #execArgv: string[];
  /** The attempts running, by cancel token (one process runs a kind's key once at a time). */
  readonly #byToken = new Map<string, { proc: Proc; n: number }>();
  /** Cancels that found no attempt yet (it may be on its way). */
  readonly #early = new RecentCancels();
  #next = 0;
  #destroyed = false;
  readonly #kinds: string;

  constructor(o: HandlerProcessesOptions) {
    this.#o = o;
    this.concurrency = o.count * o.concurrency;
    this.processes = o.count;
    this.#kinds = o.kinds.map((k) => k.kind).join(", ");
    this.#procs = Array.from({ length: o.count }, () => undefined);
    this.#data = {
      handlers: Object.fromEntries(o.kinds.map((k) => [k.kind, k.url])),
      options: o.handlerOptions,
      objects: o.objectsRoot ? { root: o.objectsRoot } : undefined,
      logLevel: o.logLevel,
      timeoutMs: o.timeoutMs,
      announce: o.timeoutMs > 0,
    };
    // the parent's flags (a loader, say), less a debugger's (its port is taken) and, with a
    // memoryLimitMb, the parent's heap limit
    const own =
      o.memoryLimitMb === undefined ? /^--(inspect|debug)/ : /^--(inspect|debug|max-old-space-size)/;
    this.#execArgv = [
      ...process.execArgv.filter((flag) => !own.test(flag)),
      ...(o.memoryLimitMb === undefined ? [] : [`--max-old-space-size=${o.memoryLimitMb}`]),
    ];
  }

  run(task: HandlerTask, attempt: number, signal?: AbortSignal): Promise<AttemptOutcome<string | null>> {
    if (this.#destroyed) return Promise.resolve(failed(crash("the executor was destroyed"), 0));
    if (signal?.aborted) return Promise.resolve(failed(aborted(signal), 0));
    const proc = this.#pick();
    const n = this.#next++;
    const token = cancelToken(task);
    return new Promise((resolve) => {
      const entry: Attempt = {
        n,
        task,
        attempt,
        token,
        start: performance.now(),
        resolve,
        timer: undefined,
        unlisten: undefined,
      };
      proc.running.set(n, entry);
      this.#byToken.set(token, { proc, n });
      this.#ref(proc);
      const cancelled = this.#early.take(token);
      this.#send(proc, {
        t: "run",
        n,
        request: attemptRequest(task, attempt),
        ...(cancelled ? { cancelled: true as const } : {}),
      });
      if (signal) {
        const abort = () => this.#kill(proc, n, "aborted", aborted(signal));
        signal.addEventListener("abort", abort, { once: true });
        entry.unlisten = () => signal.removeEventListener("abort", abort);
      }
    });
  }

  /** Aborts the `ctx.signal` of the task's attempt, in the process that runs it. */
  cancel(task: HandlerTask): void {
    const token = cancelToken(task);
    const at = this.#byToken.get(token);
    if (at && !at.proc.ended) this.#send(at.proc, { t: "cancel", token });
    else this.#early.add(token);
  }

  /**
   * Where an attempt goes: an idle process; else a new process in a free place (spreading the
   * attempts, as tinypool does, so that a crash ends as few as it can); else the process with the
   * fewest attempts.
   */
  #pick(): Proc {
    let best: Proc | undefined;
    let free = -1;
    for (let i = 0; i < this.#procs.length; i++) {
      const proc = this.#procs[i];
      if (!proc) {
        if (free < 0) free = i;
        continue;
      }
      if (proc.running.size === 0) return proc;
      if (!best || proc.running.size < best.running.size) best = proc;
    }
    return free >= 0 || !best ? this.#spawn(Math.max(0, free)) : best;
  }

  #spawn(index: number): Proc {
    const child = fork(fileURLToPath(processEntryUrl), [], {
      execArgv: this.#execArgv,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "json",
    });
    const proc: Proc = {
      index,
      child,
      running: new Map(),
      stderr: "",
      crash: undefined,
      killed: undefined,
      ended: false,
      referenced: true,
    };
    this.#procs[index] = proc;
    this.#live.add(proc);
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      proc.stderr = (proc.stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    child.on("message", (message: FromProcess) => this.#message(proc, message));
    child.once("exit", (code, signal) => {
      // no attempt goes to it from now on
      if (this.#procs[proc.index] === proc) this.#procs[proc.index] = undefined;
      const stderr = child.stderr;
      if (!stderr || stderr.readableEnded) return this.#exited(proc, code, signal);
      // what it printed last (V8's out-of-heap report) may still be on its way
      const timer = setTimeout(() => this.#exited(proc, code, signal), STDERR_WAIT_MS);
      stderr.once("end", () => {
        clearTimeout(timer);
        this.#exited(proc, code, signal);
      });
    });
    child.once("error", (error) => {
      // it could not be started (or signalled): no exit will come when it never ran
      if (child.pid === undefined)
        this.#ended(proc, () => crash(`the handler's process could not start: ${error.message}`));
    });
    this.#send(proc, { t: "init", data: this.#data });
    return proc;
  }

  #send(proc: Proc, message: ToProcess): void {
    try {
      proc.child.send(message, (error) => {
        // the channel closed: the process is ending, and its exit fails its attempts
        if (error) proc.child.kill("SIGKILL");
      });
    } catch {
      proc.child.kill("SIGKILL");
    }
  }

  #message(proc: Proc, message: FromProcess): void {
    if (message.t === "done") {
      const entry = proc.running.get(message.n);
      if (!entry) return;
      this.#settle(proc, entry);
      const settled = this.#o.reporter?.settle(entry.task.kind, entry.task.key, entry.attempt);
      if (settled) void settled.then(() => entry.resolve(message.outcome));
      else entry.resolve(message.outcome);
    } else if (message.t === "report") {
      this.#o.reporter?.merge(message.entries);
    } else if (message.t === "began") {
      const entry = proc.running.get(message.n);
      if (!entry || this.#o.timeoutMs <= 0) return;
      entry.timer = setTimeout(
        () => this.#kill(proc, entry.n, "timeout", this.#timedOut()),
        this.#o.timeoutMs + this.#o.graceMs,
      );
      entry.timer.unref();
    } else if (message.t === "crash") {
      proc.crash = message.message;
    }
  }

  /** An attempt left its process (answered, or failed with it). */
  #settle(proc: Proc, entry: Attempt): void {
    clearTimeout(entry.timer);
    entry.unlisten?.();
    proc.running.delete(entry.n);
    const at = this.#byToken.get(entry.token);
    if (at && at.proc === proc && at.n === entry.n) this.#byToken.delete(entry.token);
    if (proc.running.size === 0) this.#unref(proc);
  }

  /** Kills a process on purpose: attempt `n` fails with `failure`, the others on it as crashes. */
  #kill(proc: Proc, n: number, cause: "timeout" | "aborted", failure: FailureInfo): void {
    if (proc.ended || proc.killed || !proc.running.has(n)) return;
    proc.killed = { n, cause, failure };
    // the next attempts go to a new process
    if (this.#procs[proc.index] === proc) this.#procs[proc.index] = undefined;
    proc.child.kill("SIGKILL");
  }

  #timedOut(): FailureInfo {
    return {
      errorClass: "timeout",
      retryable: true,
      message: `the attempt ran past timeoutMs (${this.#o.timeoutMs} ms) and ${this.#o.graceMs} ms of grace without heeding ctx.signal: its process was killed and replaced`,
    };
  }

  #exited(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    if (!proc.ended && proc.running.size === 0 && !this.#destroyed)
      this.#o.logger.warn(
        { error_class: "worker_crash" },
        `a process of kind ${this.#kinds} ended with no attempt on it: ${this.#why(proc, code, signal)}`,
      );
    this.#ended(proc, (n) => this.#failure(proc, n, () => this.#why(proc, code, signal)));
  }

  /**
   * What attempt `n` of an ended process fails with: a process killed on purpose fails that
   * attempt as it was told and the others as crashes saying why; else `why()` (or the destroy).
   */
  #failure(proc: Proc, n: number, why: () => string): FailureInfo {
    const { killed } = proc;
    if (killed) {
      if (killed.n === n) return killed.failure;
      return crash(
        killed.cause === "timeout"
          ? "its process was killed: another attempt there ran past timeoutMs and its grace"
          : `its process was killed: another attempt there was aborted (${killed.failure.message})`,
      );
    }
    return crash(this.#destroyed ? "the executor was destroyed" : why());
  }

  /** What ended a process, in words (for the attempts it ran). */
  #why(proc: Proc, code: number | null, signal: NodeJS.Signals | null): string {
    const next = "a new process takes its place";
    if (proc.stderr.includes(OUT_OF_HEAP)) {
      const limit = this.#o.memoryLimitMb;
      return limit === undefined
        ? `out of memory: the handler's process went past V8's heap limit and was ended; ${next}`
        : `out of memory (memoryLimitMb ${limit}): the handler's process went past its heap limit and was ended; ${next}`;
    }
    if (proc.crash) return `${proc.crash}; the process exited (code ${code ?? signal}) and ${next}`;
    if (signal)
      return `the handler's process was killed by signal ${signal}${signal === "SIGABRT" ? " (process.abort(), or a native module's crash)" : ""}; ${next}`;
    return `the handler's process exited with code ${code} during the attempt; ${next}`;
  }

  /** A process ended: each attempt on it fails with `failure(n)`; its slot gets a new process when next needed. */
  #ended(proc: Proc, failure: (n: number) => FailureInfo): void {
    if (proc.ended) return;
    proc.ended = true;
    this.#live.delete(proc);
    if (this.#procs[proc.index] === proc) this.#procs[proc.index] = undefined;
    const now = performance.now();
    for (const entry of [...proc.running.values()]) {
      this.#settle(proc, entry);
      entry.resolve(failed(failure(entry.n), now - entry.start));
    }
    proc.child.stderr?.destroy();
  }

  /** A process with attempts keeps this one alive; an idle one does not. */
  #ref(proc: Proc): void {
    if (proc.referenced) return;
    proc.referenced = true;
    proc.child.ref();
    (proc.child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    (proc.child.stderr as { ref?: () => void } | null)?.ref?.();
  }

  #unref(proc: Proc): void {
    if (!proc.referenced) return;
    proc.referenced = false;
    proc.child.unref();
    (proc.child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    (proc.child.stderr as { unref?: () => void } | null)?.unref?.();
  }

  /**
   * Ends every process (killed when it does not exit within a second), those killed on purpose and
   * still exiting too; resolves once each has exited and its attempts have failed (once each).
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const live = [...this.#live];
    await Promise.all(live.map((proc) => stop(proc.child)));
    // its exit handler may still be reading its stderr (up to STDERR_WAIT_MS): its attempts end
    // now, the exit handler then finds the process ended
    for (const proc of live) this.#ended(proc, (n) => this.#failure(proc, n, () => ""));
  }
}

/** Asks a child to end (SIGTERM), killed when it does not within a second; resolves on its exit. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 1000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * The failure of an attempt whose caller's signal aborted: a forced close, or the caller's
 * timeout (its reason says which); `timeout` as the threads' (thread-lane.ts `#aborted`).
 */
function aborted(signal: AbortSignal): FailureInfo {
  const reason = (signal.reason as Error | undefined)?.message ?? String(signal.reason);
  return { errorClass: "timeout", retryable: true, message: `attempt cancelled: ${reason}` };
}
