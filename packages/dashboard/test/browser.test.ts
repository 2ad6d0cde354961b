/// <reference lib="dom" />
// The dashboard in a real browser: Debian's headless Chromium (installed by .ci/run when missing)
// driven by puppeteer-core, over a real SQLite store with a worker running tasks. Waits are for
// what the page shows (waitForFunction on the DOM), never for time.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { type Client, connect, createWorker, TaskFailedError } from "taskq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDashboard, startDashboard } from "../src/index.js";
import { heldCount, releaseHeld, state } from "./fixtures/work.mjs";
import { selfSigned } from "./self-signed.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/**
 * The README's screenshot of the overview, taken by this test only when asked
 * (`TASKQ_SCREENSHOT=1`), so a test run leaves the tracked image as it is.
 */
const SCREENSHOT = new URL("../../../docs/images/dashboard-overview.png", import.meta.url).pathname;
const TAKE_SCREENSHOT = process.env.TASKQ_SCREENSHOT === "1";
const KIND = "resize";
const work = new URL("./fixtures/work.mjs", import.meta.url).pathname;
const quiet = { info: () => undefined };

let browser: Browser;
let client: Client;
let dashboard: RunningDashboard;
let guarded: RunningDashboard;
/** The guarded dashboard over https, with a certificate made for this run. */
let secured: RunningDashboard;
const TOKEN = "browser-test-token";
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const store = join(mkdtempSync(join(tmpdir(), "taskq-browser-")), "tasks.db");
  client = await connect({ store });
  const worker = await createWorker({
    store,
    handlers: { [KIND]: work },
    threads: 0,
    concurrency: 8,
    pollMs: 20,
  });
  dashboard = await startDashboard({ client, port: 0, logger: quiet, sampleMs: 250 });
  guarded = await startDashboard({ client, port: 0, logger: quiet, token: TOKEN });
  // Chromium trusts this certificate's key, and no other that fails its checks
  const tls = selfSigned();
  secured = await startDashboard({ client, port: 0, logger: quiet, token: TOKEN, tls });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      `--ignore-certificate-errors-spki-list=${tls.spki}`,
    ],
  });
  closers.push(
    () => client.close(),
    () => worker.close(),
    () => dashboard.close(),
    () => guarded.close(),
    () => secured.close(),
    () => browser.close(),
  );
});
afterAll(async () => {
  releaseHeld();
  for (const close of closers.reverse()) await close();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  return page;
}

const seqOf = async (id: string) => (await client.store.getById(id))[0]?.seq as number;
/** Waits until the count card of `status` shows `text`. */
const countShows = (page: Page, status: string, text: string) =>
  page.waitForFunction(
    (s, t) => document.querySelector(`[data-count="${s}"]`)?.textContent === t,
    { polling: "mutation" },
    status,
    text,
  );
const field = (page: Page, name: string) =>
  page.$eval(`dd[data-field="${name}"]`, (el) => el.textContent ?? "");

describe("the dashboard in a browser", () => {
  it("shows the counts move while tasks run, and draws the charts", async () => {
    const page = await newPage();
    await page.goto(dashboard.url);
    const ids = (
      await client.enqueueMany(
        KIND,
        [1, 2, 3, 4, 5].map((n) => ({ n, hold: true })),
      )
    ).map((t) => t.id);
    await countShows(page, "running", "5");
    expect(heldCount()).toBe(5);
    releaseHeld();
    for (const id of ids) await client.result(id);
    await countShows(page, "succeeded", "5");
    await countShows(page, "running", "0");
    await page.waitForFunction(() => document.querySelectorAll(".chart canvas").length === 2);
    // A steady flow for the charts (and the README's screenshot): batches until a dozen samples.
    const samples = async () =>
      ((await (await fetch(`${dashboard.url}api/overview`)).json()) as { history: unknown[] }).history.length;
    let succeeded = 5;
    for (let batch = 0; (await samples()) < 12; batch++) {
      const flow = await client.enqueueMany(
        KIND,
        Array.from({ length: 40 }, (_, n) => ({ batch, n })),
      );
      for (const t of flow) await client.result(t.id);
      succeeded += flow.length;
    }
    await countShows(page, "succeeded", succeeded.toLocaleString("en-US"));
    if (TAKE_SCREENSHOT) {
      mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
    await page.close();
  });

  it("opens with the last ten minutes drawn from the store, its axes' ticks in words", async () => {
    // a dashboard that has never sampled: whatever the charts show before now came from the store
    const fresh = await startDashboard({ client, port: 0, logger: quiet });
    closers.push(() => fresh.close());
    const page = await newPage();
    await page.goto(fresh.url);
    await page.waitForFunction(() => Number(document.getElementById("live")?.dataset.points) > 0);
    expect(await page.$eval("#live", (el) => (el as HTMLElement).dataset.stored)).toBe("120");
    const drawn = await page.evaluate(() => {
      type Plot = { data: (number | null)[][]; axes: { _values?: string[] }[] };
      const plot = (id: string) => (document.getElementById(id) as unknown as { uplot: Plot }).uplot;
      const throughput = plot("chart-throughput");
      const latency = plot("chart-latency");
      return {
        xs: throughput.data[0] as number[],
        succeeded: throughput.data[1] as (number | null)[],
        p95: latency.data[1] as (number | null)[],
        timeTicks: latency.axes[0]?._values ?? [],
        msTicks: latency.axes[1]?._values ?? [],
        rateTicks: throughput.axes[1]?._values ?? [],
      };
    });
    // the live samples start with the page: every point before the first came from the store
    const live = (await (await fetch(`${fresh.url}api/overview`)).json()) as { history: { t: number }[] };
    const firstLive = live.history[0]?.t as number;
    const stored = drawn.xs.flatMap((t, i) => (t < firstLive ? [i] : []));
    expect(stored.length).toBeGreaterThanOrEqual(119);
    expect(drawn.xs[0]).toBeLessThan(firstLive - 590);
    // the tasks the first test ran are in them
    expect(stored.some((i) => (drawn.succeeded[i] ?? 0) > 0)).toBe(true);
    expect(stored.some((i) => (drawn.p95[i] ?? -1) >= 0)).toBe(true);
    // ticks that read: 10:42 (never :12.500), 250 ms or 1.5 s, 12/s
    expect(drawn.timeTicks.length).toBeGreaterThan(1);
    for (const tick of drawn.timeTicks) expect(tick).toMatch(/^\d\d:\d\d(:\d\d)?$/);
    for (const tick of drawn.msTicks) expect(tick).toMatch(/^\d+(\.\d)? (ms|s|min)$/);
    for (const tick of drawn.rateTicks) expect(tick).toMatch(/^\d+(\.\d+)?k?\/s$/);
    await page.close();
  });

  it("warns of a kind with due tasks that no live worker serves", async () => {
    const page = await newPage();
    await page.goto(dashboard.url);
    await client.enqueue("orphaned", { n: 1 });
    await page.waitForFunction(
      () => document.querySelector(".warning")?.getAttribute("data-unserved") === "orphaned",
      { polling: "mutation" },
    );
    expect(await page.$eval(".warning", (el) => el.textContent)).toContain("No live worker serves orphaned");
    expect(await page.$eval("tr.unserved .badge", (el) => el.textContent)).toBe("no worker");
    // the worker's kind has due tasks too, but a live worker serves it
    expect(await page.$$eval("tr.unserved", (rows) => rows.length)).toBe(1);
    await page.close();
  });

  it("pauses a kind from its row on the overview, and resumes it", async () => {
    const kind = "pausable";
    const task = await client.enqueue(kind, { n: 1 }, { delayMs: 3_600_000 });
    const page = await newPage();
    await page.goto(dashboard.url);
    const state = () => page.$eval(`[data-kind-state="${kind}"]`, (el) => el.textContent?.trim() ?? "");
    expect(await state()).toMatch(/^running/);
    // the live part is swapped in whole every second: submit the row's form as its button would
    const submit = (action: string) =>
      Promise.all([
        page.waitForNavigation(),
        page.evaluate(
          (k, a) =>
            document
              .querySelector<HTMLFormElement>(`[data-kind-state="${k}"] form[action$="/${a}"]`)
              ?.requestSubmit(),
          kind,
          action,
        ),
      ]);
    await submit("pause");
    expect(await page.$eval(".notice", (el) => el.textContent)).toContain("Kind paused");
    expect(await state()).toMatch(/^paused/);
    expect((await client.limits()).find((l) => l.kind === kind)).toMatchObject({ paused: true });
    await submit("resume");
    expect(await page.$eval(".notice", (el) => el.textContent)).toContain("Kind resumed");
    expect(await state()).toMatch(/^running/);
    expect((await client.limits()).find((l) => l.kind === kind)).toBeUndefined();
    await client.cancel(task.id);
    await page.close();
  });

  it("works at 800 px wide: nothing overflows sideways, tables scroll in their box", async () => {
    const long = await client.enqueue(KIND, { text: "x".repeat(400) }, { delayMs: 3_600_000 });
    const page = await browser.newPage();
    await page.setViewport({ width: 800, height: 900 });
    for (const path of ["", "tasks", "dead-letters", "schedules", `tasks/${await seqOf(long.id)}`]) {
      await page.goto(`${dashboard.url}${path}`);
      if (path === "")
        await page.waitForFunction(() => document.querySelectorAll(".chart canvas").length === 2);
      const sizes = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
        boxes: Array.from(document.querySelectorAll(".scroll, .chart, pre, dl.record")).map(
          (el) => el.getBoundingClientRect().right,
        ),
      }));
      expect(sizes.page, `/${path}`).toBeLessThanOrEqual(sizes.view);
      for (const right of sizes.boxes) expect(right, `/${path}`).toBeLessThanOrEqual(sizes.view);
    }
    await page.close();
  });

  it("finds a task by id", async () => {
    const task = await client.enqueue(KIND, { n: "find me" });
    await client.result(task.id);
    const page = await newPage();
    await page.goto(dashboard.url);
    await page.type('input[name="q"]', task.id);
    await Promise.all([page.waitForNavigation(), page.click(".search button")]);
    expect(await field(page, "id")).toBe(task.id);
    expect(await field(page, "status")).toBe("succeeded");
    expect(await page.$eval("pre.result", (el) => el.textContent)).toContain('"find me"');
    // times to the millisecond, the duration finished - started, no empty rows
    const record = (await client.store.getById(task.id))[0]!;
    expect(await field(page, "started")).toBe(new Date(record.startedAt!).toISOString().replace("T", " "));
    expect(await field(page, "finished")).toBe(new Date(record.finishedAt!).toISOString().replace("T", " "));
    expect(await field(page, "duration")).toMatch(
      new RegExp(`^${(record.finishedAt! - record.startedAt!).toLocaleString("en-US")} ms`),
    );
    expect(await page.$$eval("dd", (dds) => dds.filter((dd) => dd.textContent === "").length)).toBe(0);
    await page.close();
  });

  it("re-drives a dead letter, and sees it succeed", async () => {
    const task = await client.enqueue(KIND, { fail: "browser" });
    await expect(client.result(task.id)).rejects.toBeInstanceOf(TaskFailedError);
    state.failing = false;
    const seq = await seqOf(task.id);
    const page = await newPage();
    await page.goto(`${dashboard.url}dead-letters`);
    // its kind, and the filter by kind
    expect(await page.$eval(`tr[data-task-seq="${seq}"] td[data-kind]`, (el) => el.textContent)).toBe(KIND);
    await page.select('form.filters select[name="kind"]', KIND);
    await Promise.all([page.waitForNavigation(), page.click("form.filters button")]);
    expect(page.url()).toBe(`${dashboard.url}dead-letters?kind=${KIND}`);
    expect(
      await page.$$eval("td[data-kind]", (tds) => [...new Set(tds.map((td) => td.textContent))]),
    ).toEqual([KIND]);
    await Promise.all([page.waitForNavigation(), page.click(`tr[data-task-seq="${seq}"] button`)]);
    // the notice is the action's own, signed for this page (signed-notice.ts)
    expect(page.url()).toMatch(
      new RegExp(`^${dashboard.url}tasks/${seq}\\?done=redriven&n=1&at=\\w+&sig=[\\w-]+$`),
    );
    expect(await page.$eval("p.notice", (el) => el.textContent)).toBe(
      "Re-drove 1 task: queued again, attempts reset.",
    );
    expect(await client.result(task.id)).toEqual({ done: { fail: "browser" } });
    await page.reload();
    expect(await field(page, "status")).toBe("succeeded");
    await page.close();
  });

  it("shows every attempt of a task that failed twice and then succeeded, the failures with their errors", async () => {
    const task = await client.enqueue(KIND, { n: "third time", failFirst: 2 });
    expect(await client.result(task.id)).toEqual({ done: { n: "third time", failFirst: 2 } });
    const page = await newPage();
    await page.goto(`${dashboard.url}tasks/${await seqOf(task.id)}`);
    const rows = await page.$$eval("table.attempts tbody tr", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent ?? "")),
    );
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ["1", "failed, retried"],
      ["2", "failed, retried"],
      ["3", "succeeded"],
    ]);
    for (const r of rows) {
      expect(r[2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/); // started, to the ms
      expect(r[4]).toMatch(/^[\d,]+ ms/); // a duration
      expect(r[5]).toMatch(/^.+:\d+:.+$/); // the worker that ran it
    }
    expect(rows[0]?.[6]).toMatch(/^error: refused on attempt 1stack/);
    expect(rows[1]?.[6]).toMatch(/^error: refused on attempt 2/);
    expect(rows[2]?.[6]).toBe("");
    // the stack is folded: opened, it names the handler's file
    await page.click("tr[data-attempt='1'] details summary");
    expect(await page.$eval("tr[data-attempt='1'] pre.stack", (el) => el.textContent)).toMatch(
      /^Error: refused on attempt 1\n\s+at work \(.*work\.mjs:\d+:\d+\)/,
    );
    await page.close();
  });

  it("cancels a queued task", async () => {
    const task = await client.enqueue(KIND, { n: "later" }, { delayMs: 3_600_000 });
    const page = await newPage();
    await page.goto(`${dashboard.url}tasks/${await seqOf(task.id)}`);
    expect(await page.$eval("p.when", (el) => el.textContent)).toMatch(/^scheduled for /);
    await Promise.all([page.waitForNavigation(), page.click("form.danger button")]);
    expect(await field(page, "status")).toBe("cancelled");
    expect((await client.get(task.id))?.status).toBe("cancelled");
    await page.close();
  });

  it("is refused an action without the token", async () => {
    const task = await client.enqueue(KIND, { n: "guarded" }, { delayMs: 3_600_000 });
    const seq = await seqOf(task.id);
    const page = await newPage();
    await page.goto(`${guarded.url}tasks/${seq}`);
    expect(page.url()).toBe(`${guarded.url}login`);
    await page.type('input[name="token"]', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
    await page.goto(`${guarded.url}tasks/${seq}`);
    expect(await field(page, "status")).toBe("queued");
    await page.deleteCookie({ name: "taskq_dashboard", url: guarded.url });
    const [response] = await Promise.all([page.waitForNavigation(), page.click("form.danger button")]);
    expect(response?.status()).toBe(401);
    expect(await page.$eval("p.error", (el) => el.textContent)).toContain("this needs the dashboard token");
    expect((await client.get(task.id))?.status).toBe("queued");
    await page.close();
  });

  it("signs in over TLS with a self-signed certificate: the session cookie is Secure", async () => {
    const task = await client.enqueue(KIND, { n: "over tls" }, { delayMs: 3_600_000 });
    const seq = await seqOf(task.id);
    expect(secured.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await newPage();
    await page.goto(`${secured.url}tasks/${seq}`);
    expect(page.url()).toBe(`${secured.url}login`);
    await page.type('input[name="token"]', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("form.login button")]);
    const cookies = await page.cookies(secured.url);
    expect(cookies.map((c) => [c.name, c.secure, c.httpOnly, c.sameSite])).toEqual([
      ["taskq_dashboard", true, true, "Strict"],
    ]);
    await page.goto(`${secured.url}tasks/${seq}`);
    expect(await field(page, "status")).toBe("queued");
    // signed in over https, it acts: the form's post goes over TLS with the Secure cookie
    await Promise.all([page.waitForNavigation(), page.click("form.danger button")]);
    expect(await field(page, "status")).toBe("cancelled");
    expect((await client.get(task.id))?.status).toBe("cancelled");
    await page.close();
  });

  it("a running task's page shows its progress and log change live, and stops refreshing once it ends", async () => {
    // a task running under this store's owner (no worker serves its kind), reporting as a handler would
    const kind = "progressing";
    const claimed = await client.store.claim({
      id: "live-1",
      idempotencyKey: "live-1",
      kind,
      payload: {},
      start: true,
    });
    if (!claimed.created) throw new Error("the task was not created");
    const report = (progress: number, line: string) =>
      client.store.report([
        { kind, key: "live-1", attempt: 1, progress: String(progress), lines: [{ at: Date.now(), line }] },
      ]);
    await report(25, "first quarter");
    const page = await newPage();
    await page.goto(`${dashboard.url}tasks/${claimed.seq}`);
    expect(await page.$eval(".progress", (el) => el.textContent)).toBe("25");
    await report(50, "half way");
    // the page's script swaps in the live part: the new value and line appear without a reload
    await page.waitForFunction(() => document.querySelector(".progress")?.textContent === "50", {
      polling: "mutation",
    });
    expect(await page.$$eval("table.log code", (els) => els.map((el) => el.textContent))).toEqual([
      "first quarter",
      "half way",
    ]);
    await client.store.succeed(claimed.seq, claimed.version, { result: "1" });
    await page.waitForFunction(() => document.getElementById("task-live")?.dataset.changing === "false", {
      polling: "mutation",
    });
    expect(await page.$eval("[data-status]", (el) => el.textContent)).toBe("succeeded");
    await page.close();
  });

  it("shows a payload holding markup as text: nothing in it runs", async () => {
    const payload = {
      x: "<script>window.__pwned = 1</script>",
      y: '"><img src=x onerror="window.__pwned = 2">',
    };
    const task = await client.enqueue(KIND, payload, { delayMs: 3_600_000 });
    const page = await newPage();
    await page.goto(`${dashboard.url}tasks/${await seqOf(task.id)}`);
    const text = await page.$eval("pre.payload", (el) => el.textContent ?? "");
    expect(JSON.parse(text)).toEqual(payload);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$("main img")).toHaveLength(0);
    await page.close();
  });
});
