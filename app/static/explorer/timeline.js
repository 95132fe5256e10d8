// The timeline: events per week or month (GET /v1/stats/events, interval and group_by
// event_type), stacked by type. Dragging across it sets the date filter to those buckets.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h, clear, formatDate, formatNumber } from "./dom.js";
import { colourOf } from "./palette.js";

const DAY_S = 86400;

export class Timeline {
  constructor({ container, api, onBrush }) {
    this.container = container;
    this.api = api;
    this.onBrush = onBrush; // (date_from, date_to)
    this.plot = null;
    this.buckets = [];
    this.interval = "month";
    new ResizeObserver(() => this.resize()).observe(container);
  }

  static request(filters, interval) {
    return ["/v1/stats/events", { ...filters, interval, group_by: "event_type", metrics: "count" }];
  }

  async load(filters, interval, signal) {
    this.container.dataset.state = "loading";
    const stats = await this.api.json(...Timeline.request(filters, interval), { signal });
    this.interval = interval;
    this.draw(stats);
    return this.total;
  }

  draw(stats) {
    const buckets = [...new Set(stats.data.map((r) => r.bucket))].sort();
    const types = [...new Set(stats.data.map((r) => r.event_type))].sort();
    const counts = types.map(() => buckets.map(() => 0));
    const index = new Map(buckets.map((b, i) => [b, i]));
    for (const row of stats.data) counts[types.indexOf(row.event_type)][index.get(row.bucket)] += row.count;
    this.buckets = buckets;
    this.total = counts.flat().reduce((a, b) => a + b, 0);
    this.container.dataset.total = String(this.total);
    this.container.dataset.buckets = String(buckets.length);
    this.plot?.destroy();
    this.plot = null;
    clear(this.container);
    if (!buckets.length) {
      this.container.append(h("p", { class: "empty" }, "No events to chart."));
      this.container.dataset.state = "ready";
      return;
    }
    // Stacked: each series drawn to the running sum of the ones before it; drawn from the
    // top of the stack down, so each bar covers only its own share.
    const stacked = [];
    let running = buckets.map(() => 0);
    for (const series of counts) {
      running = running.map((v, i) => v + series[i]);
      stacked.push(running);
    }
    const xs = buckets.map((b) => Date.parse(`${b}T00:00:00Z`) / 1000);
    const order = types.map((_, i) => i).reverse();
    const bars = uPlot.paths.bars({ size: [0.9, 120], align: 1 });
    const opts = {
      width: Math.max(this.container.clientWidth, 200),
      height: this.height(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true },
      legend: { live: true },
      scales: {
        // From the first bucket's start to the last one's end (uPlot pads a lone point by years).
        x: { time: true, auto: false, range: () => [xs[0], xs.at(-1) + this.bucketSeconds(xs.at(-1))] },
        y: { range: (u, min, max) => [0, Math.max(1, max)] },
      },
      axes: [{}, { size: 50, values: (u, vals) => vals.map((v) => formatNumber(v)) }],
      series: [
        { label: this.interval === "week" ? "Week of" : "Month", value: (u, ts) => this.label(ts) },
        ...order.map((i) => ({
          label: types[i],
          fill: colourOf(types[i]),
          stroke: colourOf(types[i]),
          width: 0,
          paths: bars,
          points: { show: false },
          value: (u, v, si, idx) => (idx == null ? "–" : formatNumber(counts[i][idx])),
        })),
      ],
      hooks: { setSelect: [(u) => this.brushed(u)] },
    };
    this.plot = new uPlot(opts, [xs, ...order.map((i) => stacked[i])], this.container);
    this.container.dataset.state = "ready";
  }

  bucketSeconds(ts) {
    if (this.interval === "week") return 7 * DAY_S;
    const d = new Date(ts * 1000);
    return (Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - d.getTime()) / 1000;
  }

  label(ts) {
    if (ts == null) return "–";
    const iso = new Date(ts * 1000).toISOString().slice(0, 10);
    return formatDate(iso, this.interval === "month" ? "month" : "day");
  }

  // A drag across the chart: the date filter from the first bucket it touches to the end of
  // the last one.
  brushed(u) {
    if (u.select.width < 3) return;
    const from = u.posToVal(u.select.left, "x");
    const to = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
    const starts = this.buckets.map((b) => Date.parse(`${b}T00:00:00Z`) / 1000);
    const first = starts.filter((s) => s <= from).pop() ?? starts[0];
    const last = starts.filter((s) => s <= to).pop() ?? starts[0];
    const end = new Date((last + this.bucketSeconds(last) - DAY_S) * 1000);
    this.onBrush(new Date(first * 1000).toISOString().slice(0, 10), end.toISOString().slice(0, 10));
  }

  height() {
    return window.matchMedia("(max-width: 720px)").matches ? 160 : 200;
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(this.container.clientWidth, 200), height: this.height() });
  }
}
