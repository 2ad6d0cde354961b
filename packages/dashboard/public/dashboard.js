// The overview's live part: every second it asks the server for the counts (HTML the server
// rendered and escaped) and the charts' samples, and redraws. No framework, no build.
// Forms marked `confirm` (purge) ask first.
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

  function chart(id, title, series) {
    const el = document.getElementById(id);
    if (!el || typeof uPlot === "undefined") return undefined;
    const opts = {
      title,
      width: Math.max(320, el.clientWidth || 480),
      height: 220,
      scales: { x: { time: true } },
      series: [{}, ...series],
      axes: [{}, { size: 60 }],
    };
    return new uPlot(opts, [[], ...series.map(() => [])], el);
  }

  function draw(history) {
    charts.throughput ??= chart("chart-throughput", "Tasks per second", [
      { label: "succeeded/s", stroke: "#2a7d46", width: 2 },
      { label: "failed/s", stroke: "#b3261e", width: 2 },
    ]);
    charts.latency ??= chart("chart-latency", "p95 latency (ms)", [
      { label: "taken to finish", stroke: "#1f5fa8", width: 2 },
      { label: "enqueue to finish", stroke: "#8a5a00", width: 2 },
    ]);
    const xs = history.map((p) => p.t);
    charts.throughput?.setData([
      xs,
      history.map((p) => p.succeededPerSec),
      history.map((p) => p.failedPerSec),
    ]);
    charts.latency?.setData([xs, history.map((p) => p.p95RunMs), history.map((p) => p.p95TotalMs)]);
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
  refresh();
})();
