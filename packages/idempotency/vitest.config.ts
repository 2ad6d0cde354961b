import { taskqConfig } from "../../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({
  postgres: [
    "test/connection-loss.test.ts",
    "test/drivers.test.ts",
    "test/legacy-stores.test.ts",
    "test/model.test.ts",
    "test/postgres.test.ts",
  ],
});
