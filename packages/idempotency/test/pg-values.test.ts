import { describe, expect, it } from "vitest";
import { pgValue } from "../src/postgres/pg-values.js";

describe("pgValue: arrays for pg as PostgreSQL array literals", () => {
  it('writes strings quoted with `\\` and `"` escaped, numbers, booleans and nulls as they are', () => {
    expect(pgValue(['a"b', "c\\d", "", "NULL", "x,y{z}", "é ✓ 🙂"])).toBe(
      '{"a\\"b","c\\\\d","","NULL","x,y{z}","é ✓ 🙂"}',
    );
    expect(pgValue([1, -2, 0.5, true, false, null, undefined])).toBe("{1,-2,0.5,true,false,null,null}");
    expect(pgValue([])).toBe("{}");
  });

  it("leaves to pg what JSON would write otherwise: control characters, lone surrogates, other types", () => {
    for (const odd of [
      ["line\nbreak"],
      ["\u0001"],
      ["\ud800"],
      ["x\udc00"],
      [Number.NaN],
      [[1]],
      [new Date(0)],
    ]) {
      expect(pgValue(odd)).toBe(odd);
    }
    expect(pgValue("text")).toBe("text");
    expect(pgValue(null)).toBe(null);
  });
});
