// Typed kinds (issue 35), proven to the compiler: `pnpm typecheck` (tsc over src and test)
// checks this file, and each `@ts-expect-error` fails the check if its line ever compiles. Nothing
// here runs (vitest runs test/**/*.test.ts; typed-kinds.test.ts runs a typed client on a store).
import { expectTypeOf } from "vitest";
import type {
  AnyKinds,
  Client,
  connect,
  createWorker,
  Enqueued,
  Handler,
  HandlerContext,
  HandlerOf,
  KindsOf,
  ResultOf,
  TaskId,
  WorkerOptions,
} from "../src/index.js";

type Kinds = {
  email: { payload: { to: string; subject?: string }; result: { sent: boolean } };
  resize: { payload: { url: string; width: number }; result: { url: string } };
};

declare const client: Client<Kinds>;
declare const untyped: Client;
declare const connectTyped: typeof connect<Kinds>;
declare const createWorkerTyped: typeof createWorker<Kinds>;

// enqueue: the payload is checked against its kind's
expectTypeOf(client.enqueue("email", { to: "a@example.com" })).resolves.toEqualTypeOf<Enqueued<"email">>();
// @ts-expect-error a wrong payload: `to` is a string
void client.enqueue("email", { to: 1 });
// @ts-expect-error a wrong payload: another kind's
void client.enqueue("email", { url: "https://example.com/a.png", width: 100 });
// @ts-expect-error a payload missing its required field
void client.enqueue("email", {});
// @ts-expect-error a kind not in the map
void client.enqueue("nope", { to: "a@example.com" });
// the options are the same as an untyped client's
void client.enqueue("resize", { url: "u", width: 1 }, { priority: 1, delayMs: 10, tags: ["t"] });

// enqueueMany: every payload is checked against the kind's
expectTypeOf(client.enqueueMany("resize", [{ url: "u", width: 1 }])).resolves.toEqualTypeOf<
  Enqueued<"resize">[]
>();
// @ts-expect-error one wrong payload among right ones
void client.enqueueMany("resize", [{ url: "u", width: 1 }, { url: "u" }]);
// @ts-expect-error a kind not in the map
void client.enqueueMany("nope", []);

// result: typed by the kind its id carries
declare const email: Enqueued<"email">;
declare const resize: Enqueued<"resize">;
expectTypeOf(email.kind).toEqualTypeOf<"email">();
expectTypeOf(email.id).toEqualTypeOf<TaskId<"email">>();
expectTypeOf(email.id).toExtend<string>(); // an id is still a string wherever one is taken
expectTypeOf(client.result(email.id)).resolves.toEqualTypeOf<{ sent: boolean }>();
expectTypeOf(client.result(resize.id, { timeoutMs: 10 })).resolves.toEqualTypeOf<{ url: string }>();
// an id of either kind: either result
declare const either: TaskId<"email" | "resize">;
expectTypeOf(client.result(either)).resolves.toEqualTypeOf<{ sent: boolean } | { url: string }>();
// a plain string (an id read back from elsewhere): unknown, until it is given its kind
expectTypeOf(client.result("task-1")).resolves.toBeUnknown();
expectTypeOf(client.result("task-1" as TaskId<"email">)).resolves.toEqualTypeOf<{ sent: boolean }>();
// @ts-expect-error a plain string is not a TaskId
const id: TaskId<"email"> = "task-1";
void id;

// schedule: its kind and payload, as enqueue's
void client.schedule("daily", { cron: "0 8 * * *", kind: "email", payload: { to: "ops@example.com" } });
// @ts-expect-error a wrong payload for the kind it schedules
void client.schedule("daily", { cron: "0 8 * * *", kind: "email", payload: { to: 1 } });
// @ts-expect-error a kind not in the map
void client.schedule("daily", { cron: "0 8 * * *", kind: "nope" });
void untyped.schedule("daily", { cron: "0 8 * * *", kind: "anything", payload: [1, 2] });

// handlers: typed by their kind
const sendEmail: HandlerOf<Kinds, "email"> = async (payload, ctx) => {
  expectTypeOf(payload).toEqualTypeOf<{ to: string; subject?: string }>();
  expectTypeOf(ctx).toEqualTypeOf<HandlerContext>();
  return { sent: payload.to.includes("@") };
};
expectTypeOf(sendEmail).toEqualTypeOf<Handler<{ to: string; subject?: string }, { sent: boolean }>>();
// @ts-expect-error a handler answering another kind's result
const wrongResult: HandlerOf<Kinds, "email"> = async () => ({ url: "u" });
void wrongResult;
// @ts-expect-error a handler reading a field its payload does not have
const wrongField: HandlerOf<Kinds, "email"> = async (payload) => ({ sent: payload.width > 0 });
void wrongField;

