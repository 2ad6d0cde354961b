import { taskqConfig } from "../../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({
  postgres: [
    "test/cancel-race.test.ts",
    "test/client.test.ts",
    "test/correlation.test.ts",
    "test/create-queue.test.ts",
    "test/fleet-time.test.ts",
    "test/fleet.test.ts",
    "test/groups-fairness.test.ts",
    "test/limits.test.ts", // through gated-fleet.ts
    "test/progress.test.ts",
    "test/time.test.ts",
    "test/trace.test.ts",
    "test/under-load.test.ts", // through gated-fleet.ts
  ],
  install: ["test/pack.test.ts"],
});
