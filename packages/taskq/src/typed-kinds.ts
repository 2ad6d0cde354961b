// Typed kinds (issue 35): the types that tie a kind to its payload and its result, for the
// compiler only. A TypeScript user declares the kinds once, as a map `{ kind: { payload, result } }`
// (or derives it from the handler modules with KindsOf), and passes it as the type argument of
// `connect<Kinds>` and `createWorker<Kinds>`: enqueue checks the payload against the kind's, the
// id it answers carries the kind, so `result(id)` is typed by it, and HandlerOf types a handler.
// Nothing here exists at run time: the store keeps JSON, and a worker loads its handlers by URL,
// so the map is the user's declaration, checked against the code that uses it, never against
// the modules a worker loads. Without a type argument every kind is allowed and every payload
// and result is `unknown`, as before.
import type { Enqueued } from "./client.js";
import type { FlowTask } from "./flow.js";
import type { Handler } from "./handler.js";
import type { HandlerModules } from "./kinds.js";

/** One kind's types: what `enqueue` takes and what its handler answers (both as JSON). */
export interface KindTypes<Payload = unknown, Result = unknown> {
  readonly payload: Payload;
  readonly result: Result;
}

/**
 * The constraint on a map of kinds: every kind has a `payload` and a `result` type. Written
 * against the map itself (`Kinds extends KindMap<Kinds>`) so that an interface fits as well as a
 * type literal.
 */
export type KindMap<Kinds> = { readonly [Kind in keyof Kinds]: KindTypes };

/**
 * The map of an untyped client or worker, their default: any kind, `unknown` payloads and results
 * (PayloadOf, ResultOf). It is `any`, not an index signature, so that a typed client goes wherever
 * an untyped one is taken (the dashboard's `client`): a client of fewer kinds is no client of
 * every kind, so with `{ [kind: string]: KindTypes }` it would not.
 */
// biome-ignore lint/suspicious/noExplicitAny: the untyped default must accept every typed map (see above)
export type AnyKinds = any;

/** The kinds of a map, as strings (`string` for an untyped one). */
export type KindOf<Kinds> = Extract<keyof Kinds, string>;

/** Whether `Kinds` is untyped: any kind (AnyKinds, or an index signature). */
type Untyped<Kinds> = string extends KindOf<Kinds> ? true : false;

/** The payload type of `Kind` (the union of several kinds' payloads for a union); `unknown` when untyped. */
export type PayloadOf<Kinds, Kind extends KindOf<Kinds>> =
  Untyped<Kinds> extends true ? unknown : Kinds[Kind] extends KindTypes<infer Payload> ? Payload : never;

/** The result type of `Kind`; `unknown` when untyped. */
export type ResultOf<Kinds, Kind extends KindOf<Kinds>> =
  Untyped<Kinds> extends true
    ? unknown
    : Kinds[Kind] extends KindTypes<unknown, infer Result>
      ? Result
      : never;

/** A handler of `Kind`: `const email: HandlerOf<Kinds, "email"> = async (payload, ctx) => ...`. */
export type HandlerOf<Kinds extends KindMap<Kinds>, Kind extends KindOf<Kinds>> = Handler<
  PayloadOf<Kinds, Kind>,
  ResultOf<Kinds, Kind>
>;

/**
 * A map of kinds read from the handler modules (or the handlers themselves):
 * `KindsOf<{ email: typeof import("./handlers/email.js") }>`. Each kind's payload is its
 * handler's first parameter, its result what the handler resolves with.
 */
export type KindsOf<Modules> = {
  readonly [Kind in keyof Modules]: HandlerTypes<
    Modules[Kind] extends { default: infer H } ? H : Modules[Kind]
  >;
};

/** The payload and result of a handler function. */
type HandlerTypes<H> = H extends (payload: infer Payload, ...rest: never[]) => infer Result
  ? KindTypes<Payload, Awaited<Result>>
  : never;

/** The phantom property that carries a task id's kind (never present at run time). */
declare const kindOfTask: unique symbol;

/**
 * A task's id, as `enqueue` answers it to a typed client: a string that remembers its kind, so
 * `result(id)` is typed by that kind. Plain `string` for an untyped client (or a kind not known).
 * An id kept elsewhere (a database row, a URL) is a plain string again: `id as TaskId<"email">`
 * restores it.
 */
export type TaskId<Kind extends string = string> = string extends Kind
  ? string
  : string & { readonly [kindOfTask]: Kind };

/**
 * The result type of the task `Id` names: its kind's, for a TaskId; `unknown` for a plain string
 * (and for every id, to an untyped client).
 */
export type ResultOfId<Kinds, Id extends string> =
  Untyped<Kinds> extends true
    ? unknown
    : Id extends { readonly [kindOfTask]: infer Kind }
      ? Kind extends KindOf<Kinds>
        ? ResultOf<Kinds, Kind>
        : unknown
      : unknown;

/** The kind an answer of `enqueue` names: the kind itself for a typed client, `string` for an untyped one. */
export type EnqueuedKind<Kinds, Kind extends string> = Untyped<Kinds> extends true ? string : Kind;

/**
 * The handler modules of a worker, by kind: for a typed worker, only kinds of its map (any subset:
 * many workers with different handler sets share one store).
 */
export type HandlerModulesOf<Kinds> =
  Untyped<Kinds> extends true ? HandlerModules : { readonly [Kind in KindOf<Kinds>]?: string | URL };

/**
 * A task of a typed client's flow (`enqueueFlow`): a kind of the map, with that kind's payload;
 * for an untyped client, FlowTask.
 */
export type FlowTaskOf<Kinds> =
  Untyped<Kinds> extends true
    ? FlowTask
    : {
        [Kind in KindOf<Kinds>]: Omit<FlowTask, "kind" | "payload"> & {
          readonly kind: Kind;
          readonly payload?: PayloadOf<Kinds, Kind>;
        };
      }[KindOf<Kinds>];

/** `enqueueFlow`'s answer: each task by its name, its id a TaskId of its kind for a typed client. */
export type EnqueuedFlow<Kinds, Tasks> = {
  readonly [Name in keyof Tasks]: Enqueued<
    EnqueuedKind<Kinds, Tasks[Name] extends { readonly kind: infer Kind extends string } ? Kind : string>
  >;
};
