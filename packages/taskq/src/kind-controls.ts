// A kind's controls across every worker on the store: its limits, its pause and its circuit
// breaker (the client's setLimits, limits, pauseKind, resumeKind, setBreaker, breakers and
// resetBreaker, which client.ts delegates to), each checked where it enters.
import { breakerParams, type KindLimitState, type TaskStoreDriver } from "@taskq/idempotency";
import type { BreakerInfo, BreakerSettings, Client, LimitsOptions } from "./client.js";
import { ConfigError } from "./errors.js";
import { checkKind } from "./kinds.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";

const BREAKER_KEYS = keysOf<BreakerSettings>()({
  failures: true,
  windowMs: true,
  cooldownMs: true,
  countErrors: true,
  ratio: true,
  minAttempts: true,
});
const LIMITS_KEYS = keysOf<LimitsOptions>()({ concurrency: true, rate: true, perGroup: true });
const PER_GROUP_KEYS = keysOf<NonNullable<LimitsOptions["perGroup"]>>()({ concurrency: true });
const RATE_KEYS = keysOf<NonNullable<LimitsOptions["rate"]>>()({ limit: true, intervalMs: true });

/** Limits checked where they enter: one line naming the option. */
function checkLimits(limits: LimitsOptions): LimitsOptions {
  if (limits === null || typeof limits !== "object")
    throw new ConfigError("limits", "setLimits needs { concurrency, rate, perGroup } or null");
  checkOptionKeys(limits, LIMITS_KEYS);
  const { concurrency, rate, perGroup } = limits;
  // a limit of 0 would stop the kind for good, silently: to stop a kind, pauseKind(kind)
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1))
    throw new ConfigError(
      "concurrency",
      `concurrency must be a positive integer, got ${JSON.stringify(concurrency)} (setLimits(kind, null) removes the limits)`,
    );
  if (rate !== undefined) {
    if (rate === null || typeof rate !== "object")
      throw new ConfigError("rate", "rate must be { limit, intervalMs }");
    checkOptionKeys(rate, RATE_KEYS, "rate");
    if (!(Number.isInteger(rate.limit) && rate.limit >= 1))
      throw new ConfigError(
        "rate.limit",
        `rate.limit must be a positive integer, got ${JSON.stringify(rate.limit)}`,
      );
    if (!(Number.isInteger(rate.intervalMs) && rate.intervalMs >= 1))
      throw new ConfigError(
        "rate.intervalMs",
        `rate.intervalMs must be a positive integer (ms), got ${JSON.stringify(rate.intervalMs)}`,
      );
  }
  if (perGroup !== undefined) {
    if (perGroup === null || typeof perGroup !== "object")
      throw new ConfigError("perGroup", "perGroup must be { concurrency }");
    checkOptionKeys(perGroup, PER_GROUP_KEYS, "perGroup");
    if (!(Number.isInteger(perGroup.concurrency) && perGroup.concurrency >= 1))
      throw new ConfigError(
        "perGroup.concurrency",
        `perGroup.concurrency must be a positive integer, got ${JSON.stringify(perGroup.concurrency)}`,
      );
  }
  if (concurrency === undefined && rate === undefined && perGroup === undefined)
    throw new ConfigError(
      "limits",
      "setLimits needs concurrency, rate or perGroup (or null to remove the limits)",
    );
  return limits;
}

/**
 * A breaker's settings checked as setBreaker checks them, before any store is opened: an unknown
 * key is a ConfigError, a bad value ERR_INVALID_INPUT naming the option (the store's own check,
 * breakerParams of @taskq/idempotency, the one home of the rules).
 */
export function checkBreaker(breaker: BreakerSettings): BreakerSettings {
  if (breaker !== null && typeof breaker === "object") checkOptionKeys(breaker, BREAKER_KEYS);
  breakerParams(breaker);
  return breaker;
}

/** The kinds that have a breaker, each with it, from the kinds' limits (kindLimits, a monitor reading). */
export function breakersOf(limits: readonly KindLimitState[]): BreakerInfo[] {
  return limits.flatMap((l) => (l.breaker ? [{ kind: l.kind, ...l.breaker }] : []));
}

/** The client's calls on a kind's limits, pause and breaker, over `store`. */
export function kindControls(
  store: TaskStoreDriver,
): Pick<
  Client,
  "setLimits" | "limits" | "pauseKind" | "resumeKind" | "setBreaker" | "breakers" | "resetBreaker"
> {
  return {
    async setLimits(kind, limits) {
      checkKind(kind);
      await store.setKindLimits(kind, limits === null ? null : checkLimits(limits));
    },
    async limits() {
      return (await store.kindLimits()).map((l) => ({
        ...l,
        openAgainAt: l.openAgainAt === null ? null : new Date(l.openAgainAt),
      }));
    },
    async pauseKind(kind) {
      return store.setKindPaused(checkKind(kind), true);
    },
    async resumeKind(kind) {
      return store.setKindPaused(checkKind(kind), false);
    },
    async setBreaker(kind, breaker) {
      checkKind(kind);
      await store.setBreaker(kind, breaker === null ? null : checkBreaker(breaker));
    },
    async breakers() {
      return breakersOf(await store.kindLimits());
    },
    async resetBreaker(kind) {
      return store.resetBreaker(checkKind(kind));
    },
  };
}
