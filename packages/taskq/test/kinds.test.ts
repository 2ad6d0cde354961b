// The one kind registry: handler modules and the built-in task types are found through it alike.
import { BUILT_IN_TYPES, TASK_TYPES } from "@taskq/processor";
import { describe, expect, it } from "vitest";
import { BUILT_IN_KINDS, KindRegistry, registerKinds } from "../src/kinds.js";

const echo = new URL("./fixtures/echo.mjs", import.meta.url);

describe("the kind registry", () => {
  it("registers the built-in task types when given no handler modules: each kind, its runner", async () => {
    const registry = await registerKinds(undefined);
    expect(registry.builtIn).toBe(true);
    expect(registry.kinds).toEqual([...TASK_TYPES]);
    expect(BUILT_IN_KINDS).toEqual(registry.kinds);
    expect(registry.modules).toEqual([]);
    for (const kind of TASK_TYPES) expect(registry.get(kind)).toEqual({ kind, run: BUILT_IN_TYPES[kind] });
    expect(registry.get("email")).toBeUndefined();
  });

  it("registers handler modules by kind, loaded and checked, and no built-in type beside them", async () => {
    const registry = await registerKinds({ email: echo, report: echo });
    expect(registry.builtIn).toBe(false);
    expect(registry.kinds).toEqual(["email", "report"]);
    expect(registry.modules.map((m) => [m.kind, m.url])).toEqual([
      ["email", echo.href],
      ["report", echo.href],
    ]);
    expect(typeof (registry.get("email") as { handler: unknown }).handler).toBe("function");
    expect(registry.get("noop")).toBeUndefined();
  });

  it("refuses a bad kind or module, naming it, as before", async () => {
    await expect(KindRegistry.load({ "no spaces": echo })).rejects.toThrow(
      /handlers kind must be a short plain identifier/,
    );
    await expect(registerKinds({})).rejects.toThrow(/handlers needs at least one kind/);
  });
});