// the map read from the handlers: their payload parameter and what they resolve with
const resizeImage = async (payload: { url: string; width: number }): Promise<{ url: string }> => ({
  url: `${payload.url}?w=${payload.width}`,
});
type FromHandlers = KindsOf<{ email: { default: typeof sendEmail }; resize: typeof resizeImage }>;
expectTypeOf<FromHandlers["resize"]>().toEqualTypeOf<{
  readonly payload: { url: string; width: number };
  readonly result: { url: string };
}>();
expectTypeOf<ResultOf<FromHandlers, "email">>().toEqualTypeOf<{ sent: boolean }>();
// and from a handler module: `typeof import(...)` (echo.d.mts: (payload: unknown, ...) => Promise<unknown>)
type FromModule = KindsOf<{ echo: typeof import("./fixtures/echo.mjs") }>;
expectTypeOf<FromModule["echo"]>().toEqualTypeOf<{ readonly payload: unknown; readonly result: unknown }>();
declare const fromHandlers: Client<FromHandlers>;
// @ts-expect-error a wrong payload for a map read from the handlers
void fromHandlers.enqueue("resize", { url: "u" });

// an interface fits as a map as well as a type literal; a map without payload or result does not
interface KindsInterface {
  ping: { payload: { n: number }; result: number };
}
declare const byInterface: Client<KindsInterface>;
expectTypeOf(byInterface.result((await byInterface.enqueue("ping", { n: 1 })).id)).resolves.toBeNumber();
// @ts-expect-error a map whose kind lacks its payload and result types
declare const notAMap: Client<{ ping: string }>;
void notAMap;

// connect<Kinds> answers a typed client
expectTypeOf(connectTyped).returns.resolves.toEqualTypeOf<Client<Kinds>>();

// createWorker<Kinds>: the handlers' keys are kinds of the map, any subset of them
void createWorkerTyped({ handlers: { email: "./email.mjs" } });
void createWorkerTyped({ handlers: { email: "./email.mjs", resize: new URL("file:///resize.mjs") } });
// @ts-expect-error a handler for a kind not in the map
void createWorkerTyped({ handlers: { emial: "./email.mjs" } });

// untyped: any kind, unknown payloads and results, plain string ids, as before
expectTypeOf(untyped.enqueue("anything", 42)).resolves.toEqualTypeOf<Enqueued>();
expectTypeOf<Enqueued>().toEqualTypeOf<Enqueued<string>>();
expectTypeOf<Enqueued["id"]>().toEqualTypeOf<string>();
expectTypeOf<Enqueued["kind"]>().toEqualTypeOf<string>();
expectTypeOf(untyped.enqueueMany("anything", [1, "two"])).resolves.toEqualTypeOf<Enqueued[]>();
expectTypeOf(untyped.result("task-1")).resolves.toBeUnknown();
expectTypeOf(untyped.result((await untyped.enqueue("a", 1)).id)).resolves.toBeUnknown();
let answer = await untyped.enqueue("a", 1);
answer = await untyped.enqueue("b", 2); // answers of two kinds fit one variable
void answer;
expectTypeOf(untyped.enqueue).toBeCallableWith("a" as string, { any: "thing" } as unknown);
expectTypeOf<WorkerOptions["handlers"]>().toEqualTypeOf<Readonly<Record<string, string | URL>>>();
// a typed client goes where an untyped one is taken (the dashboard's `client`, say)
const asUntyped: Client = client;
void asUntyped;
expectTypeOf<Client>().toEqualTypeOf<Client<AnyKinds>>();
declare const indexMap: Client<{ [kind: string]: { payload: unknown; result: unknown } }>;
expectTypeOf(indexMap.enqueue("anything", 42)).resolves.toEqualTypeOf<Enqueued>();
expectTypeOf(indexMap.result("task-1")).resolves.toBeUnknown();

// enqueueFlow: each task's kind and payload checked against the map, ids typed by kind
const flow = await client.enqueueFlow({
  tasks: {
    mail: { kind: "email", payload: { to: "a@example.com" } },
    thumb: { kind: "resize", payload: { url: "https://example.com/a.png", width: 64 }, after: ["mail"] },
  },
});
expectTypeOf(flow.mail).toEqualTypeOf<Enqueued<"email">>();
expectTypeOf(flow.thumb.id).toEqualTypeOf<TaskId<"resize">>();
// @ts-expect-error a flow task's payload of another kind
void client.enqueueFlow({ tasks: { a: { kind: "email", payload: { url: "x", width: 1 } } } });
// @ts-expect-error a flow task's kind not in the map
void client.enqueueFlow({ tasks: { a: { kind: "nope" } } });
// untyped: any kind, any payload, plain string ids
expectTypeOf(
  (await untyped.enqueueFlow({ tasks: { a: { kind: "x", payload: 1 } } })).a.id,
).toEqualTypeOf<string>();
