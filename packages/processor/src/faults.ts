import { createRng, deriveSeed } from "@taskq/storage-sim";
import { PermanentError, TransientError } from "./errors.js";

/** Fault injection applied before a task runs (the seed's "latency, error probability"). */
export interface FaultOptions {
  /**
   * Probability that an attempt fails (ERROR_PROBABILITY).
   * @default 0
   */
  readonly errorProbability?: number;
  /**
   * Share of injected failures that are transient (retryable); the rest are permanent.
   * @default 1
   */
  readonly transientShare?: number;
  /**
   * Probability of a latency spike on an attempt.
   * @default 0
   */
  readonly latencySpikeProbability?: number;
  /**
   * Length of a latency spike, in milliseconds.
   * @default 0
   */
  readonly latencySpikeMs?: number;
  /**
   * Seed of the draws. Each attempt draws from its own stream, derived from the seed, the task's
   * idempotency key and the attempt number, so the same faults hit the same attempts whatever
   * order threads run in.
   * @default 1
   */
  readonly seed?: number;
}

/** What the injector decided for one attempt. */
export interface FaultDecision {
  readonly error: TransientError | PermanentError | undefined;
  readonly spikeMs: number;
}

function probability(name: string, value: number | undefined, fallback: number): number {
  const p = value ?? fallback;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  return p;
}

/** Validates fault options and returns a pure decision function of (key, attempt). */
export function createFaultInjector(
  options: FaultOptions = {},
): (key: string, attempt: number) => FaultDecision {
  const errorProbability = probability("errorProbability", options.errorProbability, 0);
  const transientShare = probability("transientShare", options.transientShare, 1);
  const spikeProbability = probability("latencySpikeProbability", options.latencySpikeProbability, 0);
  const spikeMs = options.latencySpikeMs ?? 0;
  if (!(spikeMs >= 0 && Number.isFinite(spikeMs)))
    throw new RangeError(`latencySpikeMs must be >= 0, got ${spikeMs}`);
  const seed = options.seed ?? 1;
  return (key, attempt) => {
    if (errorProbability === 0 && spikeProbability === 0) return { error: undefined, spikeMs: 0 };
    const random = createRng(deriveSeed(seed, key, attempt));
    const fails = random() < errorProbability;
    const transient = random() < transientShare;
    const spike = random() < spikeProbability;
    const error = !fails
      ? undefined
      : transient
        ? new TransientError(`injected transient fault (attempt ${attempt})`)
        : new PermanentError(`injected permanent fault (attempt ${attempt})`);
    return { error, spikeMs: spike ? spikeMs : 0 };
  };
}
