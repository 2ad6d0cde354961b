// Fair groups (issue 35) through the library, on SQLite and on a real PostgreSQL: one tenant's
// big backlog enqueued first does not starve nine tenants that enqueue 100 tasks each after it.
//
// The bound, from the rotation rule (docs/architecture.md §5.3): a grouped kind's take draws the
// head of each group with due tasks in turn, from the group after the one the last take ended on.
// A worker of concurrency W = 4 with no prefetch takes at most 4 tasks a take, so (a share of one
// each: ceil(4 / 5 places walked) on PostgreSQL, one head per group per pass on SQLite) its starts
// follow the groups' cycle exactly: while the ten groups all have due tasks, the big group gets one
// start in every ten. The nine small groups' 900 tasks have all started within the first 100
// cycles (1,000 starts), of which the big group had at most 100 (101 with the cycle the take
// began in). A big task started after the last small task started can finish before it only if it
// ran beside it: at most W - 1 = 3. So at most B = 104 big tasks finish before the last small
// one, where a take in queue order would finish the whole backlog first. The per-group cap (4)
// does not bind here (W = 4). Sizes: 100,000 big tasks on SQLite, 20,000 on PostgreSQL (its
// enqueue of 100,000 takes long on this 2-core machine; the bound does not depend on it).
// Waits are on events (the succeeded hook), never on the clock.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, createWorker, type TaskEvent } from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const echo = new URL("./fixtures/echo.mjs", import.meta.url).pathname;
const W = 4;
const SMALL_GROUPS = 9;
const SMALL = 100;
const BOUND = SMALL + 1 + (W - 1);

let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_groups");
});
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe.each([
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-groups-")), "tasks.db"), 100_000],
  ["PostgreSQL", () => pgStore, 20_000],
] as const)("fair groups on %s", (_name, storeOf, bigCount) => {
  it(`nine small groups enqueued after a big group's ${bigCount.toLocaleString("en")} tasks all finish before ${BOUND} of the big group's`, async () => {
    const store = storeOf();
    const kind = "import";
    const client = await connect({ store });
    closers.push(() => client.close());
    await client.setLimits(kind, { perGroup: { concurrency: W } });
    const big = new Set<string>();
    for (let i = 0; i < bigCount; i += 10_000) {
      const payloads = Array.from({ length: Math.min(10_000, bigCount - i) }, (_, j) => ({ n: i + j }));
      for (const e of await client.enqueueMany(kind, payloads, { group: "big" })) big.add(e.id);
    }
    const small = new Map<string, string>();
    for (let g = 1; g <= SMALL_GROUPS; g++) {
      const payloads = Array.from({ length: SMALL }, (_, j) => ({ g, n: j }));
      for (const e of await client.enqueueMany(kind, payloads, { group: `tenant-${g}` }))
        small.set(e.id, `tenant-${g}`);
    }
    expect((await client.get([...small.keys()][0] as string))?.group).toBe("tenant-1");

    // every finish in the order the store recorded it; done once the small groups all finished
    const finished: string[] = [];
    let smallLeft = small.size;
    let allSmallDone: () => void = () => undefined;
    const smallDone = new Promise<void>((resolve) => (allSmallDone = resolve));
    const worker = await createWorker({
      store,
      handlers: { [kind]: echo },
      threads: 0,
      concurrency: W,
      prefetch: 0,
      hooks: {
        succeeded: (e: TaskEvent) => {
          finished.push(e.id);
          if (small.has(e.id) && --smallLeft === 0) allSmallDone();
        },
      },
    });
    closers.push(() => worker.close());
    await smallDone;

    const lastSmall = finished.findLastIndex((id) => small.has(id));
    const bigBefore = finished.slice(0, lastSmall).filter((id) => big.has(id)).length;
    expect(bigBefore).toBeLessThanOrEqual(BOUND);
    // and the big group was not starved either: it ran in its turn all along
    expect(bigBefore).toBeGreaterThanOrEqual(SMALL - 1);
    // each small group finished all of its tasks
    const perGroup = new Map<string, number>();
    for (const id of finished)
      if (small.has(id))
        perGroup.set(small.get(id) as string, (perGroup.get(small.get(id) as string) ?? 0) + 1);
    expect([...perGroup.values()]).toEqual(Array(SMALL_GROUPS).fill(SMALL));
  });
});
