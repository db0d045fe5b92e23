// A report's time series kept to a size a report.json and its plots can carry: a soak of a
// day samples the device's PTP error 8.64 million times. Longer series are cut into
// buckets of equal sample count and each bucket keeps its lowest and its highest sample
// (in time order), so every extreme stays in the plot; the figures judged (fill min/max,
// PTP rms/max) are computed from every sample, not from this.
import type { Series } from '../report/schema.ts';

/** Series up to this many points are kept whole. */
export const MAX_SERIES_POINTS = 20_000;

export function decimateSeries(s: Series, maxPoints = MAX_SERIES_POINTS): Series {
  const n = s.t.length;
  if (n <= maxPoints) return s;
  const buckets = Math.floor(maxPoints / 2);
  const t: number[] = [];
  const values: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (s.values[i] < s.values[lo]) lo = i;
      if (s.values[i] > s.values[hi]) hi = i;
    }
    for (const i of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) {
      t.push(s.t[i]);
      values.push(s.values[i]);
    }
  }
  return { ...s, label: `${s.label}; ${n} samples shown as the lowest and highest of ${buckets} stretches`, t, values };
}
