// Per-port charts with uPlot: one small chart per port, inbound and outbound lines. The data come
// either from the collector's history (/api/v1/series) or, when it keeps none, from the summaries
// this page has polled since it opened.

import uPlot from 'uplot';

const MAX_CHARTS = 8; // the busiest ports; more would push the tables off screen
const COLORS = { inbound: '#1d4ed8', outbound: '#c2410c' };

/** A timeline: ts in seconds (uPlot's unit), and per port, per direction, a value (or null) at each t. */
function emptyTimeline() {
  return { ts: [], ports: new Map(), hasData: false, window: null };
}

function lineOf(timeline, port, direction) {
  let byDir = timeline.ports.get(port);
  if (!byDir) timeline.ports.set(port, (byDir = { inbound: [], outbound: [] }));
  const line = byDir[direction];
  while (line.length < timeline.ts.length) line.push(null);
  return line;
}

/**
 * /api/v1/series → timeline, summing every key (node, state, pod…) of a port and direction at each
 * step. Every step is kept (a step without samples is a gap in the line, not a jump over it);
 * `hasData` says whether any step had a sample, and the x axis spans the whole range asked for.
 */
export function timelineFromSeries(answer) {
  const timeline = emptyTimeline();
  const times = new Set();
  for (const s of answer.series) for (const p of s.points) if (p) times.add(p.t);
  timeline.ts = [...times].sort((a, b) => a - b);
  const index = new Map(timeline.ts.map((t, i) => [t, i]));
  for (const s of answer.series) {
    const line = lineOf(timeline, s.key.port, s.key.direction);
    for (const p of s.points) {
      if (!p || p.avg === null || p.avg === undefined) continue;
      const i = index.get(p.t);
      line[i] = (line[i] ?? 0) + p.avg;
      timeline.hasData = true;
    }
  }
  timeline.ts = timeline.ts.map((t) => t / 1000);
  timeline.window = [answer.from / 1000, (answer.to + answer.stepMs) / 1000];
  return timeline;
}

/** Without history: keep the polled summaries (bounded) and turn them into a timeline. */
export class LiveHistory {
  constructor(maxPoints = 720) {
    this.maxPoints = maxPoints;
    this.samples = []; // [{ t (ms), counts: Map('port|direction' → count) }]
  }

  add(tMs, summary) {
    const counts = new Map();
    for (const c of summary.connections) {
      const key = `${c.port}|${c.direction}`;
      counts.set(key, (counts.get(key) ?? 0) + c.count);
    }
    this.samples.push({ t: tMs, counts });
    if (this.samples.length > this.maxPoints) this.samples.shift();
  }

  timeline(fromMs) {
    const timeline = emptyTimeline();
    const kept = this.samples.filter((s) => s.t >= fromMs);
    const keys = new Set(kept.flatMap((s) => [...s.counts.keys()]));
    timeline.ts = kept.map((s) => s.t / 1000);
    for (const key of keys) {
      const [port, direction] = key.split('|');
      const line = lineOf(timeline, Number(port), direction);
      kept.forEach((s, i) => (line[i] = s.counts.get(key) ?? 0));
    }
    return timeline;
  }
}

/** Owns the chart elements: creates a chart per port once, then only swaps its data. */
export class PortCharts {
  constructor(container) {
    this.container = container;
    this.charts = new Map(); // port → uPlot
    this.window = null; // [from, to] in s for history; null: fit the data
  }

  show(timeline) {
    this.window = timeline.window;
    const peak = (byDir) => Math.max(0, ...[...byDir.inbound, ...byDir.outbound].map((v) => v ?? 0));
    const ports = [...timeline.ports.entries()].sort((a, b) => peak(b[1]) - peak(a[1]) || a[0] - b[0]).slice(0, MAX_CHARTS);
    const wanted = new Set(ports.map(([port]) => port));
    for (const [port, chart] of this.charts) {
      if (!wanted.has(port)) {
        chart.root.parentElement.remove();
        chart.destroy();
        this.charts.delete(port);
      }
    }
    if (ports.length === 0) {
      this.container.dataset.empty = 'true';
      return;
    }
    delete this.container.dataset.empty;
    for (const [port, byDir] of ports) {
      const fill = (line) => timeline.ts.map((_, i) => line[i] ?? null);
      const data = [timeline.ts, fill(byDir.inbound), fill(byDir.outbound)];
      const chart = this.charts.get(port);
      if (chart) chart.setData(data);
      else this.charts.set(port, this.create(port, data));
    }
  }

  create(port, data) {
    const box = document.createElement('div');
    box.className = 'chart';
    box.dataset.port = String(port);
    const title = document.createElement('h3');
    title.textContent = `port ${port}`;
    box.append(title);
    this.container.append(box);
    const width = Math.max(300, box.clientWidth - 12);
    return new uPlot(
      {
        width,
        height: 180,
        series: [
          {},
          { label: 'inbound', stroke: COLORS.inbound, width: 2, spanGaps: false },
          { label: 'outbound', stroke: COLORS.outbound, width: 2, spanGaps: false },
        ],
        axes: [{}, { size: 50 }],
        scales: {
          // Read at every setData, so a new range or a switch between history and live applies at once.
          x: { time: true, range: (_u, min, max) => this.window ?? (min === max ? [min - 1, max + 1] : [min, max]) },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
      },
      data,
      box,
    );
  }
}
