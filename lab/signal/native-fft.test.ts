// The FFT in C++ (native-fft.ts) against fft.ts's, to the bit (-0 apart from 0): every
// length from 1 to 2^18, forward and inverse, on random, impulsive and silent input; the
// same errors; and the latency estimate (crossCorrelate, the sub-sample phase) either way.
import { describe, expect, it } from 'vitest';
import { addonBuilt, addonMissingNote } from '../../native/index.ts';
import { estimateDelay } from '../measure/latency.ts';
import { crossCorrelate, fft } from './fft.ts';
import { fftNative } from './native-fft.ts';

/** Both transforms on copies of (re, im): the same numbers, bit for bit. */
function same(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const [a, b, c, d] = [re.slice(), im.slice(), re.slice(), im.slice()];
  fft(a, b, inverse);
  fftNative(c, d, inverse);
  const bits = (x: Float64Array) => new BigUint64Array(x.buffer.slice(0));
  expect(bits(c)).toEqual(bits(a));
  expect(bits(d)).toEqual(bits(b));
}

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;

describe.skipIf(!addonBuilt())(`the FFT in C++ against fft.ts${addonMissingNote()}`, () => {
  it('every power-of-two length to 2^18, forward and inverse: random, impulse, silence', () => {
    for (let n = 1; n <= 1 << 18; n *= 2) {
      const re = Float64Array.from({ length: n }, rand);
      const im = Float64Array.from({ length: n }, () => (n < 1 << 16 ? rand() : 0));
      same(re, im, false);
      same(re, im, true);
      const impulse = new Float64Array(n);
      impulse[n >> 1] = -1;
      same(impulse, new Float64Array(n), false);
      same(new Float64Array(n), new Float64Array(n).fill(-0), true);
    }
  });

  it('the same errors', () => {
    for (const [re, im] of [
      [new Float64Array(8), new Float64Array(4)],
      [new Float64Array(6), new Float64Array(6)],
      [new Float64Array(0), new Float64Array(0)],
    ]) {
      let theirs = '';
      try {
        fft(re, im);
      } catch (e) {
        theirs = (e as Error).message;
      }
      expect(theirs).toMatch(/^fft: /);
      expect(() => fftNative(re, im)).toThrow(theirs);
    }
  });

  it('a probe found in a capture: the same correlation and delay either way', () => {
    const probe = Float32Array.from({ length: 4095 }, () => (rand() < 0 ? -0.5 : 0.5));
    const capture = new Float32Array(3 * 4095);
    for (let i = 0; i < probe.length; i++) capture[1234 + i] = 0.8 * probe[i] + 0.01 * rand();
    expect(crossCorrelate(probe, capture, fftNative)).toEqual(crossCorrelate(probe, capture));
    const native = estimateDelay(probe, capture, { transform: fftNative });
    expect(native).toEqual(estimateDelay(probe, capture));
    expect(native.lagSamples).toBe(1234);
  });
});
