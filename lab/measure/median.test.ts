// The glitch detector's median (quickselect) must be the sort's: the element at floor(n/2)
// of the array sorted as Float64Array sorts it, for any input (duplicates, NaN, -0, runs
// already in order, all equal).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median } from './glitches.ts';

const bySort = (v: Float64Array) => (v.length === 0 ? 0 : Float64Array.from(v).sort()[Math.floor(v.length / 2)]);

describe('median', () => {
  it('equals the sorted array at floor(n/2), and leaves its input alone', () => {
    const value = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1, 1, 1, NaN, Infinity, -Infinity), fc.integer({ min: -3, max: 3 }).map((x) => x / 4));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), fc.constantFrom('as is', 'sorted', 'reversed'), (xs, order) => {
        const v = Float64Array.from(xs);
        if (order !== 'as is') v.sort();
        if (order === 'reversed') v.reverse();
        const before = Float64Array.from(v);
        const got = median(v);
        return Object.is(got, bySort(v)) && v.every((x, i) => Object.is(x, before[i]));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals it on long arrays as the detector sees them', () => {
    for (const n of [1, 2, 3, 1000, 48_001, 200_000]) {
      const v = new Float64Array(n);
      let s = n;
      for (let i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        v[i] = Math.abs(Math.sin(i * 0.013) * 0.1 + (s / 2 ** 32 - 0.5) * 1e-4);
      }
      expect(median(v)).toBe(bySort(v));
      expect(median(v.map(() => 0.5))).toBe(0.5);
    }
  });
});
