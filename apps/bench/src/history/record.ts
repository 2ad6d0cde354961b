// What every history handler shares: each attempt's start and finish appended to its process's
// history file (one JSON line each, appendFileSync: in the kernel before the handler goes on, so
// a SIGKILL right after loses nothing written), and a result unique to the attempt, so the
// checker can tell which attempt's result the store kept.
import { appendFileSync } from "node:fs";
import type { AttemptEvent } from "./model.js";

/** The part of a handler's ctx these handlers use. */
export interface HistoryCtx {
  readonly id: string;
  readonly key: string;
  readonly kind: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly options: { readonly historyFile: string };
}

/** A history task's payload: how long its work takes, ms. */
export interface HistoryPayload {
  readonly ms: number;
}

export function appendEvent(file: string, event: AttemptEvent): void {
  appendFileSync(file, `${JSON.stringify(event)}\n`);
}

/** Waits `ms`; with a signal, rejects with its reason when it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A handler that records its attempt around `work`: a start line, then a finish line with the
 * outcome (and the result, on success), then returns or rethrows what `work` did.
 */
export function recorded(
  work: (payload: HistoryPayload, ctx: HistoryCtx) => Promise<void>,
): (payload: HistoryPayload, ctx: HistoryCtx) => Promise<unknown> {
  return async (payload, ctx) => {
    const base = { pid: process.pid, kind: ctx.kind, id: ctx.id, key: ctx.key, attempt: ctx.attempt };
    const file = ctx.options.historyFile;
    appendEvent(file, { ev: "start", ...base, t: Date.now() });
    try {
      await work(payload, ctx);
    } catch (error) {
      const e = error as { retryable?: unknown };
      const outcome = ctx.signal.aborted ? "aborted" : e?.retryable === false ? "permanent" : "transient";
      appendEvent(file, { ev: "finish", ...base, t: Date.now(), outcome });
      throw error;
    }
    // unique to this attempt: the store must keep the result of an attempt that finished
    const result = { id: ctx.id, attempt: ctx.attempt, pid: process.pid };
    appendEvent(file, { ev: "finish", ...base, t: Date.now(), outcome: "ok", result });
    return result;
  };
}
