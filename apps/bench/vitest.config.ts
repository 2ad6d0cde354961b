import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: { globalSetup: [new URL("../../scripts/vitest-postgres.ts", import.meta.url).pathname] },
  }),
);
