// SNR, THD and THD+N of a captured sine. The fundamental is removed by a four-parameter
// least-squares sine fit (IEEE Std 1057: amplitude, phase, offset and frequency, iterated),
// so a slightly drifted clock does not leak the fundamental into the "noise"; harmonics
// 2…K are then fitted at exact multiples of that frequency and removed one by one.
//
// The fit starts from a Hann-windowed FFT peak (interpolated) and grows its record four
// times at a step, so Gauss-Newton never starts more than a fraction of a cycle off.
//
// Figures are relative to the fundamental's rms:
//   THD+N = rms(x − fundamental − dc) / rms(fundamental)
//   THD   = sqrt(Σ rms(harmonic k)²)  / rms(fundamental)
//   SNR   = rms(fundamental) / rms(x − fundamental − harmonics − dc)

import { fft, nextPow2 } from '../signal/fft.ts';

export interface SineQuality {
  frequencyHz: number;
  /** Peak amplitude of the fundamental, full scale = 1. */
  amplitude: number;
  dc: number;
  fundamentalRms: number;
  harmonics: { order: number; amplitude: number; levelDbc: number }[];
  thd: number;
  thdDb: number;
  thdn: number;
  thdnDb: number;
  noiseRms: number;
  snrDb: number;
}

export interface SineQualityOptions {
  /** Starting guess; otherwise from the recurrence x[n+1] + x[n−1] = 2cos(ω)·x[n]. */
  frequencyHz?: number;
  /** Highest harmonic order fitted (those above Nyquist are skipped). */
  harmonics?: number;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

/** a, b, dc fitting a·cos(ωt) + b·sin(ωt) + dc with t centred on the record. */
function threeParam(x: Float32Array | Float64Array, omega: number, withDc: boolean): { a: number; b: number; dc: number } {
  const n = x.length;
  const mid = (n - 1) / 2;
  // Normal equations of [cos, sin, 1].
  let cc = 0, ss = 0, cs = 0, c1 = 0, s1 = 0, xc = 0, xs = 0, x1 = 0;
  for (let i = 0; i < n; i++) {
    const t = i - mid;
    const c = Math.cos(omega * t);
    const s = Math.sin(omega * t);
    cc += c * c; ss += s * s; cs += c * s; c1 += c; s1 += s;
    xc += x[i] * c; xs += x[i] * s; x1 += x[i];
  }
  if (!withDc) {
    const det = cc * ss - cs * cs;
    return { a: (xc * ss - xs * cs) / det, b: (xs * cc - xc * cs) / det, dc: 0 };
  }
  const m = [
    [cc, cs, c1, xc],
    [cs, ss, s1, xs],
    [c1, s1, n, x1],
  ];
  return solve3(m);
}

function solve3(m: number[][]): { a: number; b: number; dc: number } {
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    [m[col], m[piv]] = [m[piv], m[col]];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let k = col; k < 4; k++) m[r][k] -= f * m[col][k];
    }
  }
  return { a: m[0][3] / m[0][0], b: m[1][3] / m[1][1], dc: m[2][3] / m[2][2] };
}

/** ω of the largest peak of a Hann-windowed spectrum, interpolated on log magnitude. */
function coarseOmega(x: Float32Array): number {
  const len = Math.min(x.length, 1 << 17);
  const n = nextPow2(2 * len);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  let energy = 0;
  for (let i = 0; i < len; i++) {
    re[i] = x[i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (len - 1)));
    energy += x[i] * x[i];
  }
  if (energy === 0) throw new Error('sineQuality: the signal is silent');
  fft(re, im);
  const mag = (k: number) => Math.log(Math.hypot(re[k], im[k]) + 1e-300);
  let best = 2;
  for (let k = 3; k < n / 2 - 1; k++) if (Math.hypot(re[k], im[k]) > Math.hypot(re[best], im[best])) best = k;
  const [a, b, c] = [mag(best - 1), mag(best), mag(best + 1)];
  const denom = a - 2 * b + c;
  const delta = denom === 0 ? 0 : (0.5 * (a - c)) / denom;
  return (2 * Math.PI * (best + delta)) / n;
}

