import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const distUrl = new URL("../dist/index.js", import.meta.url).href;

export function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), "taskq-store-")), "tasks.db");
}

/** The pid of a process that has exited. */
export function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString(),
  );
}

/** Runs an ES module snippet in a new node process and resolves with its stdout. */
export function runNode(source: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
  });
}

/** Starts a process that holds the database's write lock until killed; resolves once it holds it. */
export function holdWriteLock(path: string): Promise<{ release: () => void }> {
  const source = `
    import Database from "better-sqlite3";
    const db = new Database(${JSON.stringify(path)});
    db.prepare("BEGIN IMMEDIATE").run();
    console.log("locked");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "inherit"],
    cwd: new URL("..", import.meta.url).pathname,
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    createInterface({ input: child.stdout }).once("line", () =>
      resolve({ release: () => child.kill("SIGKILL") }),
    );
  });
}
