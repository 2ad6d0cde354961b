import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsObjectStore, MemoryObjectStore, SimulatedObjectStore } from "../src/index.js";
import { testObjectStore } from "./driver-suite.js";

for (const io of ["async", "sync"] as const) {
  testObjectStore(`fs (${io} io)`, async () =>
    FsObjectStore.open({ root: await mkdtemp(join(tmpdir(), "taskq-fs-")), chunkSize: 4096, io }),
  );
}
testObjectStore("memory", async () => new MemoryObjectStore({ chunkSize: 4096 }));
testObjectStore(
  "simulated(fs), no latency",
  async () =>
    new SimulatedObjectStore(await FsObjectStore.open({ root: await mkdtemp(join(tmpdir(), "taskq-sim-")) })),
);
