/** A benchmark workload. */
export interface Profile {
  readonly name: "io" | "cpu" | "overhead";
  readonly describe: string;
  readonly kind: "image" | "noop";
  readonly size: { readonly width: number; readonly height: number };
  /** Simulated latency per storage request (ms). */
  readonly baseLatencyMs: number;
  /** Storage requests per task (get + put for an image; none for a no-op). */
  readonly requestsPerTask: number;
  /**
   * Default task counts per run, per system: enough for 5 seconds or more of steady state at the
   * rate each system reaches on a 2-core machine (the baseline is 60-100x slower on io, so one
   * count for both would make its runs minutes long or the optimized runs under a second).
   */
  readonly defaultTasks: { readonly baseline: number; readonly optimized: number };
}

export const PROFILES: Readonly<Record<Profile["name"], Profile>> = {
  io: {
    name: "io",
    describe: "the seed's workload: small images, 30 ms simulated latency per storage request dominates",
    kind: "image",
    size: { width: 64, height: 48 },
    baseLatencyMs: 30,
    requestsPerTask: 2,
    defaultTasks: { baseline: 300, optimized: 10_000 },
  },
  cpu: {
    name: "cpu",
    describe: "1024x1024 images, no simulated latency: pixel work dominates",
    kind: "image",
    size: { width: 1024, height: 1024 },
    baseLatencyMs: 0,
    requestsPerTask: 2,
    defaultTasks: { baseline: 300, optimized: 800 },
  },
  overhead: {
    name: "overhead",
    describe:
      "no-op tasks: only the queue's own machinery (validate, claim, queue, dispatch, persist) costs time",
    kind: "noop",
    size: { width: 1, height: 1 },
    baseLatencyMs: 0,
    requestsPerTask: 0,
    defaultTasks: { baseline: 20_000, optimized: 200_000 },
  },
};
