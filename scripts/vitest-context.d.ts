// What the vitest global setups provide to tests (`inject(...)`).
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server of this test run (scripts/vitest-postgres.ts). */
    pgUrl: string;
  }
}
