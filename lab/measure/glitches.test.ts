import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import wavefilePkg from 'wavefile';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { detectChannelGlitches, detectGlitches, joinGlitchCauses, medianOf5, type Glitch } from './glitches.ts';
import { ffmpegSource, hasFfmpeg } from './test-support.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');
const ffmpeg = hasFfmpeg();
if (!ffmpeg) console.warn('glitch tests: ffmpeg not on PATH (apt-get install ffmpeg): the ffmpeg-rendered signals are skipped');

const RATE = 48000;
const F = 997;
const OMEGA = (2 * Math.PI * F) / RATE;
const wrap = (p: number) => Math.atan2(Math.sin(p), Math.cos(p));

/** What the aevalsrc expression below injects, in sample indices. */
interface Injected {
  name: string;
  from: number;
  to: number;
  kinds: string[];
  phaseJump?: number;
  dropDb?: number;
}

// 2 s of a 997 Hz sine at −6 dBFS with, at known samples: a 480-sample dropout (ten 1 ms
// packets lost, concealed by zeros), 37 samples skipped, a 2400-sample gain step to 0.4, a
// click, a 1 ms packet played twice (48 samples repeated), a 6-sample dropout (one 125 µs
// packet), and a smooth Hann-shaped dip to 0.4 that never breaks the predictor.
const SKIP_AT = 20000;
const SKIP = 37;
const REPEAT_AT = 50000;
const REPEAT = 48;
const DIP = { from: 70000, length: 4800, depth: 0.6 };
const phaseArg = `(n+${SKIP}*gte(n,${SKIP_AT})-${REPEAT}*gte(n,${REPEAT_AT}))`;
const gain = `(1-0.6*between(n,30000,32399))*(1-${DIP.depth}*between(n,${DIP.from},${DIP.from + DIP.length - 1})*pow(sin(PI*(n-${DIP.from})/${DIP.length}),2))`;
const zeros = `(1-between(n,10000,10479))*(1-between(n,60000,60005))`;
const glitchedExpr = `${zeros}*(0.5*${gain}*sin(2*PI*${F}*${phaseArg}/${RATE})+0.3*eq(n,40000))`;
const INJECTED: Injected[] = [
  { name: 'dropout 480', from: 10000, to: 10480, kinds: ['dropout'] },
  { name: `skip ${SKIP}`, from: SKIP_AT, to: SKIP_AT + 1, kinds: ['phase-jump'], phaseJump: wrap(SKIP * OMEGA) },
  { name: 'gain step', from: 30000, to: 32400, kinds: ['magnitude-drop'], dropDb: 20 * Math.log10(0.4) },
  { name: 'click', from: 40000, to: 40001, kinds: ['discontinuity'] },
  // 48 samples are 0.997 of a 997 Hz period: the phase after it is only 0.019 rad off, below
  // the 0.05 rad tolerance, so this shows as a prediction error and not as a phase jump.
  { name: `repeat ${REPEAT}`, from: REPEAT_AT, to: REPEAT_AT + 1, kinds: ['prediction-error'], phaseJump: wrap(-REPEAT * OMEGA) },
  { name: 'dropout 6', from: 60000, to: 60006, kinds: ['dropout'] },
  { name: 'smooth dip', from: DIP.from, to: DIP.from + DIP.length, kinds: ['magnitude-drop'], dropDb: 20 * Math.log10(1 - DIP.depth) },
];

function render(expr: string, seconds = 2, rate = RATE, noise = 0): Float32Array {
  const src = `aevalsrc='${expr}':s=${rate}:d=${seconds}`;
  const graph = noise > 0 ? `${src}[s];anoisesrc=r=${rate}:a=${noise}:seed=9:d=${seconds}[n];[s][n]amix=inputs=2:duration=first:normalize=0[o]` : `${src}[o]`;
  return ffmpegSource(graph, 1, rate)[0];
}

