// The glitch detector in C++ (native-glitches.ts) against the TypeScript one it ports
// (glitches.ts), on sines with every kind of glitch, on random ones, on bad input, and on
// the real captures in ../shared/captures that carry a sine. Compared exactly: analysed
// range, amplitude, tolerance, frequency, and each glitch's sample, length, kinds (in their
// order), magnitude and level drop (the scalar Math functions are JavaScript's in both).
// Compared to 1e-9 rad: the phase jump, whose fits sum the C library's cos and sin per
// sample where the TypeScript sums V8's (they may differ in the last ulp).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addonBuilt, addonMissingNote } from '../../native/index.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { decodeStream } from '../analyze/decode-stream.ts';
import { sharedCaptures, sharedCapturesDir } from '../net/pcap/shared-captures.ts';
import { detectChannelGlitches, type ChannelGlitches, type GlitchKind, type GlitchOptions } from './glitches.ts';
import { deinterleave } from './latency.ts';
import { detectChannelGlitchesNative } from './native-glitches.ts';

const RATE = 48000;
const F = 997;

/** Both detectors on one channel: the same result (phase jumps to 1e-9 rad); the TypeScript's. */
function crossed(x: Float32Array, options: GlitchOptions = {}, rate = RATE, channel = 3): ChannelGlitches {
  const ts = detectChannelGlitches(x, rate, channel, options);
  const cc = detectChannelGlitchesNative(x, rate, channel, options);
  const exact = (r: ChannelGlitches) => ({ ...r, glitches: r.glitches.map(({ phaseJumpRad, ...g }) => ({ ...g, phase: phaseJumpRad !== undefined })) });
  expect(exact(cc)).toEqual(exact(ts));
  expect(Object.keys(cc)).toEqual(Object.keys(ts));
  cc.glitches.forEach((g, i) => {
    const t = ts.glitches[i];
    expect(Object.keys(g)).toEqual(Object.keys(t));
    if (t.phaseJumpRad !== undefined) expect(Math.abs(g.phaseJumpRad! - t.phaseJumpRad)).toBeLessThan(1e-9);
  });
  return ts;
}

/** A sine with glitches written into it, as a device would make them. */
function sine(n: number, opts: { f?: number; rate?: number; amp?: number; seed?: number; noise?: number; quantise?: number } = {}): Float32Array {
  const { f = F, rate = RATE, amp = 0.5, seed = 1, noise = 0, quantise = 0 } = opts;
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  for (let i = 0; i < n; i++) {
    let v = amp * Math.sin((2 * Math.PI * f * i) / rate) + noise * rand();
    if (quantise) v = Math.round(v * quantise) / quantise;
    x[i] = v;
  }
  return x;
}
const dropout = (x: Float32Array, at: number, len: number) => x.fill(0, at, at + len);
const click = (x: Float32Array, at: number, v: number) => void (x[at] += v);
const gainStep = (x: Float32Array, at: number, len: number, g: number) => {
  for (let i = at; i < at + len && i < x.length; i++) x[i] *= g;
};
const fade = (x: Float32Array, at: number, len: number, depth: number) => {
  for (let i = 0; i < len && at + i < x.length; i++) x[at + i] *= 1 - depth * Math.sin((Math.PI * i) / len) ** 2;
};
/** Samples from `at` on taken `shift` later (a skip: shift > 0; a repeat: shift < 0). */
const slip = (x: Float32Array, at: number, shift: number, f = F, amp = 0.5) => {
  for (let i = at; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * f * (i + shift)) / RATE);
};
const kindsOf = (r: ChannelGlitches) => new Set(r.glitches.flatMap((g) => g.kinds));

