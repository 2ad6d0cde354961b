// A cancel that reaches a worker between the take and the handler's start (issue 38): the attempt
// is aborted or never begins, and the task ends `cancelled`, on threads and inline, on both
// stores. Each round is a new queue, so the cancel lands while its thread still loads the handler
// module (before that thread could hear a cancel at all); the cancel comes from the `started`
// hook, through the queue's own client, which delivers it to this process at once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createQueue, TaskCancelledError } from "../src/index.js";
import { freshDatabase } from "./fresh-database.js";

const untilCancelled = new URL("./fixtures/until-cancelled.mjs", import.meta.url).pathname;

let pgStore = "";
beforeAll(async () => {
  pgStore = await freshDatabase(inject("pgUrl"), "taskq_cancel_race");
});

const stores: [string, () => string][] = [
  ["SQLite", () => join(mkdtempSync(join(tmpdir(), "taskq-cancel-race-")), "tasks.db")],
  ["PostgreSQL", () => pgStore],
];

describe.each(stores)("a cancel right after the take, on %s", (_name, storeOf) => {
  it.each([
    ["a thread", 1],
    ["the main thread", 0],
  ])(
    "on %s: the handler sees ctx.signal abort (or never starts) and the task ends cancelled",
    async (_on, threads) => {
      for (let round = 0; round < 4; round++) {
        const ended: string[] = [];
        let hookRan: () => void = () => undefined;
        // the hook runs once the store has recorded the cancel: result() may see it a moment sooner
        const cancelledHook = new Promise<void>((resolve) => (hookRan = resolve));
        let cancelling: Promise<unknown> = Promise.resolve();
        const queue = await createQueue({
          store: storeOf(),
          handler: untilCancelled,
          kind: `race_${threads}_${round}_${process.pid}_${Date.now().toString(36)}`,
          threads,
          hooks: {
            started: (e) => {
              cancelling = queue.cancel(e.id);
            },
            cancelled: (e) => {
              ended.push(e.id);
              hookRan();
            },
          },
        });
        try {
          const { id } = await queue.enqueue({ round });
          // the handler waits for its signal: a lost cancel leaves this waiting until the test times out
          await expect(queue.result(id)).rejects.toBeInstanceOf(TaskCancelledError);
          await cancelling;
          expect(await queue.get(id)).toMatchObject({ status: "cancelled", attempts: 1 });
          await cancelledHook;
          expect(ended).toEqual([id]);
        } finally {
          await queue.close();
        }
      }
    },
  );
});
