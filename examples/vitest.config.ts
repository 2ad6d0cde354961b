import { taskqConfig } from "../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({
  postgres: ["test/transactional-enqueue.test.ts"],
  processes: ["test/examples.test.ts"],
});
