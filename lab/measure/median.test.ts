// The glitch detector's median (quickselect; on long arrays first a bracket from a sample)
// must be the sort's: the element at floor(n/2) of the array sorted as Float64Array sorts
// it, for any input (duplicates, NaN, -0, runs already in order, all equal, and long arrays
// whose sample misleads the bracket).
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

  it('equals it on long arrays of any shape, including ones whose spread sample misleads the bracket', () => {
    const shapes = ['uniform', 'few values', 'heavy tail', 'sorted', 'reversed', 'sample positions extreme', 'sample positions tied', 'half zeros'] as const;
    fc.assert(
      fc.property(fc.integer({ min: 8192, max: 40_000 }), fc.integer(), fc.constantFrom(...shapes), (n, seed, shape) => {
        let s = seed >>> 0;
        const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
        const v = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const r = rnd();
          v[i] = shape === 'few values' ? Math.floor(r * 4) / 8 : shape === 'heavy tail' ? (-Math.log(r + 1e-300)) ** 3 : shape === 'half zeros' ? (r < 0.5 ? 0 : r) : r - 0.5;
        }
        if (shape === 'sorted') v.sort();
        if (shape === 'reversed') v.sort().reverse();
        // The bracket samples v[floor(j·n/2048)]: make those all the largest, or all one value near the median.
        for (let j = 0; j < 2048; j++) {
          if (shape === 'sample positions extreme') v[Math.floor((j * n) / 2048)] = 1e9 + j;
          if (shape === 'sample positions tied') v[Math.floor((j * n) / 2048)] = 0.001;
        }
        return Object.is(median(v), bySort(v));
      }),
      { numRuns: 300 },
    );
  });

  it('on the edges of the bracket: the k-th just above it, or just inside it', () => {
    const n = 16_384;
    const k = n / 2;
    for (const [inBracket, rest] of [[0.25, 0.9], [0.25, 0.1]]) {
      // The sampled positions hold one value, the bracket; of the others k - 2048 lie below it (0.1) and the rest at `rest`.
      const v = new Float64Array(n);
      const sampled = new Set(Array.from({ length: 2048 }, (_, j) => Math.floor((j * n) / 2048)));
      let low = 0;
      for (let i = 0; i < n; i++) v[i] = sampled.has(i) ? inBracket : low++ < k - 2048 ? 0.1 : rest;
      expect(median(v)).toBe(bySort(v));
      v[n - 1] = 0.1; // one more below: the k-th is now inside the bracket
      expect(median(v)).toBe(bySort(v));
    }
  });
});
