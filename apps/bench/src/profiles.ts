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
  /** Default task count when --tasks is not given. */
  readonly defaultTasks: number;
}

export const PROFILES: Readonly<Record<Profile["name"], Profile>> = {
  io: {
    name: "io",
    describe: "the seed's workload: small images, 30 ms simulated latency per storage request dominates",
    kind: "image",
    size: { width: 64, height: 48 },
    baseLatencyMs: 30,
    requestsPerTask: 2,
    defaultTasks: 1000,
  },
  cpu: {
    name: "cpu",
    describe: "1024x1024 images, no simulated latency: pixel work dominates",
    kind: "image",
    size: { width: 1024, height: 1024 },
    baseLatencyMs: 0,
    requestsPerTask: 2,
    defaultTasks: 120,
  },
  overhead: {
    name: "overhead",
    describe:
      "no-op tasks: only the queue's own machinery (validate, claim, queue, dispatch, persist) costs time",
    kind: "noop",
    size: { width: 1, height: 1 },
    baseLatencyMs: 0,
    requestsPerTask: 0,
    defaultTasks: 20_000,
  },
};
