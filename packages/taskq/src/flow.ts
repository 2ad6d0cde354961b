// Workflows (issue 35) as the client takes them: `enqueue(kind, payload, { after })` and
// `enqueueFlow({ tasks: { name: { kind, payload, after: ["other"] } } })`, turned into the store's
// flow (FlowTaskInput, parents by index or id). Wrong shapes are ConfigErrors naming the option;
// cycles and unknown ids are refused by the store's one check (flows.ts), named by task.
import { checkFlow, type FlowTaskInput, type TaskDependency } from "@taskq/idempotency";
import { ConfigError } from "./errors.js";
import { checkOptionKeys, keysOf } from "./option-keys.js";

/** What a parent failing does to its child: `cancel` it (and its descendants), or `run` it anyway. */
export type IfParentFailed = "cancel" | "run";

/** A parent of `enqueue`'s task: an existing task's id, or the id with what its failure does. */
export type AfterTask =
  | string
  | {
      readonly id: string;
      /** What this parent failing or being cancelled does to the task. @default "cancel" */
      readonly ifFailed?: IfParentFailed;
    };

/** A parent of a flow's task: another task of the flow by its name, or an existing task by id. */
export type FlowParent =
  | string
  | {
      /** A task of the same flow, by its name. Exactly one of `task` and `id` is required. @default none */
      readonly task?: string;
      /** An existing task, by its id. Exactly one of `task` and `id` is required. @default none */
      readonly id?: string;
      /** What this parent failing or being cancelled does to the task. @default "cancel" */
      readonly ifFailed?: IfParentFailed;
    };

/**
 * One task of a flow (`enqueueFlow`): its kind and payload, its parents, and enqueue's choices
 * (not `runAt`, `delayMs` or `tx`: a flow's tasks are stored in one transaction of the client's,
 * due at once or when their parents are done).
 */
export interface FlowTask {
  readonly kind: string;
  /** @default {} */
  readonly payload?: unknown;
  /** Its parents: it runs once every one has succeeded. @default none */
  readonly after?: readonly FlowParent[];
  /** As enqueue's. @default a SHA-256 of the payload's JSON with sorted keys */
  readonly key?: string;
  /** As enqueue's. @default a new id */
  readonly id?: string;
  /** As enqueue's. @default the client's `attempts` */
  readonly maxAttempts?: number;
  /** As enqueue's. @default 0 */
  readonly priority?: number;
  /** As enqueue's. @default [] */
  readonly tags?: readonly string[];
  /** As enqueue's. @default none */
  readonly correlationId?: string;
  /** As enqueue's: its group (per-group limits, or a label). @default none */
  readonly group?: string;
}

/** A graph of tasks enqueued in one transaction: each named, its parents named in its `after`. */
export interface FlowSpec {
  readonly tasks: Readonly<Record<string, FlowTask>>;
}

export const FLOW_TASK_KEYS = keysOf<FlowTask>()({
  kind: true,
  payload: true,
  after: true,
  key: true,
  id: true,
  maxAttempts: true,
  priority: true,
  tags: true,
  correlationId: true,
  group: true,
});

function ifFailedOf(value: unknown, where: string): boolean {
  if (value === undefined || value === "cancel") return false;
  if (value === "run") return true;
  throw new ConfigError(where, `${where} must be "cancel" or "run", got ${JSON.stringify(value)}`);
}

/** `enqueue`'s `after`, as the store's parents (existing tasks by id). */
export function afterOf(after: unknown): TaskDependency[] {
  if (!Array.isArray(after)) throw new ConfigError("after", "after must be an array of task ids");
  return after.map((entry, i) => {
    if (typeof entry === "string" && entry.length > 0) return { parent: entry };
    if (entry !== null && typeof entry === "object" && typeof entry.id === "string" && entry.id.length > 0) {
      checkOptionKeys(entry, ["id", "ifFailed"], `after[${i}]`);
      return { parent: entry.id, runAnyway: ifFailedOf(entry.ifFailed, `after[${i}].ifFailed`) };
    }
    throw new ConfigError(
      "after",
      `after[${i}] must be a task id, or { id, ifFailed }, got ${JSON.stringify(entry) ?? String(entry)}`,
    );
  });
}

/**
 * A flow's tasks as the store takes them, in the order of `spec.tasks`, with their names. `claimOf`
 * makes each task's claim as enqueue would (key, id, timing, trace context).
 */
export function flowInputs(
  spec: FlowSpec,
  claimOf: (name: string, task: FlowTask) => Omit<FlowTaskInput, "after">,
  defaultAttempts: number,
): { readonly names: readonly string[]; readonly inputs: FlowTaskInput[] } {
  if (spec === null || typeof spec !== "object" || spec.tasks === null || typeof spec.tasks !== "object")
    throw new ConfigError("tasks", "enqueueFlow needs { tasks: { name: { kind, payload, after } } }");
  checkOptionKeys(spec, ["tasks"], "enqueueFlow");
  const names = Object.keys(spec.tasks);
  if (names.length === 0) throw new ConfigError("tasks", "tasks must hold at least one task");
  const index = new Map(names.map((name, i) => [name, i]));
  const inputs = names.map((name) => {
    const task = spec.tasks[name] as FlowTask;
    if (task === null || typeof task !== "object")
      throw new ConfigError(`tasks.${name}`, `tasks.${name} must be { kind, payload, after }`);
    checkOptionKeys(task, FLOW_TASK_KEYS, `tasks.${name}`);
    const after = task.after ?? [];
    if (!Array.isArray(after))
      throw new ConfigError(`tasks.${name}.after`, `tasks.${name}.after must be an array of task names`);
    const deps = after.map((ref: FlowParent, i): TaskDependency => {
      const where = `tasks.${name}.after[${i}]`;
      const local = typeof ref === "string" ? ref : ref?.task;
      const runAnyway =
        typeof ref === "object" && ref !== null ? ifFailedOf(ref.ifFailed, `${where}.ifFailed`) : false;
      if (typeof ref === "object" && ref !== null) {
        checkOptionKeys(ref, ["task", "id", "ifFailed"], where);
        if (ref.task !== undefined && ref.id !== undefined)
          throw new ConfigError(where, `${where} must give task or id, not both`);
      }
      if (typeof local === "string") {
        const at = index.get(local);
        if (at === undefined)
          throw new ConfigError(
            where,
            `${where}: "${local}" is not a task of the flow (its tasks: ${names.join(", ")}); an existing task is { id }`,
          );
        return { parent: at, runAnyway };
      }
      if (typeof ref === "object" && ref !== null && typeof ref.id === "string" && ref.id.length > 0)
        return { parent: ref.id, runAnyway };
      throw new ConfigError(where, `${where} must be a task's name, { task, ifFailed } or { id, ifFailed }`);
    });
    return { ...claimOf(name, task), ...(deps.length === 0 ? {} : { after: deps }) };
  });
  // the store checks again; here its refusals (a cycle, after with a delay) name the tasks
  checkFlow(inputs, defaultAttempts, names);
  return { names, inputs };
}
