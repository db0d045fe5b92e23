import { describe, expect, it } from 'vitest';
import { crossCorrelate, fft, spectrumOf } from '../signal/fft.ts';
import { attributeLatency, deinterleave, estimateDelay, measureLatency } from './latency.ts';
import { mlsSequence } from '../signal/probe.ts';
import { ffmpegFilter, hasFfmpeg } from './test-support.ts';

const ffmpeg = hasFfmpeg();
if (!ffmpeg) console.warn('latency tests: ffmpeg not on PATH (apt-get install ffmpeg): the ffmpeg-rendered delays are skipped');

/** The ±1 MLS of `degree` (lab/signal/probe.ts) scaled by `amplitude`. */
const mls = (degree: number, amplitude = 0.5) => Float32Array.from(mlsSequence(degree), (v) => v * amplitude);

/** A probe with silence after it, so a delay keeps the whole probe inside the capture. */
function padded(probe: Float32Array, tail: number): Float32Array {
  const out = new Float32Array(probe.length + tail);
  out.set(probe);
  return out;
}

describe('FFT and MLS probe', () => {
  it('FFT matches a direct DFT on random data', () => {
    const n = 64;
    const x = Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + ((i * 7919) % 13) / 13);
    const re = Float64Array.from(x);
    const im = new Float64Array(n);
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let dr = 0;
      let di = 0;
      for (let t = 0; t < n; t++) {
        dr += x[t] * Math.cos((-2 * Math.PI * k * t) / n);
        di += x[t] * Math.sin((-2 * Math.PI * k * t) / n);
      }
      expect(re[k]).toBeCloseTo(dr, 9);
      expect(im[k]).toBeCloseTo(di, 9);
    }
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(/not a power of two/);
  });

  it('linear cross-correlation by FFT equals the direct sum', () => {
    const x = mls(6, 1);
    const y = new Float32Array(200);
    for (let i = 0; i < y.length; i++) y[i] = Math.sin(i * 0.37);
    y.set(x, 50);
    const r = crossCorrelate(x, y);
    for (let k = 0; k + x.length <= y.length; k++) {
      let acc = 0;
      for (let i = 0; i < x.length; i++) acc += x[i] * y[k + i];
      expect(r[k]).toBeCloseTo(acc, 6);
    }
  });

  it('twiddles from tables give, to the bit, what the recurrence run in each block gave', () => {
    // The transform as it was: the twiddle recurrence restarted in every block.
    const blockByBlock = (re: Float64Array, im: Float64Array, inverse: boolean) => {
      const n = re.length;
      for (let i = 1, j = 0; i < n; i++) {
        let bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
          [re[i], re[j]] = [re[j], re[i]];
          [im[i], im[j]] = [im[j], im[i]];
        }
      }
      const sign = inverse ? 1 : -1;
      for (let len = 2; len <= n; len <<= 1) {
        const half = len >> 1;
        const wRe = Math.cos((sign * 2 * Math.PI) / len);
        const wIm = Math.sin((sign * 2 * Math.PI) / len);
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
      if (inverse) for (let i = 0; i < n; i++) (re[i] /= n), (im[i] /= n);
    };
    const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer));
    for (let n = 1; n <= 1 << 15; n <<= 1) {
      for (const inverse of [false, true]) {
        const re = new Float64Array(n).map((_, i) => Math.sin(i * 0.7) + ((i * 7919) % 13) / 13);
        const im = new Float64Array(n).map((_, i) => (inverse ? Math.cos(i * 1.1) : 0));
        const [r2, i2] = [re.slice(), im.slice()];
        fft(re, im, inverse);
        blockByBlock(r2, i2, inverse);
        expect(bits(re)).toEqual(bits(r2));
        expect(bits(im)).toEqual(bits(i2));
      }
    }
  });

  it('a remembered spectrum is the very fft of the same signal, and a changed signal (even -0 for 0) is transformed again', () => {
    const direct = (x: ArrayLike<number>, n: number, offset: number) => {
      const re = new Float64Array(n);
      const im = new Float64Array(n);
      for (let i = 0; i < x.length; i++) re[i + offset] = x[i];
      fft(re, im);
      return { re, im };
    };
    const bits = (a: Float64Array) => Array.from(new BigUint64Array(a.buffer));
    const same = (a: { re: Float64Array; im: Float64Array }, b: { re: Float64Array; im: Float64Array }) => {
      expect(bits(a.re)).toEqual(bits(b.re));
      expect(bits(a.im)).toEqual(bits(b.im));
    };
    const x = mls(9, 0.5);
    for (const [n, offset] of [[1024, 0], [1024, 1], [2048, 1]]) {
      same(spectrumOf(x, n, offset), direct(x, n, offset));
      same(spectrumOf(Float32Array.from(x), n, offset), direct(x, n, offset)); // a copy: remembered
    }
    const zero = new Float32Array(x.length);
    const negativeZero = new Float32Array(x.length).fill(-0);
    same(spectrumOf(zero, 1024, 0), direct(zero, 1024, 0));
    same(spectrumOf(negativeZero, 1024, 0), direct(negativeZero, 1024, 0));
    const changed = Float32Array.from(x);
    changed[100] = -changed[100];
    same(spectrumOf(changed, 1024, 1), direct(changed, 1024, 1));
    // Correlations with a remembered probe spectrum equal those computed afresh.
    const y = new Float32Array(1500).map((_, i) => Math.sin(i * 0.37));
    const first = crossCorrelate(x, y);
    expect(bits(crossCorrelate(x, y))).toEqual(bits(first));
  });
});

