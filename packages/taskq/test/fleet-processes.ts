// Worker processes for the fleet tests (fixtures/fleet/worker.mjs), killed after each test.
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach } from "vitest";

export const fleet = (name: string) => new URL(`./fixtures/fleet/${name}.mjs`, import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/**
 * Starts a worker process for `kinds` and resolves once it says it is ready. With `events` (a
 * file), its tasks record their starts and finishes there.
 */
export function startWorker(
  store: string,
  name: string,
  kinds: string[],
  events?: string,
): Promise<ChildProcess> {
  const args = [fleet("worker"), store, name, kinds.join(","), ...(events ? [events] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker ${name} exited early (${code})`)));
  });
}
