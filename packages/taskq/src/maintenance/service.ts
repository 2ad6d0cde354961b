import type { LoggerPort } from "@taskq/queue";

/**
 * One background job over the task store, in the shape every such job has (retention, the worker
 * report, the cancel watch, the scheduler): a name, an interval, whether it runs once per
 * cluster, and one pass.
 */
export interface MaintenanceService {
  /** Names it in logs and in the store's once-per-cluster gate. */
  readonly name: string;
  /** How often a pass runs, in ms. */
  readonly everyMs: number;
  /**
   * `true`: one process of all those on the store runs each interval's pass (the store's gate
   * decides which); `false`: every process runs its own.
   */
  readonly oncePerCluster: boolean;
  /** Run a pass when the service starts, not only an interval later. @default false */
  readonly runAtStart?: boolean;
  /** One pass; resolves with how many things it did. Stops early when `signal` aborts. */
  run(signal: AbortSignal): Promise<number>;
}

/**
 * The once-per-cluster gate: true for exactly one caller per `everyMs` among every process on
 * the store (the task store's `tryRunMaintenance`).
 */
export type ClusterGate = (name: string, everyMs: number) => Promise<boolean>;

/** Options of the maintenance runner. */
export interface MaintenanceOptions {
  /**
   * Decides which process runs a once-per-cluster pass. Left out, every process runs it.
   * @default none
   */
  readonly gate?: ClusterGate;
  /** Where a failed pass is logged (an unreachable store); the next interval tries again. @default none */
  readonly logger?: LoggerPort;
}

function checkService(service: MaintenanceService): void {
  if (typeof service.name !== "string" || !/^[a-z][a-z0-9_-]{0,62}$/.test(service.name))
    throw new TypeError(
      `a maintenance service name must be a short lower-case identifier, got ${JSON.stringify(service.name)}`,
    );
  if (!Number.isInteger(service.everyMs) || service.everyMs < 1)
    throw new RangeError(`${service.name}: everyMs must be a positive integer, got ${service.everyMs}`);
}

/**
 * Runs maintenance services in the background: each on its own interval (timers that keep no
 * process alive), once per cluster where the service asks for it, one pass at a time per
 * service. `stop()` aborts the passes under way and waits for them.
 */
export class Maintenance {
  readonly #services: ReadonlyMap<string, MaintenanceService>;
  readonly #options: MaintenanceOptions;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #passes = new Map<string, Promise<number>>();
  readonly #totals = new Map<string, number>();
  readonly #stop = new AbortController();

  constructor(services: readonly MaintenanceService[], options: MaintenanceOptions = {}) {
    const byName = new Map<string, MaintenanceService>();
    for (const service of services) {
      checkService(service);
      if (byName.has(service.name)) throw new TypeError(`two maintenance services named ${service.name}`);
      byName.set(service.name, service);
    }
    this.#services = byName;
    this.#options = options;
  }

  /** Starts every service's interval. */
  start(): this {
    if (this.#timers.length > 0 || this.#stop.signal.aborted) return this;
    for (const service of this.#services.values()) {
      const pass = () => {
        this.#scheduled(service).catch((error: unknown) =>
          this.#options.logger?.warn(
            { error_class: "maintenance", service: service.name },
            `${service.name} pass failed: ${(error as Error).message}`,
          ),
        );
      };
      const timer = setInterval(pass, service.everyMs);
      timer.unref();
      this.#timers.push(timer);
      if (service.runAtStart) pass();
    }
    return this;
  }

  /** An interval's pass: through the gate when the service runs once per cluster. */
  async #scheduled(service: MaintenanceService): Promise<number> {
    if (this.#passes.has(service.name)) return 0; // the last pass is still running
    if (service.oncePerCluster && this.#options.gate) {
      if (!(await this.#options.gate(service.name, service.everyMs))) return 0;
    }
    return this.runOnce(service.name);
  }

  /** Runs one pass of a service now, in this process (by hand, or in tests); joins one under way. */
  runOnce(name: string): Promise<number> {
    const service = this.#services.get(name);
    if (!service) return Promise.reject(new RangeError(`no maintenance service named ${name}`));
    const running = this.#passes.get(name);
    if (running) return running;
    const pass = service.run(this.#stop.signal).then((n) => {
      this.#totals.set(name, (this.#totals.get(name) ?? 0) + n);
      return n;
    });
    this.#passes.set(name, pass);
    const forget = () => this.#passes.delete(name);
    pass.then(forget, forget);
    return pass;
  }

  /** What a service has done so far in this process (the sum of its passes' counts). */
  total(name: string): number {
    return this.#totals.get(name) ?? 0;
  }

  /** Stops the intervals, aborts the passes under way and waits for them. Idempotent. */
  async stop(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    this.#stop.abort();
    await Promise.allSettled([...this.#passes.values()]);
  }
}
