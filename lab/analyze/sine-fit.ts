// How well a signal is one continuous sine: for x[n] = A·sin(ωn + φ), x[n+1] + x[n−1] =
// 2·cos(ω)·x[n] holds at every n, so a least-squares c = cos(ω) leaves a residual at the
// quantization level, and a dropout, repeat or jump shows as a spike in it.

export interface SineFit {
  frequencyHz: number;
  amplitude: number;
  /** Largest |x[n+1] + x[n−1] − 2c·x[n]|, in full-scale units. */
  maxResidual: number;
  /** Index of that largest residual. */
  worstIndex: number;
}

/** `x` is one channel; `stride` and `offset` pick it out of interleaved samples. */
export function fitSine(x: Float32Array, sampleRate: number, stride = 1, offset = 0): SineFit {
  const n = Math.floor((x.length - offset) / stride);
  const at = (i: number) => x[offset + i * stride];
  let num = 0;
  let den = 0;
  let peak = 0;
  for (let i = 1; i + 1 < n; i++) {
    num += (at(i + 1) + at(i - 1)) * at(i);
    den += 2 * at(i) * at(i);
    peak = Math.max(peak, Math.abs(at(i)));
  }
  const c = den === 0 ? 1 : num / den;
  let maxResidual = 0;
  let worstIndex = 0;
  for (let i = 1; i + 1 < n; i++) {
    const r = Math.abs(at(i + 1) + at(i - 1) - 2 * c * at(i));
    if (r > maxResidual) [maxResidual, worstIndex] = [r, i];
  }
  return { frequencyHz: (Math.acos(Math.max(-1, Math.min(1, c))) * sampleRate) / (2 * Math.PI), amplitude: peak, maxResidual, worstIndex };
}
