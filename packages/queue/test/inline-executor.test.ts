import { describe, expect, it } from "vitest";
import { InlineExecutor } from "../src/index.js";

describe("InlineExecutor", () => {
  it("answers an attempt with its run's outcome, or an internal failure when the run throws or rejects", async () => {
    const executor = new InlineExecutor<string, string>(async (task, attempt) => {
      if (task === "reject") throw new Error("it rejected");
      return { ok: true, output: `${task}:${attempt}`, runMs: 1 };
    }, 2);
    expect(await executor.run("a", 3)).toEqual({ ok: true, output: "a:3", runMs: 1 });
    const rejected = await executor.run("reject", 1);
    expect(rejected).toMatchObject({
      ok: false,
      error: { errorClass: "internal", retryable: false, message: "it rejected" },
    });
    const throwing = new InlineExecutor<string, string>(() => {
      throw new Error("it threw before returning a promise");
    });
    expect(await throwing.run("b", 1)).toMatchObject({
      ok: false,
      error: { errorClass: "internal", message: "it threw before returning a promise" },
    });
  });

  it("takes a run that answers a plain value (not a promise) as its outcome", async () => {
    const executor = new InlineExecutor<string, string>(
      (task) => ({ ok: true, output: task, runMs: 0 }) as never,
    );
    expect(await executor.run("plain", 1)).toEqual({ ok: true, output: "plain", runMs: 0 });
  });

  it("destroy answers the attempts still running as cancelled, and a run that ends later changes nothing", async () => {
    let finish: (value: { ok: true; output: string; runMs: number }) => void = () => undefined;
    const executor = new InlineExecutor<string, string>(
      () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
    );
    const running = executor.run("slow", 1);
    await executor.destroy();
    finish({ ok: true, output: "too late", runMs: 5 });
    expect(await running).toMatchObject({
      ok: false,
      error: { errorClass: "cancelled", retryable: true, message: "the executor was destroyed" },
    });
  });
});
