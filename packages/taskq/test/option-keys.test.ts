import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/index.js";
import { checkOptionKeys, closest, editDistance } from "../src/option-keys.js";

describe("checkOptionKeys, for every options object of the API", () => {
  it("edit distance counts inserts, deletes, substitutions and swaps of neighbours", () => {
    expect(editDistance("stor", "store")).toBe(1);
    expect(editDistance("stroe", "store")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("suggests the nearest key when it is near enough, case aside, or when one holds the other", () => {
    const known = ["store", "threads", "queueSize", "leaseMs", "key"];
    expect(closest("stor", known)).toBe("store");
    expect(closest("QUEUESIZE", known)).toBe("queueSize");
    expect(closest("lease", known)).toBe("leaseMs");
    expect(closest("workers", known)).toBeUndefined();
    expect(closest("monkey", known)).toBeUndefined(); // holds "key", but a 3-letter key is no hint
  });

  it("throws a ConfigError naming the first unknown key, with its path inside a nested object", () => {
    expect(() => checkOptionKeys({ store: 1, threads: 2 }, ["store", "threads"])).not.toThrow();
    expect(() => checkOptionKeys({ stor: 1 }, ["store"])).toThrow(
      new ConfigError("stor", 'unknown option "stor": did you mean "store"?'),
    );
    const error = (() => {
      try {
        checkOptionKeys({ atempts: 1 }, ["attempts", "baseMs"], "retry");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({
      name: "ConfigError",
      option: "retry.atempts",
      message: 'unknown option "retry.atempts": did you mean "retry.attempts"?',
    });
    expect(() => checkOptionKeys({ x: 1 }, ["attempts", "baseMs"], "retry")).toThrow(
      'unknown option "retry.x" (the options of retry are attempts, baseMs)',
    );
  });
});
