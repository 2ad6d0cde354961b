// The overview's live part: every second it asks the server for the counts (HTML the server
// rendered and escaped) and the charts' samples, and redraws. No framework, no build.
// Forms marked `confirm` (purge) ask first. A task page refreshes its live part (progress, log)
// while the task runs.
for (const form of document.querySelectorAll("form.confirm")) {
  form.addEventListener("submit", (event) => {
    const hours = form.querySelector('input[name="olderThanHours"]')?.value;
    const what =
      hours === undefined
        ? "Do this?"
        : `Purge every dead letter older than ${hours} hours, with its failed task?`;
    if (!window.confirm(what)) event.preventDefault();
  });
}

(() => {
  const live = document.getElementById("live");
  if (!live) return;
  const base = live.dataset.base || "";
  const status = document.getElementById("live-status");
  const charts = {};
  // The charts span the last ten minutes: what the store holds of them (/api/history, read once
  // when the page opens, one point per five seconds), then the live samples (/api/overview).
  let spanS = 600;
  let stored = [];

  const pad = (n, w = 2) => String(n).padStart(w, "0");
  /** A tick of the time axis, in UTC like every time on the pages: 10:42, or 10:42:30 between minutes. */
  function clock(t) {
    const d = new Date(t * 1000);
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    return d.getUTCSeconds() === 0 ? hm : `${hm}:${pad(d.getUTCSeconds())}`;
  }
  /** A tick of the latency axis: 250 ms, 1.5 s, 2 min. */
  function ms(v) {
    if (v == null) return "";
    if (v < 1000) return `${Math.round(v)} ms`;
    if (v < 60000) return `${+(v / 1000).toFixed(1)} s`;
    return `${+(v / 60000).toFixed(1)} min`;
  }
  /** A tick of the rate axis: 0.5/s, 12/s, 1.2k/s. */
  function rate(v) {
    if (v == null) return "";
    return v >= 1000 ? `${+(v / 1000).toFixed(1)}k/s` : `${+v.toFixed(2)}/s`;
  }
  // whole seconds at least between time ticks (never :12.500), and steps of 1, 2, 5 on the values
  const timeIncrs = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const steps = [];
  for (let e = -2; e <= 7; e++) for (const m of [1, 2, 5]) steps.push(m * 10 ** e);
  const msSteps = steps.filter((v) => v >= 1);

  function chart(id, title, series, format, incrs) {
    const el = document.getElementById(id);
    if (!el || typeof uPlot === "undefined") return undefined;
    const opts = {
      title,
      width: Math.max(240, el.clientWidth || 480),
      height: 220,
      scales: {
        x: {
          time: true,
          range: (_u, _min, max) => {
            const end = max ?? Date.now() / 1000;
            return [end - spanS, end];
          },
        },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      series: [
        { value: (_u, t) => (t == null ? "" : clock(t)) },
        ...series.map((s) => ({ ...s, value: (_u, v) => format(v) })),
      ],
      axes: [
        { incrs: timeIncrs, space: 70, values: (_u, ticks) => ticks.map(clock) },
        { size: 70, incrs, values: (_u, ticks) => ticks.map(format) },
      ],
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])], el);
    el.uplot = u; // for the browser tests (and a look from the console)
    return u;
  }

  /** The stored points older than the first live one, then the live ones; the last ten minutes. */
  function merged(history) {
    const first = history.length > 0 ? history[0].t : Number.POSITIVE_INFINITY;
    const points = stored.filter((p) => p.t < first).concat(history);
    const end = points.length > 0 ? points[points.length - 1].t : 0;
    return points.filter((p) => p.t >= end - spanS);
  }

  function draw(history) {
    charts.throughput ??= chart(
      "chart-throughput",
      "Tasks per second",
      [
        { label: "succeeded", stroke: "#2a7d46", width: 2 },
        { label: "failed", stroke: "#b3261e", width: 2 },
      ],
      rate,
      steps,
    );
    charts.latency ??= chart(
      "chart-latency",
      "p95 latency",
      [
        { label: "taken to finish", stroke: "#1f5fa8", width: 2 },
        { label: "enqueue to finish", stroke: "#8a5a00", width: 2 },
      ],
      ms,
      msSteps,
    );
    const points = merged(history);
    const xs = points.map((p) => p.t);
    charts.throughput?.setData([xs, points.map((p) => p.succeededPerSec), points.map((p) => p.failedPerSec)]);
    charts.latency?.setData([xs, points.map((p) => p.p95RunMs), points.map((p) => p.p95TotalMs)]);
    live.dataset.points = String(points.length);
  }

  // a narrower window: the charts follow their boxes' width
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const [name, c] of Object.entries(charts)) {
        const el = c && document.getElementById(`chart-${name}`);
        if (el) c.setSize({ width: Math.max(240, el.clientWidth), height: 220 });
      }
    }, 100);
  });

  async function loadHistory() {
    try {
      const response = await fetch(`${base}/api/history`, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      spanS = data.spanMs / 1000;
      stored = data.history;
      live.dataset.stored = String(stored.length);
    } catch {
      // the live samples still draw
    }
  }

  let failures = 0;
  async function refresh() {
    try {
      const response = await fetch(`${base}/api/overview`, { headers: { accept: "application/json" } });
      if (response.status === 401) {
        window.location.assign(`${base}/login`);
        return;
      }
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      live.innerHTML = data.html;
      draw(data.history);
      failures = 0;
      status.textContent = data.historyError
        ? `charts: ${data.historyError}`
        : `updated ${new Date(data.now).toISOString().slice(11, 19)}Z`;
      live.dataset.updatedAt = String(data.now);
    } catch (error) {
      failures += 1;
      status.textContent = `cannot refresh: ${error.message}`;
    }
    setTimeout(refresh, failures > 3 ? 5000 : 1000);
  }
  loadHistory().then(refresh);
})();

// A task page's live part (status, progress, log): every second while the task is queued or
// running, the server's rendered (escaped) fragment is swapped in; it stops once the task ends.
(() => {
  const live = document.getElementById("task-live");
  if (live?.dataset.changing !== "true") return;
  const url = `${live.dataset.base || ""}/api/tasks/${live.dataset.seq}/live`;
  let failures = 0;
  async function refresh() {
    try {
      const response = await fetch(url, { headers: { accept: "application/json" } });
      if (response.status === 401) {
        window.location.assign(`${live.dataset.base || ""}/login`);
        return;
      }
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      live.innerHTML = data.html;
      live.dataset.updatedAt = String(data.now);
      failures = 0;
      if (!data.changing) {
        live.dataset.changing = "false";
        return;
      }
    } catch {
      failures += 1;
    }
    setTimeout(refresh, failures > 3 ? 5000 : 1000);
  }
  setTimeout(refresh, 1000);
})();
