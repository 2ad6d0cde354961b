import { readFileSync } from "node:fs";
import { RENAMED, SETTINGS } from "taskq/app";
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

  it("names every setting's old variable, which still works, as a comment only", () => {
    const text = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");
    const comments = text
      .split("\n")
      .filter((line) => line.startsWith("#"))
      .join("\n");
    for (const [, , old] of RENAMED) {
      expect(comments, old).toMatch(new RegExp(`\\b${old}\\b`));
      expect(text, old).not.toMatch(new RegExp(`^${old}=`, "m"));
    }
    expect(RENAMED.map(([name, flag, env]) => [name, flag, env])).toContainEqual([
      "store",
      "db",
      "IDEMPOTENCY_DB_PATH",
    ]);
  });
});