describe.skipIf(!addonBuilt())(`the glitch detector in C++ against the TypeScript one${addonMissingNote()}`, () => {
  it('a clean sine, given and estimated frequency, 48 and 96 kHz, trimmed silence, L16 quantised', () => {
    expect(crossed(sine(48000), { frequencyHz: F }).glitches).toEqual([]);
    expect(crossed(sine(48000)).glitches).toEqual([]);
    expect(crossed(sine(96000, { f: 1000.1, rate: 96000, quantise: 32768 }), {}, 96000).glitches).toEqual([]);
    const padded = new Float32Array(30000);
    padded.set(sine(20000, { quantise: 32768 }), 5000);
    const r = crossed(padded, { frequencyHz: F, captureStartSample: 1e9 });
    expect([r.analysedFrom, r.glitches.length]).toEqual([5001, 0]);
  });

  it('every kind: dropout, discontinuity, magnitude drop (step and fade), phase jump, prediction error', () => {
    const x = sine(100_000, { quantise: 8388608 });
    dropout(x, 10_000, 480);
    slip(x, 20_000, 37);
    gainStep(x, 30_000, 2400, 0.4);
    click(x, 40_000, 0.3);
    slip(x, 50_000, 37 - 48);
    dropout(x, 60_000, 6);
    fade(x, 70_000, 4800, 0.6);
    for (const options of [{ frequencyHz: F }, {}, { frequencyHz: F, trimSilence: false, captureStartSample: 12345 }, { frequencyHz: F, tolerance: 0.01, mergeGap: 0, envelopeWindow: 16 }]) {
      const r = crossed(x, options);
      expect(r.glitches.length, JSON.stringify(options)).toBeGreaterThanOrEqual(6);
      expect([...kindsOf(r)].sort(), JSON.stringify(options)).toEqual(['discontinuity', 'dropout', 'magnitude-drop', 'phase-jump', 'prediction-error'] satisfies GlitchKind[]);
      expect(r.glitches.some((g) => g.levelDropDb !== undefined && g.phaseJumpRad !== undefined)).toBe(true);
    }
    // Only dropouts and drops (an infinite tolerance mutes the predictor and the step bound):
    // the 6-sample dropout is one glitch exactly its length, not lengthened by the predictor.
    const quiet = crossed(x, { frequencyHz: F, tolerance: Infinity });
    expect(quiet.glitches.find((g) => g.sample === 60_000)).toMatchObject({ length: 6, kinds: ['dropout'] });
    // A 5-sample dropout ending at each of 300 places in turn (whatever blocks the C++ reads
    // the channel in, one ends at a block's edge), the predictor muted: one dropout, 5 long.
    for (let end = 1000; end < 1300; end++) {
      const y = sine(2000, { quantise: 32768 });
      dropout(y, end - 5, 5);
      expect(crossed(y, { frequencyHz: F, tolerance: Infinity }).glitches.filter((g) => g.kinds.includes('dropout')), `ending at ${end}`).toMatchObject([{ sample: end - 5, length: 5 }]);
    }
    // In noise, with near-zero as zero.
    const noisy = sine(100_000, { noise: 0.001, seed: 7 });
    dropout(noisy, 10_000, 480);
    gainStep(noisy, 30_000, 2400, 0.4);
    click(noisy, 40_000, 0.3);
    const r = crossed(noisy, { zeroThreshold: 0.001 });
    expect(kindsOf(r)).toEqual(new Set(['dropout', 'magnitude-drop', 'discontinuity', 'prediction-error']));
  });

  it('random sines with random glitches', () => {
    const glitch = fc.record({ kind: fc.constantFrom('dropout', 'click', 'step', 'fade', 'slip'), at: fc.integer({ min: 0, max: 11_999 }), len: fc.integer({ min: 1, max: 800 }), v: fc.double({ min: -0.9, max: 0.9, noNaN: true }) });
    fc.assert(
      // Short ones too: the plain median (under 8192 values) and the median of 5's ends.
      fc.property(fc.integer({ min: 50, max: 20_000 }), fc.double({ min: 0.01, max: 0.9, noNaN: true }), fc.array(glitch, { maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 1000 }), fc.constantFrom(16, 17, 40, 300, 5000, 12_000), (f, amp, glitches, given, seed, n) => {
        const x = sine(n, { f, amp, seed, noise: seed % 3 === 0 ? 1e-4 : 0 });
        for (const g of glitches) {
          if (g.kind === 'dropout') dropout(x, g.at, g.len);
          else if (g.kind === 'click') click(x, g.at, g.v);
          else if (g.kind === 'step') gainStep(x, g.at, g.len, Math.abs(g.v));
          else if (g.kind === 'fade') fade(x, g.at, g.len, Math.abs(g.v));
          else slip(x, g.at, Math.round(g.v * 100), f, amp);
        }
        let ts: ChannelGlitches | undefined;
        try {
          ts = detectChannelGlitches(x, RATE, 3, given ? { frequencyHz: f } : {});
        } catch (e) {
          // Too little signal left, or a frequency the estimate put near Nyquist: the same error.
          expect(() => detectChannelGlitchesNative(x, RATE, 3, given ? { frequencyHz: f } : {})).toThrow((e as Error).message);
        }
        if (ts) crossed(x, given ? { frequencyHz: f } : {});
      }),
      { numRuns: 300 },
    );
  });

  it('the same errors for the same bad input', () => {
    const same = (x: Float32Array, options: GlitchOptions, message: RegExp, rate = RATE) => {
      expect(() => detectChannelGlitches(x, rate, 2, options)).toThrow(message);
      let theirs = '';
      try {
        detectChannelGlitches(x, rate, 2, options);
      } catch (e) {
        theirs = (e as Error).message;
      }
      expect(() => detectChannelGlitchesNative(x, rate, 2, options)).toThrow(theirs);
    };
    same(new Float32Array(1000), {}, /channel 2 has 0 samples of signal; need at least 16/);
    same(sine(15), { frequencyHz: F, trimSilence: false }, /channel 2 has 15 samples of signal/);
    same(new Float32Array(1000), { trimSilence: false }, /the channel is silent/);
    same(sine(1000), { frequencyHz: 0 }, /too close to 0 or Nyquist/);
    same(sine(1000, { f: 24000 }).map((_, i) => (i % 2 ? -0.5 : 0.5)), { frequencyHz: 24000 }, /too close to 0 or Nyquist/);
    same(sine(1000, { f: 24000 }).map((_, i) => (i % 2 ? -0.5 : 0.5)), {}, /too close to 0 or Nyquist/);
    const nan = sine(1000);
    nan[500] = NaN;
    same(nan, { frequencyHz: F }, /channel 2's sample 500 is NaN; the detector follows finite samples only/);
    const inf = sine(1000);
    inf[700] = -Infinity;
    same(inf, {}, /sample 700 is -Infinity/);
    same(sine(1000), { frequencyHz: F }, /sample rate must be a positive number of Hz, got 0/, 0);
    same(sine(1000), { frequencyHz: Infinity }, /frequencyHz must be a finite number of Hz, got Infinity/);
    same(sine(1000), { envelopeWindow: 64.5 }, /envelopeWindow must be a whole number of samples, got 64.5/);
    same(sine(1000), { dropDb: NaN }, /option dropDb must be a number, got NaN/);
    same(sine(1000), { sigmas: '10' as unknown as number }, /option sigmas must be a number, got 10/);
    // An option given as undefined takes its default, in both.
    expect(crossed(sine(1000), { sigmas: undefined, frequencyHz: undefined }).glitches).toEqual([]);
  });

  // EBU LIST's captures: a continuous sine, and redundant streams with packets lost on both legs.
  const captures = sharedCaptures().filter((c) => /l16_48000_2ch_1ms|ST2022-7-Audio/.test(c));
  if (captures.length === 0) console.warn(`native glitch detector: ${sharedCapturesDir} is absent: the real captures are not crossed`);
  it.skipIf(captures.length === 0)('on the sines of real captures (EBU LIST), given and estimated frequency', () => {
    let dropouts = 0;
    for (const file of captures) {
      for (const stream of analyzeCapture(file).streams) {
        const audio = decodeStream(file, stream);
        for (const [ch, x] of deinterleave(audio.interleaved, audio.channels).entries()) {
          const estimated = crossed(x, {}, audio.sampleRate, ch);
          crossed(x, { frequencyHz: estimated.frequencyHz, zeroThreshold: 1e-4 }, audio.sampleRate, ch);
          if (audio.missingFrames === 0) expect(estimated.glitches, `${file} channel ${ch}`).toEqual([]);
          else dropouts += estimated.glitches.filter((g) => g.kinds.includes('dropout')).length;
        }
      }
    }
    if (captures.some((c) => c.includes('dropped_in_both'))) expect(dropouts).toBeGreaterThan(0);
  });
});
