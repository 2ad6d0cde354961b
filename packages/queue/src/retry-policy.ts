/** Options of a retry policy. */
export interface RetryPolicyOptions {
  /**
   * Attempts in all, the first included (taskq's ATTEMPTS); a task that fails this many times is
   * dead-lettered.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Backoff base: the cap of the first retry's delay, in ms; it doubles each attempt.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Largest delay, in ms.
   * @default 10000
   */
  readonly maxDelayMs?: number;
  /**
   * Source of randomness in [0, 1), seeded in tests.
   * @default Math.random
   */
  readonly random?: () => number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the delay before
 * retry n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Transient errors retry until
 * `maxAttempts`; permanent errors never do.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly #random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    }
    if (!(this.baseDelayMs >= 0))
      throw new RangeError(`baseDelayMs must be >= 0, got ${options.baseDelayMs}`);
    if (!(this.maxDelayMs >= this.baseDelayMs)) {
      throw new RangeError(
        `maxDelayMs must be >= baseDelayMs (${this.baseDelayMs}), got ${options.maxDelayMs}`,
      );
    }
    this.#random = options.random ?? Math.random;
  }

  /** Whether an attempt that failed with `error` should run again (`attempt` counts from 1). */
  shouldRetry(
    error: { readonly retryable: boolean },
    attempt: number,
    maxAttempts = this.maxAttempts,
  ): boolean {
    return error.retryable && attempt < maxAttempts;
  }

  /** The ceiling of the delay after failed attempt `attempt`. */
  ceilingMs(attempt: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** The delay before the retry that follows failed attempt `attempt`, in ms. */
  delayMs(attempt: number): number {
    return this.#random() * this.ceilingMs(attempt);
  }
}
