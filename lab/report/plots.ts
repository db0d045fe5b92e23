// The report's plots as inline SVG: vega-lite specs compiled to vega and rendered in Node
// (View.toSVG with renderer 'none'), so index.html needs no script and fetches nothing.
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { ScenarioResult, Series } from './schema.ts';

export type PlotKind = 'ptp-offset' | 'playout-fill' | 'latency-histogram' | 'pit-histogram' | 'glitch-timeline';

export interface Plot {
  kind: PlotKind;
  title: string;
  /** Marks the data layer should draw (points, line segments' series, bars): what a viewer must see. */
  dataRows: number;
  spec: vl.TopLevelSpec;
}

const WIDTH = 640;
const HEIGHT = 170;
/** Long runs (24 h of virtual time) are decimated to this many points per series, keeping each bucket's min and max. */
export const MAX_POINTS_PER_SERIES = 2000;

/** Min/max decimation: every extreme survives, so a spike is never smoothed away. */
export function decimate(t: number[], v: number[], maxPoints = MAX_POINTS_PER_SERIES): { t: number[]; v: number[] } {
  if (t.length <= maxPoints) return { t, v };
  const buckets = Math.floor(maxPoints / 2);
  const size = t.length / buckets;
  const ot: number[] = [];
  const ov: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(t.length, Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (v[i] < v[lo]) lo = i;
      if (v[i] > v[hi]) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) {
      if (ot.length && ot[ot.length - 1] === t[i] && ov[ov.length - 1] === v[i]) continue;
      ot.push(t[i]);
      ov.push(v[i]);
    }
  }
  return { t: ot, v: ov };
}

function seriesRows(series: Series[]): { t: number; v: number; label: string }[] {
  return series.flatMap((s) => {
    const d = decimate(s.t, s.values);
    return d.t.map((t, i) => ({ t, v: d.v[i], label: s.label }));
  });
}

function base(title: string, description: string): Partial<vl.TopLevelSpec> {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, description, width: WIDTH, height: HEIGHT, background: 'white', config: { font: 'sans-serif', axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { orient: 'right', labelLimit: 240 } } };
}

function lineSeries(kind: PlotKind, title: string, series: Series[], yTitle: string): Plot | undefined {
  const values = seriesRows(series);
  if (values.length === 0) return undefined;
  const units = [...new Set(series.map((s) => s.unit))];
  return {
    kind,
    title,
    dataRows: values.length,
    spec: {
      ...base(title, `${title} over time`),
      data: { values },
      mark: { type: 'line', point: values.length <= 60, strokeWidth: 1.2 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time (s)' },
        y: { field: 'v', type: 'quantitative', title: `${yTitle} (${units.join(', ')})`, scale: { zero: false } },
        color: { field: 'label', type: 'nominal', title: null },
      },
    } as vl.TopLevelSpec,
  };
}

/** The plots a scenario has data for, in a fixed order. */
export function scenarioPlots(s: ScenarioResult): Plot[] {
  const plots: (Plot | undefined)[] = [];
  plots.push(lineSeries('ptp-offset', 'PTP offset from master', s.ptpOffset, 'offset'));
  plots.push(lineSeries('playout-fill', 'Playout-buffer fill', s.playoutFill, 'fill'));
  const lat = s.latency.flatMap((l) => l.values.map((ms) => ({ ms, label: `${l.label} (${l.mode})` })));
  if (lat.length > 0) {
    plots.push({
      kind: 'latency-histogram',
      title: 'Latency',
      dataRows: lat.length,
      spec: {
        ...base('Latency', 'histogram of latency measurements'),
        data: { values: lat },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'ms', type: 'quantitative', bin: { maxbins: 40 }, title: 'latency (ms)' },
          y: { aggregate: 'count', type: 'quantitative', title: 'measurements' },
          color: { field: 'label', type: 'nominal', title: null },
        },
      } as vl.TopLevelSpec,
    });
  }
  const pit = s.pitHistogram.flatMap((h) => h.bins.filter((b) => b.count > 0).map((b) => ({ fromUs: b.fromUs, toUs: b.fromUs + h.binUs, count: b.count, label: h.label })));
  if (pit.length > 0) {
    plots.push({
      kind: 'pit-histogram',
      title: 'Packet inter-arrival time (PIT)',
      dataRows: pit.length,
      spec: {
        ...base('Packet inter-arrival time (PIT)', 'histogram of packet inter-arrival times per stream'),
        data: { values: pit },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'fromUs', type: 'quantitative', title: 'inter-arrival time (µs)', scale: { zero: false } },
          x2: { field: 'toUs' },
          y: { field: 'count', type: 'quantitative', title: 'packets (symlog)', scale: { type: 'symlog' } },
          y2: { datum: 0 },
          color: { field: 'label', type: 'nominal', title: null },
        },
      } as vl.TopLevelSpec,
    });
  }
  if (s.glitches.length > 0) {
    const values = s.glitches.map((g) => ({ t: g.t, channel: g.channel + 1, cause: g.cause ?? 'unexplained', kinds: g.kinds.join(', '), ms: g.lengthSamples }));
    plots.push({
      kind: 'glitch-timeline',
      title: 'Glitches',
      dataRows: values.length,
      spec: {
        ...base('Glitches', 'glitch timeline by channel, coloured by cause'),
        data: { values },
        mark: { type: 'point', filled: true, opacity: 1, size: 80, shape: 'diamond', tooltip: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain: [0, Math.max(s.durationS, ...values.map((v) => v.t))] } },
          y: { field: 'channel', type: 'ordinal', title: 'channel' },
          color: { field: 'cause', type: 'nominal', title: 'cause' },
        },
      } as vl.TopLevelSpec,
    });
  }
  return plots.filter((p): p is Plot => p !== undefined);
}

/** Renders a plot to an SVG string whose ids are prefixed, so several can share one page. */
export async function renderSvg(plot: Plot, idPrefix: string): Promise<string> {
  const compiled = vl.compile(plot.spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`)
      .replace(/href="#([^"]+)"/g, `href="#${idPrefix}-$1"`)
      .replace('<svg ', `<svg role="img" aria-label="${plot.title.replace(/"/g, '&quot;')}" `);
  } finally {
    view.finalize();
  }
}
