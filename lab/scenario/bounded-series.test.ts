// Long report series keep every stretch's extremes in time order; short ones stay whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedSeries } from './bounded-series.ts';

describe('BoundedSeries', () => {
  const keeps = (vals: number[], max: number) => {
    const b = new BoundedSeries(max);
    vals.forEach((v, i) => b.add(i, v));
    const d = b.series('x', 'ns');
    if (vals.length <= max) return JSON.stringify(d.values) === JSON.stringify(vals) && d.t.every((x, i) => x === i);
    const ordered = d.t.every((x, i) => i === 0 || x > d.t[i - 1]);
    const fromSource = d.t.every((x, i) => vals[x] === d.values[i]);
    const extremes = Math.min(...d.values) === Math.min(...vals) && Math.max(...d.values) === Math.max(...vals);
    return d.t.length <= max && ordered && fromSource && extremes && b.count === vals.length && b.min === Math.min(...vals) && b.max === Math.max(...vals);
  };

  it('keeps up to the limit whole, then the extremes in time order within the limit', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 3000 }), fc.integer({ min: 4, max: 60 }), keeps), { numRuns: 300 });
  });

  it('does the same with limits past its first storage (grown as stretches come)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 200, maxLength: 6000 }), fc.integer({ min: 250, max: 1500 }), keeps), { numRuns: 40 });
  });

  it('covers the whole run: a spike late in a long series is kept, and the series reaches the end', () => {
    const b = new BoundedSeries(100);
    const n = 1_000_003;
    for (let i = 0; i < n; i++) b.add(i, i === 987_654 ? 5000 : i % 7);
    const d = b.series('x', 'ns');
    expect(d.t.length).toBeLessThanOrEqual(100);
    expect(d.t.length).toBeGreaterThan(40);
    expect(d.t[d.values.indexOf(5000)]).toBe(987_654);
    expect(d.t.at(-1)).toBeGreaterThan(n - n / 20);
    expect(d.label).toContain(`${n} samples`);
  });
});
