// Small inline SVG charts drawn by hand, each with a text alternative (a data table) for screen readers.
import { h, nextId } from "./dom";

const SVG = "http://www.w3.org/2000/svg";

function s(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(v: number): number {
  // Small counts: an even maximum, so the middle grid line is a whole number.
  if (v <= 10) return Math.max(2, 2 * Math.ceil(v / 2));
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(title: string, summary: string): { fig: HTMLElement; svg: SVGSVGElement; titleId: string } {
  const titleId = nextId("chart");
  const descId = nextId("desc");
  const svg = s("svg", { role: "img", "aria-labelledby": `${titleId} ${descId}`, class: "chart" }) as SVGSVGElement;
  const fig = h(
    "figure",
    { class: "chart-figure" },
    h("figcaption", { id: titleId }, title),
    svg,
    h("p", { id: descId, class: "visually-hidden" }, summary),
  );
  return { fig, svg, titleId };
}

function table(caption: string, head: string[], rows: (string | number)[][]): HTMLElement {
  return h(
    "details",
    { class: "chart-table" },
    h("summary", {}, "Show the data as a table"),
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, String(c)) : h("td", {}, String(c))))))),
    ),
  );
}

/** Horizontal bars: one per label (long labels read better on a phone this way). */
export function barChart(title: string, data: { label: string; value: number }[]): HTMLElement {
  const total = data.reduce((a, d) => a + d.value, 0);
  const summary = data.length
    ? `${total} in all. ` + data.map((d) => `${d.label}: ${d.value}`).join("; ") + "."
    : "No data yet.";
  const { fig, svg } = frame(title, summary);
  const rowH = 30;
  const labelW = 150;
  const width = 400;
  const height = Math.max(1, data.length) * rowH + 10;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const barW = width - labelW - 40;
  data.forEach((d, i) => {
    const y = 5 + i * rowH;
    svg.append(s("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end", class: "chart-label" }, d.label));
    const w = Math.max(d.value > 0 ? 2 : 0, (d.value / max) * barW);
    svg.append(s("rect", { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 3, class: "bar" }));
    svg.append(s("text", { x: labelW + w + 6, y: y + rowH / 2 + 4, class: "chart-value" }, String(d.value)));
  });
  if (!data.length) svg.append(s("text", { x: 10, y: 20, class: "chart-label" }, "No data yet"));
  fig.append(table(title, ["Category", "Count"], data.map((d) => [d.label, d.value])));
  return fig;
}

/** Grants and revocations per day: paired columns on a shared axis, with a legend. */
export function timelineChart(title: string, rows: { day: string; grants: number; revocations: number }[]): HTMLElement {
  const g = rows.reduce((a, r) => a + r.grants, 0);
  const r = rows.reduce((a, x) => a + x.revocations, 0);
  const summary = rows.length
    ? `${g} grants and ${r} revocations over ${rows.length} day(s), from ${rows[0].day} to ${rows[rows.length - 1].day}.`
    : "No consent activity yet.";
  const { fig, svg } = frame(title, summary);
  const width = 400;
  const height = 230;
  const pad = { l: 36, r: 8, t: 30, b: 40 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const max = niceMax(Math.max(0, ...rows.map((x) => Math.max(x.grants, x.revocations))));
  const plotW = width - pad.l - pad.r;
  const plotH = height - pad.t - pad.b;
  const y = (v: number) => pad.t + plotH - (v / max) * plotH;
  for (const t of [0, max / 2, max]) {
    svg.append(s("line", { x1: pad.l, x2: width - pad.r, y1: y(t), y2: y(t), class: "grid" }));
    svg.append(s("text", { x: pad.l - 4, y: y(t) + 4, "text-anchor": "end", class: "chart-value" }, String(Math.round(t))));
  }
  const slot = plotW / Math.max(1, rows.length);
  const bw = Math.min(18, slot / 2.6);
  const every = Math.ceil(rows.length / 5);
  rows.forEach((row, i) => {
    const x0 = pad.l + i * slot + slot / 2;
    svg.append(s("rect", { x: x0 - bw, y: y(row.grants), width: bw, height: y(0) - y(row.grants), class: "bar grant" }));
    svg.append(s("rect", { x: x0, y: y(row.revocations), width: bw, height: y(0) - y(row.revocations), class: "bar revoke" }));
    if (i % every === 0) svg.append(s("text", { x: x0, y: height - pad.b + 16, "text-anchor": "middle", class: "chart-label" }, row.day.slice(5)));
  });
  if (!rows.length) svg.append(s("text", { x: pad.l + 10, y: pad.t + 20, class: "chart-label" }, "No consent activity yet"));
  // Legend: colour is not the only cue (the text names each series).
  svg.append(s("rect", { x: pad.l, y: 6, width: 12, height: 12, class: "bar grant" }));
  svg.append(s("text", { x: pad.l + 16, y: 16, class: "chart-label" }, `Grants (${g})`));
  svg.append(s("rect", { x: pad.l + 140, y: 6, width: 12, height: 12, class: "bar revoke" }));
  svg.append(s("text", { x: pad.l + 156, y: 16, class: "chart-label" }, `Revocations (${r})`));
  fig.append(table(title, ["Day", "Grants", "Revocations"], rows.map((x) => [x.day, x.grants, x.revocations])));
  return fig;
}
