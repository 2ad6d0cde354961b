// Task kinds: every task has one, and a runtime runs only the kinds registered in it. The one
// registry (KindRegistry) maps each kind to what runs it: a handler module, checked and loaded
// once on the main thread before anything starts (threads load the same modules by URL), or one
// of the built-in task types, registered from @taskq/processor's BUILT_IN_TYPES (the table its
// processor finds a task's code in, on the threads too). A runtime registers its handler modules
// or, given none, the built-in types; the kinds it takes, its executor and how it prepares a
// payload all follow from its registry.
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { KIND_PATTERN } from "@taskq/idempotency";
import { BUILT_IN_TYPES, type BuiltInRunner, builtInRunner, type TaskType } from "@taskq/processor";
import { ConfigError } from "./errors.js";
import { type Handler, handlerUrl, loadHandler } from "./handler.js";

/** A kind: a short plain identifier (it names tasks in the store, the CLI and the metrics). */
export { KIND_PATTERN };

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

/** A kind a handler module runs: the module checked and loaded, with the URL threads load it from. */
export interface LoadedKind {
  readonly kind: string;
  readonly url: string;
  readonly handler: Handler;
}

/** A kind a built-in task type runs: its schema (parseTask) checks the tasks, `run` runs them. */
export interface BuiltInKind {
  readonly kind: TaskType;
  readonly run: BuiltInRunner;
}

/** What runs the tasks of one kind. */
export type KindEntry = LoadedKind | BuiltInKind;

/**
 * The kinds a runtime runs, each with what runs it, in the order registered: handler modules
 * (`KindRegistry.load`) or the built-in task types (`KindRegistry.builtIn()`). One runtime runs
 * one of the two families: their executors differ (a handler's result is JSON, a built-in type's
 * an object and its ETag, with simulated storage).
 */
export class KindRegistry {
  readonly #entries: ReadonlyMap<string, KindEntry>;
  readonly #builtIn: boolean;

  private constructor(entries: readonly KindEntry[], builtIn: boolean) {
    this.#entries = new Map(entries.map((entry) => [entry.kind, entry]));
    this.#builtIn = builtIn;
  }

  /** The built-in task types (image, compute, sleep, http_request, fail, noop), from BUILT_IN_TYPES. */
  static builtIn(): KindRegistry {
    return new KindRegistry(
      (Object.keys(BUILT_IN_TYPES) as TaskType[]).map((kind) => ({
        kind,
        run: builtInRunner(kind) as BuiltInRunner,
      })),
      true,
    );
  }

  /**
   * Handler modules by kind, each name checked and each module loaded (in parallel); a bad one
   * throws a ConfigError naming it.
   */
  static async load(modules: HandlerModules, where = "handlers"): Promise<KindRegistry> {
    return new KindRegistry(await loadKinds(modules, where), false);
  }

  /** Every kind registered, in order. */
  get kinds(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether its kinds are the built-in task types (else handler modules). */
  get builtIn(): boolean {
    return this.#builtIn;
  }

  /** The handler modules registered (none for the built-in types). */
  get modules(): LoadedKind[] {
    return [...this.#entries.values()].filter((entry): entry is LoadedKind => "handler" in entry);
  }

  /** What runs `kind`'s tasks; undefined when nothing registered here does. */
  get(kind: string): KindEntry | undefined {
    return this.#entries.get(kind);
  }
}

/** A runtime's registry: its handler modules by kind, or, given none, the built-in task types. */
export function registerKinds(
  modules: HandlerModules | undefined,
  where = "handlers",
): Promise<KindRegistry> {
  return modules === undefined ? Promise.resolve(KindRegistry.builtIn()) : KindRegistry.load(modules, where);
}

/** The kinds of the built-in task types (`taskq run`/`serve` without a handler serve these). */
export const BUILT_IN_KINDS: readonly string[] = KindRegistry.builtIn().kinds;

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