describe.skipIf(!ffmpeg)('latency estimator against delays rendered by ffmpeg adelay', () => {
  const probe = mls(14, 0.5);

  it('finds the delay exactly, to the sample, at 48 and 96 kHz', () => {
    for (const rate of [48000, 96000]) {
      for (const delay of [0, 1, 7, 48, 1023, 4801, 12345]) {
        const [captured] = ffmpegFilter([padded(probe, 13000)], rate, `[0:a]adelay=delays=${delay}S:all=1[o]`, 1);
        const e = estimateDelay(probe, captured);
        expect(e.lagSamples, `${rate} Hz, ${delay} samples`).toBe(delay);
        expect(e.polarity).toBe('normal');
        expect(e.reliable).toBe(true);
        expect(Math.abs(e.fractionalLagSamples - delay)).toBeLessThan(0.01);
        expect(e.peakCorrelation).toBeGreaterThan(0.999);
      }
    }
  });

  it('finds the delay in noise from anoisesrc; confidence falls as noise rises', () => {
    const delay = 2345;
    const confidences: number[] = [];
    for (const amp of [0.001, 0.05, 0.2, 0.5, 1]) {
      const [captured] = ffmpegFilter(
        [padded(probe, 4000)],
        48000,
        `[0:a]adelay=delays=${delay}S:all=1[d];anoisesrc=r=48000:a=${amp}:seed=11:d=1[n];[d][n]amix=inputs=2:duration=first:normalize=0[o]`,
        1,
      );
      const e = estimateDelay(probe, captured);
      confidences.push(e.confidence);
      expect(e.lagSamples, `noise amplitude ${amp}`).toBe(delay);
      expect(e.reliable, `noise amplitude ${amp}`).toBe(true);
    }
    for (let i = 1; i < confidences.length; i++) expect(confidences[i]).toBeLessThan(confidences[i - 1]);
    // The probe 20 dB under the noise (volume 0.1): still found, but the figure flags it as
    // marginal; 30 dB under (volume 0.03): lost, and the estimator does not claim otherwise.
    const buried = (volume: number) =>
      estimateDelay(
        probe,
        ffmpegFilter(
          [padded(probe, 4000)],
          48000,
          `[0:a]volume=${volume},adelay=delays=${delay}S:all=1[d];anoisesrc=r=48000:a=1:seed=5:d=1[n];[d][n]amix=inputs=2:duration=first:normalize=0[o]`,
          1,
        )[0],
      );
    const weak = buried(0.1);
    expect(weak.lagSamples).toBe(delay);
    expect(weak.confidence).toBeLessThan(confidences[confidences.length - 1]);
    expect(weak.reliable).toBe(false);
    const lost = buried(0.03);
    expect(lost.reliable).toBe(false);
    expect(lost.confidence).toBeLessThan(1.5);
  });

  it('noise alone (no probe) is not a reliable measurement', () => {
    const [noise] = ffmpegFilter([new Float32Array(30000)], 48000, `anoisesrc=r=48000:a=0.5:seed=3:d=1[n];[0:a][n]amix=inputs=2:duration=first:normalize=0[o]`, 1);
    const e = estimateDelay(probe, noise);
    expect(e.reliable).toBe(false);
    expect(e.confidence).toBeLessThan(2);
  });

  it('detects an inverted path (aeval=-val(0)) and still finds the delay', () => {
    const [captured] = ffmpegFilter([padded(probe, 2000)], 48000, `[0:a]aeval=-val(0),adelay=delays=777S:all=1[o]`, 1);
    const e = estimateDelay(probe, captured);
    expect(e.polarity).toBe('inverted');
    expect(e.lagSamples).toBe(777);
    expect(e.peakCorrelation).toBeLessThan(-0.999);
    expect(Math.abs(e.fractionalLagSamples - 777)).toBeLessThan(0.01);
  });

  it('measures each channel of a multichannel capture (pan + adelay per channel)', () => {
    const delays = [10, 250, 4000, 99];
    const graph = `[0:a]pan=4c|c0=c0|c1=c0|c2=-1*c0|c3=0.5*c0,adelay=delays=${delays.map((d) => `${d}S`).join('|')}[o]`;
    const capture = ffmpegFilter([padded(probe, 5000)], 96000, graph, 4);
    const m = measureLatency({ mode: 'round-trip', sampleRate: 96000, probe, capture, probeStartSample: 1000, captureStartSample: 1000 });
    expect(m.channels.map((c) => c.latencySamples)).toEqual(delays);
    expect(m.channels.map((c) => c.polarity)).toEqual(['normal', 'normal', 'inverted', 'normal']);
    expect(m.channels[1].latencyMs).toBeCloseTo((250 * 1000) / 96000, 9);
  });

  it('one way: latency is capture start + lag − probe start on the media clock', () => {
    const [captured] = ffmpegFilter([padded(probe, 2000)], 48000, `[0:a]adelay=delays=321S:all=1[o]`, 1);
    // The receiver's recording began at media sample 1_000_500; the sender played the probe at 1_000_000.
    const m = measureLatency({ mode: 'one-way', sampleRate: 48000, probe, capture: [captured], probeStartSample: 1_000_000, captureStartSample: 1_000_500 });
    expect(m.channels[0].latencySamples).toBe(500 + 321);
  });

  it('sub-sample: quarter-sample delays made by upsampling x4, adelay, downsampling (ffmpeg swr)', () => {
    const rate = 48000;
    const fractional = [0, 1, 2, 3, 5].map((k) => {
      const [captured] = ffmpegFilter([padded(probe, 500)], rate, `[0:a]aresample=${rate * 4},adelay=delays=${k + 400}S:all=1,aresample=${rate}[o]`, 1);
      return estimateDelay(probe, captured).fractionalLagSamples;
    });
    // Differences cancel whatever constant delay the resampler adds.
    for (let k = 1; k < fractional.length; k++) {
      const quarters = [0, 1, 2, 3, 5][k];
      expect(Math.abs(fractional[k] - fractional[0] - quarters / 4), `+${quarters}/4 sample`).toBeLessThan(0.005);
    }
  });

  it('attributes the measured figure to stages rendered as separate ffmpeg delays', () => {
    // network 48, playout buffer 96, IO buffer 64, safety offset 24 samples, each its own adelay.
    const [captured] = ffmpegFilter([padded(probe, 1000)], 48000, '[0:a]adelay=delays=48S:all=1,adelay=delays=96S:all=1,adelay=delays=64S:all=1,adelay=delays=24S:all=1[o]', 1);
    const measured = measureLatency({ mode: 'round-trip', sampleRate: 48000, probe, capture: [captured] }).channels[0].latencySamples;
    const a = attributeLatency(
      measured,
      [
        { stage: 'network', from: { ns: 5_000_000 }, to: { ns: 6_000_000 } },
        { stage: 'playout-buffer', from: { sample: 480_048 }, to: { sample: 480_144 } },
        { stage: 'io-buffer', samples: 64 },
        { stage: 'safety-offset', ns: 500_000 },
      ],
      48000,
    );
    expect(a.stages.map((s) => s.samples)).toEqual([48, 96, 64, 24]);
    expect(a.residualSamples).toBe(0);
    expect(a.accountedFor).toBe(true);
    // Leave a stage out and the residual names what is missing.
    const short = attributeLatency(measured, [{ stage: 'io-buffer', samples: 64 }], 48000);
    expect(short.residualSamples).toBe(168);
    expect(short.accountedFor).toBe(false);
  });
});

describe('stage input errors name the stage', () => {
  it('rejects mixed clocks, negative spans and duplicates', () => {
    expect(() => attributeLatency(10, [{ stage: 'network', from: { ns: 0 }, to: { sample: 4 } }], 48000)).toThrow(/'network'.*ns.*sample/);
    expect(() => attributeLatency(10, [{ stage: 'io-buffer', from: { sample: 9 }, to: { sample: 4 } }], 48000)).toThrow(/'io-buffer'.*before/);
    expect(() => attributeLatency(10, [{ stage: 'a', samples: 1 }, { stage: 'a', samples: 2 }], 48000)).toThrow(/twice/);
    expect(() => deinterleave(new Float32Array(5), 2)).toThrow(/divide/);
    expect(() => estimateDelay(mls(8), new Float32Array(10))).toThrow(/shorter than the probe/);
  });
});
