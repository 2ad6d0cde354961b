import { readFileSync } from "node:fs";
import { SETTINGS } from "taskq/app";
import { describe, expect, it } from "vitest";

describe(".env.example", () => {
  it("lists every setting with its built-in default, and nothing else", () => {
    const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
    const entries = Object.fromEntries(
      text
        .split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split("=") as [string, string]),
    );
    const expected = Object.fromEntries(
      Object.values(SETTINGS).map((s) => [s.env, "example" in s ? s.example : String(s.default)]),
    );
    expect(entries).toEqual(expected);
  });
});
