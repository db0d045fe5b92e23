// Radix-2 complex FFT, in place on split real/imaginary arrays. The measurement code needs
// it for correlation (latency) and for cross-spectrum phase (sub-sample delay); signals of
// a few seconds at 96 kHz fit a 2^20 transform, which this does in well under a second.

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

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
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const ang = (sign * 2 * Math.PI) / len;
    const wRe = Math.cos(ang);
    const wIm = Math.sin(ang);
    for (let start = 0; start < n; start += len) {
      let cRe = 1;
      let cIm = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k;
        const b = a + half;
        const tRe = re[b] * cRe - im[b] * cIm;
        const tIm = re[b] * cIm + im[b] * cRe;
        re[b] = re[a] - tRe;
        im[b] = im[a] - tIm;
        re[a] += tRe;
        im[a] += tIm;
        const nRe = cRe * wRe - cIm * wIm;
        cIm = cRe * wIm + cIm * wRe;
        cRe = nRe;
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
export function crossCorrelate(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const n = nextPow2(x.length + y.length);
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  for (let i = 0; i < x.length; i++) xr[i] = x[i];
  for (let i = 0; i < y.length; i++) yr[i] = y[i];
  fft(xr, xi);
  fft(yr, yi);
  // Y · conj(X)
  for (let i = 0; i < n; i++) {
    const r = yr[i] * xr[i] + yi[i] * xi[i];
    const m = yi[i] * xr[i] - yr[i] * xi[i];
    yr[i] = r;
    yi[i] = m;
  }
  fft(yr, yi, true);
  return yr.slice(0, y.length);
}