/** Four-parameter fit: Gauss-Newton on ω around the three-parameter solution. */
function fourParam(x: Float32Array, omega0: number): { omega: number; a: number; b: number; dc: number } {
  const n = x.length;
  const mid = (n - 1) / 2;
  let omega = omega0;
  let p = threeParam(x, omega, true);
  for (let iter = 0; iter < 20; iter++) {
    // Columns: cos, sin, 1, ∂/∂ω = t·(−a·sin + b·cos). Solve the 4×4 normal equations.
    const g = Array.from({ length: 4 }, () => new Float64Array(5));
    for (let i = 0; i < n; i++) {
      const t = i - mid;
      const c = Math.cos(omega * t);
      const s = Math.sin(omega * t);
      const col = [c, s, 1, t * (-p.a * s + p.b * c)];
      for (let r = 0; r < 4; r++) {
        for (let k = 0; k < 4; k++) g[r][k] += col[r] * col[k];
        g[r][4] += col[r] * x[i];
      }
    }
    const sol = solveN(g);
    const dOmega = sol[3];
    p = { a: sol[0], b: sol[1], dc: sol[2] };
    omega += dOmega;
    if (Math.abs(dOmega) < 1e-13) break;
  }
  p = threeParam(x, omega, true);
  return { omega, ...p };
}

function solveN(g: Float64Array[]): number[] {
  const n = g.length;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(g[r][col]) > Math.abs(g[piv][col])) piv = r;
    [g[col], g[piv]] = [g[piv], g[col]];
    if (g[col][col] === 0) throw new Error('sine fit: singular system (is the record shorter than a period?)');
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = g[r][col] / g[col][col];
      for (let k = col; k <= n; k++) g[r][k] -= f * g[col][k];
    }
  }
  return g.map((row, i) => row[n] / row[i]);
}

function subtract(res: Float64Array, omega: number, a: number, b: number, dc: number): void {
  const mid = (res.length - 1) / 2;
  for (let i = 0; i < res.length; i++) {
    const t = i - mid;
    res[i] -= a * Math.cos(omega * t) + b * Math.sin(omega * t) + dc;
  }
}

function rms(x: Float64Array): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] * x[i];
  return Math.sqrt(acc / x.length);
}

export function sineQuality(x: Float32Array, sampleRate: number, options: SineQualityOptions = {}): SineQuality {
  if (x.length < 64) throw new Error(`sineQuality: ${x.length} samples is too short; need at least 64`);
  let omega = options.frequencyHz !== undefined ? (2 * Math.PI * options.frequencyHz) / sampleRate : coarseOmega(x);
  let f = fourParam(x.subarray(0, Math.min(x.length, 4096)), omega);
  for (let len = 16384; ; len *= 4) {
    omega = f.omega;
    f = fourParam(x.subarray(0, Math.min(x.length, len)), omega);
    if (len >= x.length) break;
  }
  const amplitude = Math.hypot(f.a, f.b);
  if (amplitude === 0) throw new Error('sineQuality: no sine found');
  const fundamentalRms = amplitude / Math.SQRT2;
  const res = Float64Array.from(x);
  subtract(res, f.omega, f.a, f.b, f.dc);
  const thdnRms = rms(res);

  const harmonics: SineQuality['harmonics'] = [];
  const maxOrder = options.harmonics ?? 10;
  const coeffs = new Map<number, { a: number; b: number }>();
  // Two passes of one-at-a-time fits converge because harmonics are near-orthogonal over many periods.
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 2; k <= maxOrder; k++) {
      const w = k * f.omega;
      if (w >= Math.PI * 0.999) break;
      const prev = coeffs.get(k);
      if (prev) subtract(res, w, -prev.a, -prev.b, 0); // add back the previous estimate
      const h = threeParam(res, w, false);
      subtract(res, w, h.a, h.b, 0);
      coeffs.set(k, h);
    }
  }
  let harmonicPower = 0;
  for (const [order, h] of coeffs) {
    const amp = Math.hypot(h.a, h.b);
    harmonicPower += (amp * amp) / 2;
    harmonics.push({ order, amplitude: amp, levelDbc: db(amp / amplitude) });
  }
  const noiseRms = rms(res);
  const thd = Math.sqrt(harmonicPower) / fundamentalRms;
  const thdn = thdnRms / fundamentalRms;
  return {
    frequencyHz: (f.omega * sampleRate) / (2 * Math.PI),
    amplitude,
    dc: f.dc,
    fundamentalRms,
    harmonics,
    thd,
    thdDb: db(thd),
    thdn,
    thdnDb: db(thdn),
    noiseRms,
    snrDb: db(fundamentalRms / noiseRms),
  };
}
