import { taskqConfig } from "../../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({
  postgres: ["test/bench.test.ts", "test/history-run.test.ts", "test/writes.test.ts"],
});
