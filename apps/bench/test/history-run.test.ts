// The history run for real, short: a producer and workers (three on PostgreSQL) under every
// fault that applies, with a fixed seed, then the checker. No violation, and every fault kind
// injected at least once. On PostgreSQL the run starts a throwaway server of its own (the shared
// one of the test run must not be restarted under the other tests).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatViolation } from "../src/history/model.js";
import type { HistoryReport } from "../src/history/run.js";
import { faultsFor } from "../src/history/workload.js";

const bin = new URL("../dist/bin.js", import.meta.url).pathname;

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("taskq-bench history: every promise under faults", () => {
  for (const store of ["sqlite", "postgres"] as const) {
    it(`${store}: no violation, every fault injected`, { timeout: 240_000 }, async () => {
      // kept when the test fails: the history files are what explains a violation
      const out = mkdtempSync(join(tmpdir(), `taskq-history-${store}-`));
      {
        const { code, stderr } = await bench([
          "history",
          "--store",
          store,
          "--seconds",
          "35",
          "--seed",
          "7",
          "--out",
          out,
          "--quiet",
        ]);
        const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as HistoryReport;
        for (const fault of faultsFor(store, true))
          expect(report.injected[fault] ?? 0, fault).toBeGreaterThan(0);
        expect(report.attempts).toBeGreaterThan(100);
        expect(report.violations.map(formatViolation), `history files in ${out}`).toEqual([]);
        expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
