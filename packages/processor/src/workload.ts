import { createRng, deriveSeed, type ObjectStore, StorageError } from "@taskq/storage-sim";
import { syntheticPpm } from "./image/synthetic.js";
import { type Task, VARIANTS } from "./task-schema.js";

/** What to generate. */
export interface WorkloadOptions {
  /** Tasks in the file. */
  readonly count: number;
  /**
   * Share of tasks that repeat an earlier task's idempotency key (with a new id).
   * @default 0.1
   */
  readonly duplicates?: number;
  /**
   * `image`: image tasks and their source images; `noop`: tasks that do nothing (queue overhead).
   * @default "image"
   */
  readonly kind?: "image" | "noop";
  /**
   * Source image size in pixels.
   * @default { width: 64, height: 48 }
   */
  readonly size?: { readonly width: number; readonly height: number };
  /**
   * Seed of every random choice, so a workload can be made again byte for byte.
   * @default 1
   */
  readonly seed?: number;
}

/** A generated workload: the tasks (wire format) and the images they name. */
export interface Workload {
  readonly tasks: Record<string, unknown>[];
  readonly images: string[];
  readonly uniqueKeys: number;
}

/** The image a task names, as a deterministic function of its key (so anyone can recreate it). */
export function imageSeed(imageKey: string): number {
  return deriveSeed(0, imageKey);
}

function check(options: WorkloadOptions): Required<WorkloadOptions> {
  const { count } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`count must be a positive integer, got ${count}`);
  const duplicates = options.duplicates ?? 0.1;
  if (!(duplicates >= 0 && duplicates < 1))
    throw new RangeError(`duplicates must be in [0, 1), got ${duplicates}`);
  const size = options.size ?? { width: 64, height: 48 };
  if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < 1 || size.height < 1) {
    throw new RangeError(`size must be two positive integers, got ${size.width}x${size.height}`);
  }
  return { count, duplicates, size, kind: options.kind ?? "image", seed: options.seed ?? 1 };
}

/**
 * Generates N tasks with ~`duplicates` of them repeating an earlier key, seeded. Image tasks
 * cycle through the variants, three per image, so each image is written once.
 */
export function generateTasks(options: WorkloadOptions): Workload {
  const { count, duplicates, kind, seed } = check(options);
  const random = createRng(seed);
  const tasks: Record<string, unknown>[] = [];
  const images: string[] = [];
  let unique = 0;
  for (let i = 0; i < count; i++) {
    const id = `t-${String(i + 1).padStart(5, "0")}`;
    if (i > 0 && random() < duplicates) {
      const earlier = tasks[Math.floor(random() * tasks.length)] as Record<string, unknown>;
      tasks.push({ ...earlier, id });
      continue;
    }
    if (kind === "noop") {
      tasks.push({ id, type: "noop", idempotency_key: `noop-${seed}-${unique}` });
    } else {
      const image = Math.floor(unique / VARIANTS.length);
      const imageKey = `img-${String(image + 1).padStart(5, "0")}.ppm`;
      if (unique % VARIANTS.length === 0) images.push(imageKey);
      tasks.push({ id, image_key: imageKey, variant: VARIANTS[unique % VARIANTS.length] });
    }
    unique++;
  }
  return { tasks, images, uniqueKeys: unique };
}

/**
 * Writes the source image of every image task that names one not in the store yet (streamed,
 * row by row). Returns how many were written.
 */
export async function ensureImages(
  store: ObjectStore,
  tasks: readonly Task[],
  options: {
    readonly bucket?: string;
    readonly size?: { width: number; height: number };
    readonly chunkSize?: number;
  } = {},
): Promise<number> {
  const bucket = options.bucket ?? "images";
  const size = options.size ?? { width: 64, height: 48 };
  const keys = new Set(tasks.flatMap((t) => (t.type === "image" ? [t.imageKey] : [])));
  let written = 0;
  for (const key of keys) {
    try {
      await store.statObject(bucket, key);
      continue;
    } catch (error) {
      if (!(error instanceof StorageError) || error.code !== "ERR_NOT_FOUND") throw error;
    }
    await store.putObject(
      bucket,
      key,
      syntheticPpm(size.width, size.height, imageSeed(key), options.chunkSize),
    );
    written++;
  }
  return written;
}
