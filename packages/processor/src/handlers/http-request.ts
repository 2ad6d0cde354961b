import { setTimeout as sleep } from "node:timers/promises";
import { createRng, deriveSeed } from "@taskq/storage-sim";
import type { HttpRequestTask } from "../task-schema.js";

/** The simulated remote: a latency per request, no network. */
export interface HttpSimulation {
  /**
   * Latency of a simulated request, in milliseconds.
   * @default 30
   */
  readonly latencyMs?: number;
  /**
   * Extra latency drawn from [0, jitterMs).
   * @default 0
   */
  readonly jitterMs?: number;
  /** @default 1 */
  readonly seed?: number;
}

/** A simulated HTTP request: waits the modelled latency and answers 200 (204 for HEAD). */
export async function httpRequest(
  task: HttpRequestTask,
  simulation: HttpSimulation,
  attempt: number,
  signal?: AbortSignal,
): Promise<{ result: string }> {
  const jitter =
    (simulation.jitterMs ?? 0) * createRng(deriveSeed(simulation.seed ?? 1, task.idempotencyKey, attempt))();
  await sleep((simulation.latencyMs ?? 30) + jitter, undefined, signal ? { signal } : undefined);
  return { result: `${task.method} ${task.url} -> ${task.method === "HEAD" ? 204 : 200}` };
}
