// The fault injector: one fault at a time, at seeded times, until the run's end. The first
// faults go through every kind once (in a seeded order), injected however slow the machine is;
// then seeded picks until the end. Each is recorded in the fleet log with its time (and its end, where it lasts).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import pg from "pg";
import type { Fleet, Member } from "./fleet.js";
import type { Rng } from "./prng.js";
import { sleep } from "./record.js";
import { type FaultKind, WORKER_SETTINGS } from "./workload.js";

export interface FaultContext {
  readonly fleet: Fleet;
  readonly draw: Rng;
  /** The store's URL (PostgreSQL faults). */
  readonly pgUrl?: string;
  /** pg_ctl on the run's own server (the restart). */
  readonly pgCtl?: (args: string[]) => unknown;
  /** Starts the next producer incarnation. */
  readonly restartProducer: () => Promise<void>;
}

/**
 * The order of the faults: each kind once, shuffled (but the producer's kill first: the producer
 * lives only until the run's deadline), then seeded picks.
 */
export function faultPlan(kinds: readonly FaultKind[], draw: Rng, count: number): FaultKind[] {
  const first = [...kinds];
  for (let i = first.length - 1; i > 0; i--) {
    const j = draw.int(0, i);
    [first[i], first[j]] = [first[j] as FaultKind, first[i] as FaultKind];
  }
  const producer = first.indexOf("kill-producer");
  if (producer > 0) first.unshift(...first.splice(producer, 1));
  const plan = first.slice(0, count);
  while (plan.length < count) plan.push(draw.pick(kinds));
  return plan;
}

/** How long past `until` the first round may still go, ms: a loaded machine is slow, not exempt. */
const FIRST_ROUND_GRACE_MS = 60_000;

/**
 * Runs the faults of the plan, one after another, until `until` (epoch ms). The first `firstRound`
 * (each kind once) are injected whatever the time, waiting for a victim when there is none yet (a
 * worker still starting), so a slow machine injects each kind too; the rest stop at `until`.
 */
export async function injectFaults(
  ctx: FaultContext,
  plan: readonly FaultKind[],
  until: number,
  firstRound = 0,
): Promise<void> {
  for (const [i, fault] of plan.entries()) {
    await sleep(ctx.draw.int(800, 2200));
    if (i >= firstRound) {
      if (Date.now() >= until) return;
      await inject(ctx, fault);
      continue;
    }
    while (!(await inject(ctx, fault)) && Date.now() < until + FIRST_ROUND_GRACE_MS) await sleep(250);
  }
}

function pickWorker(ctx: FaultContext): Member | undefined {
  const live = [...ctx.fleet.workers].filter((m) => !m.stopped && !m.expected);
  return live.length === 0 ? undefined : ctx.draw.pick(live);
}

/** Injects one fault; false when it had no victim (no live worker, no producer, no server). */
async function inject(ctx: FaultContext, fault: FaultKind): Promise<boolean> {
  const { fleet } = ctx;
  switch (fault) {
    case "kill-worker": {
      const victim = pickWorker(ctx);
      if (!victim) return false;
      fleet.record({ ev: fault, t: Date.now(), pid: victim.pid });
      await fleet.kill(victim);
      await fleet.startWorker(); // its replacement: the fleet keeps its size
      return true;
    }
    case "stop-worker": {
      const victim = pickWorker(ctx);
      if (!victim) return false;
      // past the lease, so its tasks are taken over while it is frozen
      const ms = ctx.draw.int(WORKER_SETTINGS.leaseMs * 1.5, WORKER_SETTINGS.leaseMs * 2.5);
      const t = Date.now();
      victim.stopped = true;
      victim.child.kill("SIGSTOP");
      await sleep(ms);
      victim.child.kill("SIGCONT");
      victim.stopped = false;
      fleet.record({ ev: fault, t, tEnd: Date.now(), pid: victim.pid });
      return true;
    }
    case "kill-producer": {
      const producer = fleet.producer;
      if (!producer || producer.expected) return false;
      fleet.record({ ev: fault, t: Date.now(), pid: producer.pid });
      await fleet.kill(producer);
      await ctx.restartProducer();
      return true;
    }
    case "pg-terminate": {
      if (!ctx.pgUrl) return false;
      const t = Date.now();
      const ports = [...fleet.workers].flatMap((m) => tcpPortsOf(m.pid));
      const admin = new pg.Client({ connectionString: ctx.pgUrl, application_name: "taskq-history" });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          "SELECT pid, pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()",
          [ports],
        );
        fleet.record({ ev: fault, t, tEnd: Date.now(), detail: `${rows.length} worker connections` });
      } finally {
        await admin.end();
      }
      return true;
    }
    case "pg-restart": {
      if (!ctx.pgCtl) return false;
      const t = Date.now();
      ctx.pgCtl(["restart", "-m", "immediate"]);
      fleet.record({ ev: fault, t, tEnd: Date.now() });
      return true;
    }
  }
}

/**
 * The local TCP ports of a process's sockets (Linux /proc): its connections to the server, as
 * pg_stat_activity.client_port names them, so only the workers' backends are terminated, not
 * the producer's or the run's own.
 */
export function tcpPortsOf(pid: number): number[] {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // an fd closed meanwhile
      }
    }
    const ports: number[] = [];
    for (const table of ["tcp", "tcp6"]) {
      let text = "";
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
      } catch {
        continue;
      }
      for (const line of text.split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        const local = f[1];
        if (local && f[9] && inodes.has(f[9])) ports.push(Number.parseInt(local.split(":")[1] ?? "0", 16));
      }
    }
    return ports;
  } catch {
    return [];
  }
}
