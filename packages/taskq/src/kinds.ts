// Task kinds: every task has one, and a worker runs only the kinds it has handlers for. A kind
// maps to a handler module; the registry is checked and loaded once, on the main thread, before
// anything starts (threads load the same modules by URL).
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { KIND_PATTERN } from "@taskq/idempotency";
import { TASK_TYPES } from "@taskq/processor";
import { ConfigError } from "./errors.js";
import { type Handler, handlerUrl, loadHandler } from "./handler.js";

/** A kind: a short plain identifier (it names tasks in the store, the CLI and the metrics). */
export { KIND_PATTERN };

/** The kinds of the built-in task types (`taskq run`/`serve` without a handler serve these). */
export const BUILT_IN_KINDS: readonly string[] = TASK_TYPES;

/** Throws a ConfigError naming `where` unless `kind` is a short plain identifier. */
export function checkKind(kind: unknown, where = "kind"): string {
  if (typeof kind !== "string" || !KIND_PATTERN.test(kind))
    throw new ConfigError(
      where,
      `${where} must be a short plain identifier (letters, digits, _ . -; up to 64, not starting with a digit), got ${JSON.stringify(kind)}`,
    );
  return kind;
}

/** Handler modules by kind: `{ resize: "./resize.mjs", email: new URL(...) }`. */
export type HandlerModules = Readonly<Record<string, string | URL>>;

/** A handler module, checked and loaded, with the URL threads load it from. */
export interface LoadedKind {
  readonly kind: string;
  readonly url: string;
  readonly handler: Handler;
}

/** The kind a lone handler module gets: its file name without the extension (`primes.mjs` → `primes`). */
export function kindOfModule(module: string | URL, where = "handler"): string {
  const url = handlerUrl(module);
  const name = basename(url.startsWith("file:") ? fileURLToPath(url) : url);
  const kind = name.slice(0, name.length - extname(name).length);
  if (!KIND_PATTERN.test(kind))
    throw new ConfigError(
      where,
      `${where} ${String(module)}: its file name (${JSON.stringify(kind)}) is not a usable kind; name the kind (kind: "name", or --handler name=FILE)`,
    );
  return kind;
}

/** Checks every kind name and loads every module (in parallel); a bad one throws a ConfigError naming it. */
export async function loadKinds(modules: HandlerModules, where = "handlers"): Promise<LoadedKind[]> {
  if (modules === null || typeof modules !== "object" || Array.isArray(modules))
    throw new ConfigError(
      where,
      `${where} must be an object { kind: module }, got ${JSON.stringify(modules)}`,
    );
  const entries = Object.entries(modules);
  if (entries.length === 0)
    throw new ConfigError(where, `${where} needs at least one kind: { kind: module }`);
  return Promise.all(
    entries.map(async ([kind, module]) => {
      checkKind(kind, `${where} kind`);
      const url = handlerUrl(module);
      return { kind, url, handler: await loadHandler(url, String(module)) };
    }),
  );
}