/** Every injection found once, at its place, with its kind; nothing found anywhere else. */
function expectExactly(glitches: Glitch[], injected: Injected[], startSample = 0, dipEdgeTolerance = 3): void {
  const matched = new Set<Glitch>();
  for (const inj of injected) {
    const hits = glitches.filter((g) => g.sample - startSample < inj.to + 3 && g.sample - startSample + g.length > inj.from - 3);
    expect(hits.length, `${inj.name}: ${JSON.stringify(hits)}`).toBe(1);
    const g = hits[0];
    matched.add(g);
    // The glitch starts where the injection does (the predictor needs at most 2 samples;
    // the envelope of a smooth dip starts inside it).
    if (inj.name === 'smooth dip') {
      // The dip is a glitch where its gain 1 − depth·sin²(π(n − from)/length) is below −3 dB;
      // the gain crosses that slowly, so in noise its edges blur by up to the envelope window.
      const crossing = (Math.asin(Math.sqrt((1 - 10 ** (-3 / 20)) / DIP.depth)) / Math.PI) * DIP.length;
      expect(Math.abs(g.sample - startSample - (DIP.from + crossing)), 'dip start').toBeLessThanOrEqual(dipEdgeTolerance);
      expect(Math.abs(g.sample - startSample + g.length - (DIP.from + DIP.length - crossing)), 'dip end').toBeLessThanOrEqual(dipEdgeTolerance);
    } else {
      expect(Math.abs(g.sample - startSample - inj.from), inj.name).toBeLessThanOrEqual(2);
    }
    for (const k of inj.kinds) expect(g.kinds, inj.name).toContain(k);
    if (inj.phaseJump !== undefined) {
      expect(Math.abs(wrap((g.phaseJumpRad ?? NaN) - inj.phaseJump)), inj.name).toBeLessThan(0.002);
      expect(g.kinds.includes('phase-jump'), inj.name).toBe(Math.abs(inj.phaseJump) > 0.05);
    } else if (!inj.kinds.includes('magnitude-drop')) expect(g.kinds, `${inj.name} resumed on time`).not.toContain('phase-jump');
    if (inj.dropDb !== undefined) expect(Math.abs((g.levelDropDb ?? NaN) - inj.dropDb), inj.name).toBeLessThan(0.6);
  }
  const extra = glitches.filter((g) => !matched.has(g));
  expect(extra, 'glitches where nothing was injected').toEqual([]);
}

describe.skipIf(!ffmpeg)('glitch detector on signals rendered by ffmpeg aevalsrc', () => {
  it('finds every injected glitch at its sample, with its kind, and nothing else', () => {
    const x = render(glitchedExpr);
    const r = detectChannelGlitches(x, RATE);
    expect(r.frequencyHz).toBeCloseTo(F, 1);
    expect(r.amplitude).toBeCloseTo(0.5, 2);
    expectExactly(r.glitches, INJECTED);
  });

  it('does the same with −60 dB noise on top (anoisesrc) and a time-line offset', () => {
    const x = render(glitchedExpr, 2, RATE, 0.0005);
    // Noise fills the zeros: near-zero (below the noise's ±0.0005 peak) counts as zero.
    const r = detectChannelGlitches(x, RATE, 0, { captureStartSample: 1_000_000, zeroThreshold: 0.001 });
    // The repeated packet's error in the clean render is ~−49 dBFS: in this noise it is under
    // the tolerance (10σ of the noise's prediction error), so it must be missed, not guessed.
    const clean = detectChannelGlitches(render(glitchedExpr), RATE).glitches.find((g) => g.sample === REPEAT_AT);
    expect(clean?.magnitude).toBeLessThan(r.tolerance);
    expectExactly(
      r.glitches,
      INJECTED.filter((i) => i.from !== REPEAT_AT),
      1_000_000,
      64,
    );
  });

  it('finds none in clean sines: float from aevalsrc, drifted +100 ppm at 96 kHz, in noise', () => {
    expect(detectChannelGlitches(render(`0.5*sin(2*PI*${F}*n/${RATE})`), RATE).glitches).toEqual([]);
    expect(detectChannelGlitches(render(`0.5*sin(2*PI*${F * 1.0001}*n/96000)`, 2, 96000), 96000).glitches).toEqual([]);
    expect(detectChannelGlitches(render(`0.25*sin(2*PI*440*n/${RATE})`, 2, RATE, 0.001), RATE).glitches).toEqual([]);
  });

  it("finds none in ffmpeg's own sine source written to a 16-bit WAV and decoded with wavefile", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'a67r-wav-'));
    try {
      const file = path.join(dir, 'sine.wav');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `sine=f=${F}:r=${RATE}:d=5`, '-c:a', 'pcm_s16le', file]);
      const wav = new WaveFile(readFileSync(file));
      const samples = wav.getSamples(false, Float64Array) as unknown as Float64Array;
      const x = Float32Array.from(samples, (v) => v / 32768);
      const r = detectChannelGlitches(x, RATE);
      expect(r.glitches).toEqual([]);
      expect(r.frequencyHz).toBeCloseTo(F, 2);
      // The same file with a 100-sample dropout cut in by ffmpeg's volume filter at exact sample times.
      const cut = path.join(dir, 'cut.wav');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', file, '-af', 'asetnsamples=n=100,volume=0:enable=between(n\\,240\\,240)', '-c:a', 'pcm_s16le', cut]);
      const cutWav = new WaveFile(readFileSync(cut));
      const y = Float32Array.from(cutWav.getSamples(false, Float64Array) as unknown as Float64Array, (v) => v / 32768);
      const g = detectChannelGlitches(y, RATE).glitches;
      expect(g.map((e) => [e.sample, e.kinds.includes('dropout')])).toEqual([[24000, true]]);
      expect(g[0].length).toBeGreaterThanOrEqual(100);
      expect(g[0].length).toBeLessThanOrEqual(103);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('multichannel: each channel its own glitches, sorted by time', () => {
    const a = render(`(1-between(n,5000,5099))*0.5*sin(2*PI*${F}*n/${RATE})`, 1);
    const b = render(`0.5*sin(2*PI*1500*(n+10*gte(n,3000))/${RATE})`, 1);
    const r = detectGlitches([a, b], RATE);
    expect(r.glitches.map((g) => [g.channel, g.sample])).toEqual([
      [1, 3000],
      [0, 5000],
    ]);
    expect(r.channels[1].frequencyHz).toBeCloseTo(1500, 1);
  });

  it('joins engine logs by sample time: causes on glitches, unexplained glitches, silent logs', () => {
    const x = render(glitchedExpr);
    const start = 480_000;
    const { glitches } = detectChannelGlitches(x, RATE, 0, { captureStartSample: start });
    const j = joinGlitchCauses(glitches, [
      { sample: start + 10000, length: 480, cause: 'lost', detail: 'seq 210-219' },
      { sample: start + SKIP_AT, cause: 'underrun' },
      { sample: start + REPEAT_AT, length: 48, cause: 'late', channel: 0 },
      { sample: start + 60000, length: 6, cause: 'lost', channel: 3 }, // another channel: no match
      { sample: start + 85000, length: 48, cause: 'lost' }, // concealed: nothing audible
    ]);
    const at = (i: number) => j.glitches.find((g) => g.sample === start + i);
    expect(at(10000)?.cause).toBe('lost');
    expect(at(10000)?.causes?.[0].detail).toBe('seq 210-219');
    expect(at(SKIP_AT)?.cause).toBe('underrun');
    expect(at(REPEAT_AT)?.cause).toBe('late');
    const unexplained = j.unexplained.map((g) => g.sample - start);
    expect(unexplained.slice(0, 3)).toEqual([30000, 40000, 60000]);
    expect(unexplained.length).toBe(4);
    expect(unexplained[3]).toBeGreaterThanOrEqual(DIP.from);
    expect(unexplained[3]).toBeLessThan(DIP.from + DIP.length);
    expect(j.unexplained.find((g) => g.sample - start === 60000)?.cause).toBeUndefined();
    expect(j.silentLogs.map((l) => l.sample - start)).toEqual([60000, 85000]);
  });

  it('names a silent channel instead of inventing a sine', () => {
    expect(() => detectChannelGlitches(new Float32Array(1000), RATE, 2)).toThrow(/channel 2 has 0 samples of signal/);
  });
});

