import { taskqConfig } from "../vitest.shared.js";

// The files the fast tier (`pnpm test:unit`) leaves out: see vitest.shared.ts.
export default taskqConfig({ processes: ["test/baseline.test.ts"] });
