// Vitest global setup shared by every package: each test run gets its own temporary directory
// (TMPDIR, which os.tmpdir() and every child process follow), removed when the run ends, so
// the stores, objects and 64 MiB files the tests create never pile up in the system's /tmp.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "taskq-test-run-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
