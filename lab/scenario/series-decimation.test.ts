// Long report series keep every bucket's extremes in time order; short ones stay whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimateSeries } from './series-decimation.ts';

describe('decimateSeries', () => {
  it('keeps short series whole', () => {
    const s = { label: 'x', unit: 'ns', t: [0, 1, 2], values: [3, 1, 2] };
    expect(decimateSeries(s, 10)).toBe(s);
  });

  it('keeps the global extremes, time order, and at most the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 2, max: 50 }), (vals, max) => {
        const s = { label: 'x', unit: 'ns', t: vals.map((_, i) => i / 100), values: vals };
        const d = decimateSeries(s, max);
        if (vals.length <= max) return d === s;
        const sortedT = d.t.every((x, i) => i === 0 || x > d.t[i - 1]);
        const fromSource = d.t.every((x, i) => s.values[Math.round(x * 100)] === d.values[i]);
        return d.t.length <= max && sortedT && fromSource && Math.min(...d.values) === Math.min(...vals) && Math.max(...d.values) === Math.max(...vals);
      }),
      { numRuns: 500 },
    );
  });
});
