import { describe, expect, it } from 'vitest';
import { sineQuality } from './sine-quality.ts';
import { ffmpegSource, ffmpegStderr, hasFfmpeg } from './test-support.ts';

const ffmpeg = hasFfmpeg();
if (!ffmpeg) console.warn('sine-quality tests: ffmpeg not on PATH (apt-get install ffmpeg): the astats crossing is skipped');

const db = (r: number) => 20 * Math.log10(r);

/** mulberry32 then Box-Muller: seeded Gaussian noise. */
function gaussian(seed: number, n: number, sigma: number): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const rmsOf = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((a, v) => a + v * v, 0) / x.length);

describe('SNR, THD and THD+N', () => {
  it('recovers known harmonic levels and noise from a constructed signal (off-bin frequency, dc, wrong first guess)', () => {
    const rate = 48000;
    const n = 62_411; // not a whole number of periods
    const f = 997.3;
    const a = 0.4;
    const h = [
      { order: 2, rel: 10 ** (-46 / 20), phase: 0.3 },
      { order: 3, rel: 10 ** (-55 / 20), phase: 2.1 },
      { order: 5, rel: 10 ** (-70 / 20), phase: -1 },
    ];
    const noise = gaussian(42, n, 2e-5);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const w = (2 * Math.PI * f * i) / rate;
      let v = a * Math.sin(w + 0.7) + 0.001 + noise[i];
      for (const k of h) v += a * k.rel * Math.sin(k.order * w + k.phase);
      x[i] = v;
    }
    // What the construction says, computed from its own parts.
    const fundRms = a / Math.SQRT2;
    const harmRms = Math.sqrt(h.reduce((acc, k) => acc + (a * k.rel) ** 2 / 2, 0));
    const noiseRms = rmsOf(noise);
    const q = sineQuality(x, rate, { frequencyHz: 996.8 });
    expect(q.frequencyHz).toBeCloseTo(f, 6);
    expect(q.amplitude).toBeCloseTo(a, 6);
    expect(q.dc).toBeCloseTo(0.001, 6);
    for (const k of h) {
      const got = q.harmonics.find((g) => g.order === k.order);
      expect(Math.abs((got?.levelDbc ?? 0) - db(k.rel)), `harmonic ${k.order}`).toBeLessThan(0.05);
    }
    expect(Math.abs(q.thdDb - db(harmRms / fundRms))).toBeLessThan(0.02);
    expect(Math.abs(q.thdnDb - db(Math.hypot(harmRms, noiseRms) / fundRms))).toBeLessThan(0.02);
    // Float32 storage adds its own rounding (~−150 dB); the noise here is far above it.
    expect(Math.abs(q.snrDb - db(fundRms / noiseRms))).toBeLessThan(0.05);
  });

  it.skipIf(!ffmpeg)("noise level agrees with ffmpeg astats' RMS level of the same anoisesrc noise alone", () => {
    const noiseSrc = 'anoisesrc=r=48000:a=0.003:seed=17:d=2';
    const astats = ffmpegStderr(['-f', 'lavfi', '-i', noiseSrc, '-af', 'astats=measure_perchannel=none', '-f', 'null', '-']);
    const rmsDb = Number(/Overall[\s\S]*?RMS level dB: (-?[\d.]+)/.exec(astats)?.[1]);
    expect(Number.isFinite(rmsDb)).toBe(true);
    const [x] = ffmpegSource(`aevalsrc='0.5*sin(2*PI*1000.5*n/48000)':s=48000:d=2[s];${noiseSrc}[n];[s][n]amix=inputs=2:duration=first:normalize=0[o]`, 1, 48000);
    const q = sineQuality(x, 48000);
    expect(Math.abs(db(q.noiseRms) - rmsDb)).toBeLessThan(0.05);
    expect(Math.abs(q.snrDb - (db(0.5 / Math.SQRT2) - rmsDb))).toBeLessThan(0.05);
    expect(q.thd).toBeLessThan(10 ** (-80 / 20));
  });

  it.skipIf(!ffmpeg)('a sine rounded to 16 bits by ffmpeg has the SNR quantization theory predicts (6.02·16 + 1.76 dB for full scale)', () => {
    // aevalsrc computes the sine in double precision; aformat=s16 rounds it (no dither by
    // default). ffmpeg's own `sine` source is table-based and lands ~1.2 dB lower, so it
    // would test ffmpeg's generator, not this code.
    const [x] = ffmpegSource("aevalsrc='0.5*sin(2*PI*997*n/48000)':s=48000:d=3,aformat=s16[o]", 1, 48000);
    const q = sineQuality(x, 48000);
    expect(q.amplitude).toBeCloseTo(0.5, 4);
    const theory = 6.02 * 16 + 1.76 + db(q.amplitude);
    expect(Math.abs(q.snrDb - theory)).toBeLessThan(0.2);
    expect(Math.abs(q.thdnDb + theory)).toBeLessThan(0.2);
  });

  it('rejects what is not a sine', () => {
    expect(() => sineQuality(new Float32Array(10), 48000)).toThrow(/too short/);
    expect(() => sineQuality(new Float32Array(1000), 48000)).toThrow(/silent/);
  });
});
