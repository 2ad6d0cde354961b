import { writeFile } from "node:fs/promises";
import { ensureImages, generateTasks, parseTask } from "@taskq/processor";
import { FsObjectStore } from "@taskq/storage-sim";
import { CliError, envDefault, integerAtLeast, integerRule, numberBetween } from "taskq/app";
import type { Argv } from "yargs";

export function parseSize(value: unknown): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(String(value));
  const size = m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
  if (!size || size.width < 1 || size.height < 1 || size.width > 16_384 || size.height > 16_384) {
    throw new CliError(`--size must look like 64x48 (1 to 16384 each), got ${JSON.stringify(value)}`, 2);
  }
  return size;
}

export const generateCommand = {
  command: "generate",
  describe: "Write a task file (seeded, ~10% duplicate keys) and the source images it names",
  builder: (y: Argv) =>
    y
      .option("count", {
        requiresArg: true,
        demandOption: true,
        coerce: integerAtLeast("count", 1),
        describe: "tasks to write",
      })
      .option("out", { type: "string", demandOption: true, describe: "task file to write (JSON array)" })
      .option("size", {
        type: "string",
        default: "64x48",
        coerce: parseSize,
        describe: "source image size WxH",
      })
      .option("duplicates", {
        requiresArg: true,
        default: 0.1,
        coerce: numberBetween("duplicates", 0, 0.99),
        describe: "share of repeated keys",
      })
      .option("seed", {
        requiresArg: true,
        default: envDefault("seed", integerRule(0)) as number,
        coerce: integerAtLeast("seed", 0),
        describe: "seed (SEED)",
      })
      .option("kind", {
        choices: ["image", "noop"] as const,
        default: "image" as const,
        describe: "image tasks or no-op tasks",
      })
      .option("storage", {
        type: "string",
        default: envDefault("storage") as string,
        describe: "object store directory (STORAGE_DIR)",
      })
      .example("taskq generate --count 1000 --out tasks.json", "1000 tasks over ~300 64x48 images")
      .example("taskq generate --count 50 --size 1024x1024 --out big.json", "large images (CPU-bound work)"),
  handler: async (argv: {
    count: number;
    out: string;
    size: { width: number; height: number };
    duplicates: number;
    seed: number;
    kind: "image" | "noop";
    storage: string;
  }) => {
    const workload = generateTasks({
      count: argv.count,
      duplicates: argv.duplicates,
      seed: argv.seed,
      size: argv.size,
      kind: argv.kind,
    });
    const store = await FsObjectStore.open({ root: argv.storage });
    const written = await ensureImages(
      store,
      workload.tasks.map((t) => parseTask(t)),
      { size: argv.size },
    );
    await writeFile(argv.out, `${JSON.stringify(workload.tasks, null, 1)}\n`);
    console.log(
      `wrote ${workload.tasks.length} tasks (${workload.uniqueKeys} unique keys) to ${argv.out} and ${written} images into ${argv.storage}`,
    );
  },
};
