// Radix-2 complex FFT, in place on split real/imaginary arrays: the probe locator and the
// measurement use it for correlation (latency) and for cross-spectrum phase (sub-sample
// delay); signals of a few seconds at 96 kHz fit a 2^20 transform, which this does in well
// under a second. (The lab had two FFTs; the block-by-block one it replaced is kept only in
// latency.test.ts, as the bit-for-bit reference for the twiddle tables.)

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Twiddle tables by transform length and sign (a few lengths; each about 2N numbers). */
const twiddleTables = new Map<number, Float64Array[]>();
const TWIDDLE_TABLES_KEPT = 8;

/**
 * Each stage's twiddle factors (re, im interleaved), by the recurrence c <- c·w from 1 that
 * the butterflies once ran block by block: the same numbers, computed once per stage, not
 * once per block (the transform's results are unchanged to the bit).
 */
function twiddles(n: number, sign: number): Float64Array[] {
  const key = sign * n;
  let stages = twiddleTables.get(key);
  if (stages) return stages;
  stages = [];
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const ang = (sign * 2 * Math.PI) / len;
    const wRe = Math.cos(ang);
    const wIm = Math.sin(ang);
    const w = new Float64Array(2 * half);
    let cRe = 1;
    let cIm = 0;
    for (let k = 0; k < half; k++) {
      w[2 * k] = cRe;
      w[2 * k + 1] = cIm;
      const nRe = cRe * wRe - cIm * wIm;
      cIm = cRe * wIm + cIm * wRe;
      cRe = nRe;
    }
    stages.push(w);
  }
  if (n > 1 << 17) return stages; // not kept: 2^18 points and more hold 4 MB and up
  if (twiddleTables.size >= TWIDDLE_TABLES_KEPT) twiddleTables.clear();
  twiddleTables.set(key, stages);
  return stages;
}

/** An FFT in place: fft below, or the addon's (native-fft.ts), the same to the bit. */
export type Transform = (re: Float64Array, im: Float64Array, inverse?: boolean) => void;

/** Forward transform (e^{-iωn}); `inverse` uses e^{+iωn} and divides by N. */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`fft: real (${n}) and imaginary (${im.length}) lengths differ`);
  if (n === 0 || (n & (n - 1)) !== 0) throw new Error(`fft: length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      // Swapped through locals: a destructuring swap builds an array per swap in V8.
      const r = re[i];
      re[i] = re[j];
      re[j] = r;
      const m = im[i];
      im[i] = im[j];
      im[j] = m;
    }
  }
  const stages = twiddles(n, inverse ? 1 : -1);
  for (let len = 2, stage = 0; len <= n; len <<= 1, stage++) {
    const half = len >> 1;
    const w = stages[stage];
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < half; k++) {
        const cRe = w[2 * k];
        const cIm = w[2 * k + 1];
        const a = start + k;
        const b = a + half;
        const tRe = re[b] * cRe - im[b] * cIm;
        const tIm = re[b] * cIm + im[b] * cRe;
        re[b] = re[a] - tRe;
        im[b] = im[a] - tIm;
        re[a] += tRe;
        im[a] += tIm;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] /= n;
      im[i] /= n;
    }
  }
}

/**
 * Linear cross-correlation r[k] = Σ_n y[n + k]·x[n] for lags k = 0 … y.length − 1
 * (x is the reference, y the capture that contains it somewhere later).
 */
export function crossCorrelate(x: ArrayLike<number>, y: ArrayLike<number>, transform: Transform = fft): Float64Array {
  const n = nextPow2(x.length + y.length);
  const { re: xr, im: xi } = spectrumOf(x, n, 0, transform);
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  for (let i = 0; i < y.length; i++) yr[i] = y[i];
  transform(yr, yi);
  // Y · conj(X)
  for (let i = 0; i < n; i++) {
    const r = yr[i] * xr[i] + yi[i] * xi[i];
    const m = yi[i] * xr[i] - yr[i] * xi[i];
    yr[i] = r;
    yi[i] = m;
  }
  transform(yr, yi, true);
  return yr.slice(0, y.length);
}

/** Spectra remembered (read only): the last few signals transformed by spectrumOf. */
const spectra: { x: Float64Array; n: number; offset: number; transform: Transform; re: Float64Array; im: Float64Array }[] = [];
const SPECTRA_KEPT = 4;
/** Longer transforms are not kept (4 of 2^17 points hold 8 MB). */
const SPECTRUM_KEPT_MAX = 1 << 17;

/**
 * fft of `x` placed at `offset` in n zeros, to be read, not written. A latency measurement
 * correlates the same probe period with window after window of the capture: its spectrum
 * is remembered (the last SPECTRA_KEPT signals, compared value by value, -0 apart from 0),
 * not computed again; the very numbers fft gives, as the same input gives the same output.
 */
export function spectrumOf(x: ArrayLike<number>, n: number, offset = 0, transform: Transform = fft): { re: Float64Array; im: Float64Array } {
  for (const s of spectra) {
    // (By transform too: one way's spectrum must not stand in for the other's, which it checks.)
    if (s.n !== n || s.offset !== offset || s.x.length !== x.length || s.transform !== transform) continue;
    let same = true;
    for (let i = 0; i < x.length && same; i++) {
      const a = s.x[i];
      const b = x[i];
      same = a === b && (a !== 0 || 1 / a === 1 / b);
    }
    if (same) return s;
  }
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < x.length; i++) re[i + offset] = x[i];
  transform(re, im);
  if (n > SPECTRUM_KEPT_MAX) return { re, im };
  if (spectra.length >= SPECTRA_KEPT) spectra.shift();
  const entry = { x: Float64Array.from(x as ArrayLike<number>), n, offset, transform, re, im };
  spectra.push(entry);
  return entry;
}
