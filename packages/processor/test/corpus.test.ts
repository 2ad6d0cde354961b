import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsObjectStore } from "@taskq/storage-sim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadTaskFile, parseTask, TaskFileError, ValidationError } from "../src/index.js";

const corpus = new URL("./corpus/", import.meta.url).pathname;

describe("bad-input corpus (test/corpus)", () => {
  it("a truncated JSON array is a TaskFileError with line and column", async () => {
    await expect(loadTaskFile(join(corpus, "truncated.json"))).rejects.toThrow(TaskFileError);
    await expect(loadTaskFile(join(corpus, "truncated.json"))).rejects.toThrow(
      /truncated\.json: malformed JSON at line 1, column \d+/,
    );
  });

  it("a malformed line of JSON Lines refuses the whole file, with the line, as a bad array is", async () => {
    await expect(loadTaskFile(join(corpus, "malformed.jsonl"))).rejects.toThrow(TaskFileError);
    await expect(loadTaskFile(join(corpus, "malformed.jsonl"))).rejects.toThrow(
      /^\S*malformed\.jsonl line 2: malformed JSON: Unexpected end of JSON input$/,
    );
  });

  it.each(readdirSync(corpus).filter((f) => f !== "truncated.json" && f !== "malformed.jsonl"))(
    "%s: each bad task named with its field; the good ones kept",
    async (name) => {
      const file = await loadTaskFile(join(corpus, name));
      expect(file.tasks.length).toBeGreaterThan(0);
      expect(file.tasks.every((t) => t.id.startsWith("ok-") || t.id === "uni")).toBe(true);
      expect(file.invalid.length).toBeGreaterThan(0);
      for (const bad of file.invalid) {
        expect(bad.message).toMatch(
          /^(task "[^"]*"|task \?) \(.* (item|line) \d+\): field "\w+" |line \d+(, column \d+)?: malformed JSON/,
        );
        expect(bad.message.length).toBeLessThan(400);
      }
    },
  );
});

describe("fuzzing", () => {
  it("parseTask accepts or refuses with a ValidationError naming a field; never anything else", () => {
    const field = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string()),
      fc.object(),
    );
    const task = fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 300 }), field),
        type: fc.oneof(
          fc.constantFrom("image", "compute", "sleep", "http_request", "fail", "noop", "x"),
          field,
        ),
        image_key: fc.oneof(
          fc.string(),
          fc.constantFrom("../a", "/abs", "a\0b", "ok.ppm", "a//b", "."),
          field,
        ),
        variant: fc.oneof(fc.constantFrom("thumb", "gray", "blur", "sepia"), field),
        operation: fc.oneof(fc.constantFrom("factorial", "fibonacci", "double"), field),
        value: fc.oneof(fc.integer(), fc.double(), field),
        duration: fc.oneof(fc.double(), field),
        url: fc.oneof(fc.webUrl(), fc.string(), field),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(task, field), (raw) => {
        try {
          const parsed = parseTask(raw, { position: "fuzz" });
          expect(typeof parsed.idempotencyKey).toBe("string");
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as Error).message).toMatch(
            /^task .*\(fuzz\): (field "\w+" .+|must be a JSON object, got .+)$/,
          );
        }
      }),
      { seed: 2024, numRuns: 3000 },
    );
  });

  it("no key reads or writes outside the object store's root", async () => {
    const base = await mkdtemp(join(tmpdir(), "taskq-confine-"));
    const root = join(base, "root");
    await mkdir(join(base, "outside"), { recursive: true });
    await writeFile(join(base, "outside", "secret"), "s");
    const store = await FsObjectStore.open({ root });
    const segment = fc.oneof(
      fc.constantFrom("..", ".", "", "outside", "secret", "root", "/", "\\", "\0", "a"),
      fc.string({ maxLength: 4 }),
    );
    const key = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join("/"));
    await fc.assert(
      fc.asyncProperty(key, async (k) => {
        await store.putObject("b", k, Buffer.from("x")).catch(() => undefined);
        await store.getObject("b", k).then(
          (s) => s.destroy(),
          () => undefined,
        );
        await store.removeObject("b", k).catch(() => undefined);
      }),
      { seed: 7, numRuns: 400 },
    );
    expect((await readdir(base)).sort()).toEqual(["outside", "root"]);
    expect(await readdir(join(base, "outside"))).toEqual(["secret"]);
  });
});
