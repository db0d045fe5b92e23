// Latency probe: a maximum-length sequence (MLS) of degree k, period N = 2^k − 1, played as
// ±A by absolute sample index (sample n plays element n mod N). Its documented property
// (Golomb, "Shift Register Sequences", ch. III): the periodic autocorrelation of the ±1
// sequence is N at lag 0 and exactly −1 at every other lag, so a circular correlation of
// one received period against the sequence has a single peak N·A at the delay, and every
// other lag sits at −A: delay is read to the sample, modulo N, with no ambiguity.
import { fft } from './fft.ts';
import { checkLevel, checkRenderArgs, checkSampleRate, rmsOfDbfs, type Signal } from './signal.ts';

/**
 * Feedback taps of a maximal Fibonacci LFSR per degree (exponents of a primitive
 * polynomial, the form of Xilinx XAPP052's table). The unit test runs every register to
 * its period, so a wrong entry cannot pass.
 */
export const MLS_TAPS: Record<number, number[]> = {
  2: [2, 1],
  3: [3, 2],
  4: [4, 3],
  5: [5, 3],
  6: [6, 5],
  7: [7, 6],
  8: [8, 6, 5, 4],
  9: [9, 5],
  10: [10, 7],
  11: [11, 9],
  12: [12, 6, 4, 1],
  13: [13, 4, 3, 1],
  14: [14, 5, 3, 1],
  15: [15, 14],
  16: [16, 15, 13, 4],
  17: [17, 14],
  18: [18, 11],
  19: [19, 6, 2, 1],
  20: [20, 17],
};

/** The register's state sequence: element i is +1 or −1; length 2^degree − 1. */
export function mlsSequence(degree: number): Int8Array {
  const taps = MLS_TAPS[degree];
  if (!taps) throw new RangeError(`MLS degree ${degree}: use ${Object.keys(MLS_TAPS).join(', ')}`);
  const n = 2 ** degree - 1;
  const out = new Int8Array(n);
  let state = n; // all ones: any non-zero start lies on the one maximal cycle
  for (let i = 0; i < n; i++) {
    out[i] = state & 1 ? -1 : 1;
    let bit = 0;
    for (const t of taps) bit ^= state >>> (degree - t);
    state = (state >>> 1) | ((bit & 1) << (degree - 1));
  }
  return out;
}

/** Steps the register until it returns to its start; the period (2^degree − 1 if maximal). */
export function lfsrPeriod(degree: number): number {
  const taps = MLS_TAPS[degree];
  if (!taps) throw new RangeError(`MLS degree ${degree} has no taps`);
  const start = 2 ** degree - 1;
  let state = start;
  for (let i = 1; i <= 2 ** degree; i++) {
    let bit = 0;
    for (const t of taps) bit ^= state >>> (degree - t);
    state = (state >>> 1) | ((bit & 1) << (degree - 1));
    if (state === start) return i;
  }
  return Infinity;
}

export interface ProbeOptions {
  /** MLS degree, 2..20 (default 15: 32767 samples, 0.68 s at 48 kHz). */
  degree?: number;
  /** AES17 dBFS; a ±A square has RMS A, so at most −3.01 dBFS without clipping. */
  levelDbfs: number;
}

export interface Probe extends Signal {
  readonly sequence: Int8Array;
  readonly amplitude: number;
}

export function mlsProbe(o: ProbeOptions, sampleRate: number): Probe {
  checkSampleRate(sampleRate);
  checkLevel(o.levelDbfs, 'probe', -3.0103);
  const degree = o.degree ?? 15;
  const sequence = mlsSequence(degree);
  const n = sequence.length;
  const amplitude = rmsOfDbfs(o.levelDbfs);
  return {
    description: `MLS probe degree ${degree} (${n} samples) ${o.levelDbfs} dBFS`,
    sampleRate,
    sequence,
    amplitude,
    render(start, frames, channels, out) {
      const buf = checkRenderArgs(start, frames, channels, out);
      let k = start % n;
      for (let i = 0; i < frames; i++) {
        const v = amplitude * sequence[k];
        for (let c = 0; c < channels; c++) buf[i * channels + c] = v;
        if (++k === n) k = 0;
      }
      return buf;
    },
  };
}

export interface ProbeMatch {
  /** Sequence index of the window's first sample: the window starts at element `phase`. */
  phase: number;
  /** Correlation peak divided by the largest |correlation| elsewhere (≈ N for a clean probe). */
  peakRatio: number;
  /** Peak correlation divided by N·A: 1 for an undistorted probe at full amplitude. */
  gain: number;
}

/**
 * Finds where a received window (one channel, `stride`/`offset` into interleaved samples,
 * at least one period long) sits in the probe. A receiver that knows the window's own
 * absolute index R gets the delay as (R − phase) mod N.
 */
export function locateProbe(probe: Probe, x: Float32Array, stride = 1, offset = 0): ProbeMatch {
  const seq = probe.sequence;
  const n = seq.length;
  const available = Math.floor((x.length - offset) / stride);
  if (available < n) throw new RangeError(`probe window has ${available} samples, needs one period (${n})`);
  let size = 1;
  while (size < 3 * n) size <<= 1;
  const xr = new Float64Array(size);
  const xi = new Float64Array(size);
  const sr = new Float64Array(size);
  const si = new Float64Array(size);
  for (let i = 0; i < n; i++) xr[i] = x[offset + i * stride];
  for (let j = 0; j < 2 * n; j++) sr[j] = seq[j % n];
  fft(xr, xi);
  fft(sr, si);
  // c[p] = Σ x[i]·s[p + i] = IFFT(conj(X)·S)[p]
  for (let k = 0; k < size; k++) {
    const r = xr[k] * sr[k] + xi[k] * si[k];
    const i = xr[k] * si[k] - xi[k] * sr[k];
    xr[k] = r;
    xi[k] = i;
  }
  fft(xr, xi, true);
  let best = 0;
  for (let p = 1; p < n; p++) if (xr[p] > xr[best]) best = p;
  let other = 0;
  for (let p = 0; p < n; p++) if (p !== best) other = Math.max(other, Math.abs(xr[p]));
  return { phase: best, peakRatio: other === 0 ? Infinity : xr[best] / other, gain: xr[best] / (n * probe.amplitude) };
}
