import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const bin = new URL("../dist/bin.js", import.meta.url).pathname;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh working directory (the CLI keeps its defaults under ./.taskq). */
export function workdir(): string {
  return mkdtempSync(join(tmpdir(), "taskq-cli-"));
}

/** Runs the built `taskq` binary in `cwd` and resolves with its exit code and output. */
export function taskq(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd,
        env: { ...process.env, LOG_LEVEL: "warn", BASE_LATENCY_MS: "1", ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Starts `taskq` without waiting; for signals and concurrent processes. */
export function startTaskq(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: "warn", BASE_LATENCY_MS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<Result>((resolve) => {
    child.on("exit", (code, signal) =>
      resolve({ code: code ?? (signal === "SIGKILL" ? 137 : 1), stdout, stderr }),
    );
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}
