import { type Classified, TransientError } from "./errors.js";

/** The failure every attempt in flight on a thread gets when code on that thread crashes it. */
export type CrashOutcome = { readonly ok: false; readonly error: Classified; readonly runMs: number };

const inFlight = new Set<(message: string) => void>();
let installed = false;

function crashAll(message: string): void {
  for (const fail of [...inFlight]) fail(message);
}

function install(): void {
  if (installed) return;
  installed = true;
  // tinypool 2 settles a thread's tasks only when the thread emits "error": a thread that calls
  // process.exit() would leave them pending forever. Code running here gets a thrown error.
  process.exit = ((code?: number) => {
    throw new TransientError(`process.exit(${code ?? ""}) called inside a worker task`, "worker_crash");
  }) as typeof process.exit;
  // An exception thrown outside any attempt (a stray callback) would kill the thread, and tinypool
  // terminating a thread while Node reports that exception can abort the whole process (a V8
  // fatal error seen on Node 20). Instead every attempt in flight on this thread fails as a
  // retryable worker_crash, and the thread lives on.
  process.on("uncaughtException", (error) =>
    crashAll(`uncaught exception in worker thread: ${error.message}`),
  );
  process.on("unhandledRejection", (reason) =>
    crashAll(
      `unhandled rejection in worker thread: ${reason instanceof Error ? reason.message : String(reason)}`,
    ),
  );
}

/**
 * Wraps a worker entry so that a crash of its thread (process.exit, an uncaught exception, an
 * unhandled rejection) fails the attempts in flight as retryable `worker_crash` outcomes instead
 * of killing the thread. Both the processor's worker and test workers use it.
 */
export function guardWorker<Request, Outcome>(
  run: (request: Request) => Promise<Outcome>,
): (request: Request) => Promise<Outcome | CrashOutcome> {
  install();
  return (request) =>
    new Promise<Outcome | CrashOutcome>((resolve, reject) => {
      const start = performance.now();
      const fail = (message: string) =>
        resolve({
          ok: false,
          error: { errorClass: "worker_crash", retryable: true, message },
          runMs: performance.now() - start,
        });
      inFlight.add(fail);
      run(request)
        .then(resolve, reject)
        .finally(() => inFlight.delete(fail));
    });
}
