/**
 * Resolves after `timeoutMs`, when one of `wakers` is called (the waiter adds its own and removes
 * it when done), or at once when `signal` aborts: the wait of waitForWork and waitForChange.
 */
export async function waitOn(
  wakers: Set<() => void>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => wake?.();
  try {
    await new Promise<void>((resolve) => {
      wake = () => resolve();
      wakers.add(wake);
      timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  } finally {
    clearTimeout(timer);
    if (wake) wakers.delete(wake);
    signal?.removeEventListener("abort", onAbort);
  }
}
