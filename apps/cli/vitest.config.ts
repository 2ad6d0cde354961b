import { taskqConfig } from "../../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({
  postgres: ["test/bad-input.test.ts", "test/postgres.test.ts"],
  processes: ["test/cli.test.ts", "test/reliability.test.ts", "test/store-password.test.ts"],
});
