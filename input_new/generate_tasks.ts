// generate_tasks: N tasks (seeded, ~10% duplicate keys) and the PPM source images they name.
//
// Usage: tsx generate_tasks.ts --count N --out tasks.json [--storage DIR] [--duplicates 0.1]
//          [--size WxH] [--seed S] [--kind image|noop]
//        tsx generate_tasks.ts --images-for tasks.json [--storage DIR] [--size WxH]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ensureImages, generateTasks, loadTaskFile, parseTask } from "@taskq/processor";
import { FsObjectStore } from "@taskq/storage-sim";

function fail(message: string): never {
  process.stderr.write(`generate_tasks: ${message}\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      count: { type: "string" },
      out: { type: "string" },
      storage: { type: "string", default: ".taskq/objects" },
      duplicates: { type: "string", default: "0.1" },
      size: { type: "string", default: "64x48" },
      seed: { type: "string", default: "1" },
      kind: { type: "string", default: "image" },
      "images-for": { type: "string" },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
const size = /^(\d+)x(\d+)$/.exec(String(values["size"]));
if (!size) fail(`--size must look like 64x48, got ${JSON.stringify(values["size"])}`);
const dims = { width: Number(size[1]), height: Number(size[2]) };
const store = await FsObjectStore.open({ root: String(values["storage"]) });

if (values["images-for"]) {
  const file = await loadTaskFile(String(values["images-for"])).catch((error: Error) => fail(error.message));
  const written = await ensureImages(store, file.tasks, { size: dims });
  console.log(`wrote ${written} source images for ${values["images-for"]} into ${values["storage"]}`);
} else {
  if (!values["count"] || !values["out"]) fail("--count and --out are required (or --images-for FILE)");
  const kind = values["kind"];
  if (kind !== "image" && kind !== "noop") fail(`--kind must be image or noop, got ${JSON.stringify(kind)}`);
  let workload: ReturnType<typeof generateTasks>;
  try {
    workload = generateTasks({
      count: Number(values["count"]),
      duplicates: Number(values["duplicates"]),
      seed: Number(values["seed"]),
      size: dims,
      kind,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const written = await ensureImages(
    store,
    workload.tasks.map((t) => parseTask(t)),
    { size: dims },
  );
  writeFileSync(String(values["out"]), `${JSON.stringify(workload.tasks, null, 1)}\n`);
  console.log(
    `wrote ${workload.tasks.length} tasks (${workload.uniqueKeys} unique keys) to ${values["out"]} and ${written} images into ${values["storage"]}`,
  );
}
