/**
 * Renews leases every leaseMs/3 by calling `renew` (a thrown error or a rejected promise skips one
 * beat: a busy database or an unreachable server; the next beat renews). The timer does not keep
 * the process alive; stop it with clearInterval.
 */
export function startHeartbeat(leaseMs: number, renew: () => unknown): NodeJS.Timeout {
  const timer = setInterval(
    () => {
      try {
        Promise.resolve(renew()).catch(() => undefined);
      } catch {
        // skipped beat
      }
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return timer;
}
