/**
 * The first SIGINT or SIGTERM asks for a graceful stop; a second one forces it. Returns the
 * signal that arrived first (undefined while none has) and a function that removes the handlers.
 */
export function handleSignals(graceful: (signal: NodeJS.Signals) => void, force: () => void) {
  let first: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = signal;
      process.stderr.write(
        `taskq: ${signal} received, finishing in-flight work (send it again to stop at once)\n`,
      );
      graceful(signal);
    } else {
      process.stderr.write(`taskq: ${signal} received again, stopping now; unfinished tasks stay queued\n`);
      force();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    get signal() {
      return first;
    },
    /** The exit code for a stop by signal: 130 for SIGINT, 0 for a graceful SIGTERM. */
    get exitCode() {
      return first === "SIGINT" ? 130 : 0;
    },
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
