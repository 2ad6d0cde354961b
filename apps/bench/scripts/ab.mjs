#!/usr/bin/env node
// Two builds of taskq side by side, alternated in one series (A B A B ...), so the machine's drift
// hits both: `node apps/bench/scripts/ab.mjs --a DIR --b DIR --rounds 3 -- <taskq-bench flags>`.
// DIR is a checkout of taskq with its packages built (`git worktree add DIR <commit>`, then
// `pnpm install && pnpm build` there). Each round runs `taskq-bench <flags> --repeat 1` once per
// build, each in a fresh process on a fresh workload and store; the table gives each build's
// median throughput and p95 over the rounds with their [min-max], and B against A.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const USAGE = "usage: ab.mjs --a DIR --b DIR [--rounds N] -- <taskq-bench flags>";
const split = process.argv.indexOf("--");
let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2, split < 0 ? undefined : split),
    options: {
      a: { type: "string" },
      b: { type: "string" },
      rounds: { type: "string", default: "3" },
    },
  }));
} catch (error) {
  console.error(`ab.mjs: ${error.message.split("\n")[0]} ${USAGE}`);
  process.exit(2);
}
const benchArgs = split < 0 ? [] : process.argv.slice(split + 1);
const rounds = Number(values.rounds);
if (!values.a || !values.b || !Number.isInteger(rounds) || rounds < 1) {
  console.error(USAGE);
  process.exit(2);
}
const builds = { A: resolve(values.a), B: resolve(values.b) };
const runs = { A: [], B: [] };

for (let round = 1; round <= rounds; round++) {
  for (const [name, dir] of Object.entries(builds)) {
    const out = mkdtempSync(join(tmpdir(), "taskq-ab-"));
    const bin = join(dir, "apps/bench/dist/bin.js");
    const child = spawnSync(process.execPath, [bin, ...benchArgs, "--repeat", "1", "--quiet", "--out", out], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    if (child.status !== 0 && child.status !== 1) {
      console.error(`ab: ${name} (${dir}) failed with exit ${child.status}`);
      process.exit(1);
    }
    const result = JSON.parse(readFileSync(join(out, "benchmark_comparison.json"), "utf8"));
    const run = result.runs.find((r) => r.system === "optimized");
    runs[name].push({ tps: run.throughput_tps, p95: run.p95_latency_ms, seconds: run.duration_seconds });
    rmSync(out, { recursive: true, force: true });
    process.stderr.write(
      `round ${round} ${name}: ${run.throughput_tps.toFixed(0)} tasks/s, p95 ${run.p95_latency_ms.toFixed(1)} ms, ${run.duration_seconds.toFixed(1)} s\n`,
    );
  }
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = (list, key) => {
  const xs = list.map((r) => r[key]);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
};
const fmt = (s, digits) => `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;
console.log(`taskq-bench ${benchArgs.join(" ")} · ${rounds} rounds, alternated A B`);
for (const name of ["A", "B"]) {
  const tps = summary(runs[name], "tps");
  const p95 = summary(runs[name], "p95");
  const seconds = summary(runs[name], "seconds");
  console.log(
    `${name} ${builds[name]}: ${fmt(tps, 0)} tasks/s, p95 ${fmt(p95, 1)} ms, runs of ${fmt(seconds, 1)} s`,
  );
}
const ratio = summary(runs.B, "tps").median / summary(runs.A, "tps").median;
console.log(`B/A throughput (medians): ${(ratio * 100).toFixed(1)}%`);
