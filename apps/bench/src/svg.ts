// Small inline-SVG charts for the HTML report (no network, no library).

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const W = 560;
const H = 300;
const M = { top: 30, right: 20, bottom: 44, left: 64 };

function esc(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * exp) return step * exp;
  return 10 * exp;
}

function fmt(value: number): string {
  if (value >= 1000) return `${Math.round(value).toLocaleString("en-US")}`;
  if (value >= 10) return value.toFixed(0);
  return Number(value.toPrecision(2)).toString();
}

function axes(xLabel: string, yLabel: string, yMax: number, yLog: boolean, xTicks: string): string {
  const innerH = H - M.top - M.bottom;
  const ticks: string[] = [];
  const values = yLog
    ? Array.from({ length: Math.round(Math.log10(yMax)) + 3 }, (_, i) => 10 ** (i - 2)).filter(
        (v) => v <= yMax,
      )
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  for (const v of values) {
    const y = M.top + innerH - (yLog ? (Math.log10(v) + 2) / (Math.log10(yMax) + 2) : v / yMax) * innerH;
    ticks.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`,
      `<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(v)}</text>`,
    );
  }
  return [
    ...ticks,
    xTicks,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#374151"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#374151"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  ].join("");
}

function legend(series: readonly { name: string; color: string }[]): string {
  return series
    .map(
      (s, i) =>
        `<rect x="${M.left + 10 + i * 150}" y="6" width="12" height="12" fill="${s.color}"/>` +
        `<text x="${M.left + 28 + i * 150}" y="16" font-size="12">${esc(s.name)}</text>`,
    )
    .join("");
}

/** Grouped bars: one group per category, one bar per series. `log` puts the y axis on a log scale. */
export function barChart(
  title: string,
  categories: readonly string[],
  series: readonly { name: string; color: string; values: readonly number[] }[],
  yLabel: string,
  log = false,
): string {
  const max = niceMax(Math.max(...series.flatMap((s) => s.values), 1e-9));
  const innerW = W - M.left - M.right;
  const innerH = H - M.top - M.bottom;
  const group = innerW / categories.length;
  const bar = (group * 0.7) / series.length;
  const scale = (v: number) =>
    (log ? Math.max(0, (Math.log10(Math.max(v, 0.01)) + 2) / (Math.log10(max) + 2)) : v / max) * innerH;
  const bars = categories.flatMap((_, c) =>
    series.map((s, i) => {
      const value = s.values[c] ?? 0;
      const h = scale(value);
      const x = M.left + c * group + group * 0.15 + i * bar;
      const y = M.top + innerH - h;
      return (
        `<rect class="bar" data-series="${esc(s.name)}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"/>` +
        `<text x="${(x + bar / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="11">${fmt(value)}</text>`
      );
    }),
  );
  const xTicks = categories
    .map(
      (c, i) =>
        `<text x="${(M.left + i * group + group / 2).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${esc(c)}</text>`,
    )
    .join("");
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${axes("", yLabel, max, log, xTicks)}${bars.join("")}${legend(series)}</svg></figure>`;
}

/** Lines: y linear or log; x linear, or log (decades from 0.1) for latencies that span orders of magnitude. */
export function lineChart(
  title: string,
  series: readonly Series[],
  xLabel: string,
  yLabel: string,
  yLog = false,
  xLog = false,
): string {
  const all = series.flatMap((s) => s.points);
  const xMax = xLog
    ? 10 ** Math.ceil(Math.log10(Math.max(...all.map(([x]) => x), 1)))
    : niceMax(Math.max(...all.map(([x]) => x), 1e-9));
  const yMax = niceMax(Math.max(...all.map(([, y]) => y), 1e-9));
  const innerW = W - M.left - M.right;
  const innerH = H - M.top - M.bottom;
  const xFraction = (x: number) =>
    xLog ? Math.max(0, (Math.log10(Math.max(x, 0.1)) + 1) / (Math.log10(xMax) + 1)) : x / xMax;
  const sx = (x: number) => M.left + xFraction(x) * innerW;
  const sy = (y: number) =>
    M.top +
    innerH -
    (yLog ? Math.max(0, (Math.log10(Math.max(y, 0.01)) + 2) / (Math.log10(yMax) + 2)) : y / yMax) * innerH;
  const paths = series.map(
    (s) =>
      `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points
        .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join(" ")}"/>`,
  );
  const xValues = xLog
    ? Array.from({ length: Math.round(Math.log10(xMax)) + 2 }, (_, i) => 10 ** (i - 1))
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * xMax);
  const xTicks = xValues
    .map(
      (v) =>
        `<text x="${sx(v).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${fmt(v)}</text>`,
    )
    .join("");
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${axes(xLabel, yLabel, yMax, yLog, xTicks)}${paths.join("")}${legend(series)}</svg></figure>`;
}
