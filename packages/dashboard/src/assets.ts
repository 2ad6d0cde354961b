import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** A file the page loads, held in memory: served from the package, no CDN. */
export interface Asset {
  readonly type: string;
  readonly body: string;
}

const require = createRequire(import.meta.url);

/** The package's own files: next to the built module (dist/), or in public/ beside src/. */
function own(name: string): string {
  for (const url of [new URL(`./${name}`, import.meta.url), new URL(`../public/${name}`, import.meta.url)]) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return readFileSync(path, "utf8");
  }
  throw new Error(`@taskq/dashboard: its asset ${name} is missing (a broken install?)`);
}

let cache: ReadonlyMap<string, Asset> | undefined;

/** Every asset by file name, read once. */
export function assets(): ReadonlyMap<string, Asset> {
  cache ??= new Map<string, Asset>([
    ["dashboard.js", { type: "text/javascript; charset=utf-8", body: own("dashboard.js") }],
    ["dashboard.css", { type: "text/css; charset=utf-8", body: own("dashboard.css") }],
    [
      "uPlot.iife.min.js",
      {
        type: "text/javascript; charset=utf-8",
        body: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
      },
    ],
    [
      "uPlot.min.css",
      {
        type: "text/css; charset=utf-8",
        body: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
      },
    ],
  ]);
  return cache;
}