describe('medianOf5 (the magnitude detector\'s median-of-5 smoothing)', () => {
  /** What the detector did before: the present neighbours of each sample sorted, the middle one taken. */
  const bySort = (amp: Float64Array, otherwise: number) => {
    const n = amp.length;
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const five: number[] = [];
      for (let d = -2; d <= 2; d++) if (k + d >= 1 && k + d < n - 1) five.push(amp[k + d]);
      five.sort((p, q) => p - q);
      out[k] = five.length ? five[Math.floor(five.length / 2)] : otherwise;
    }
    return out;
  };
  const same = (a: Float64Array, b: Float64Array) => expect(Array.from(a).map((x) => Object.is(x, -0) ? 0 : x)).toEqual(Array.from(b).map((x) => Object.is(x, -0) ? 0 : x));
  it('gives what sorting the five gives, with ties, zeros, short arrays, infinities and NaN', () => {
    // Few distinct values: ties everywhere; and any doubles.
    const values = fc.oneof(fc.constantFrom(0, 1, 2, 0.5), fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }), fc.double());
    fc.assert(
      fc.property(fc.array(values, { maxLength: 40 }), fc.double({ noNaN: true }), (xs, otherwise) => {
        const amp = Float64Array.from(xs);
        same(medianOf5(amp, otherwise), bySort(amp, otherwise));
      }),
      { numRuns: 3000 },
    );
  });
  it('on a sine\'s amplitude with dropouts, over a long span', () => {
    const n = 200_000;
    const amp = new Float64Array(n);
    for (let i = 1; i < n - 1; i++) amp[i] = i % 9000 < 40 ? 0 : 0.1 + 1e-7 * Math.sin(i * 0.37);
    same(medianOf5(amp, 0.1), bySort(amp, 0.1));
  });
});
