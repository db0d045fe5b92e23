import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import wavefilePkg from 'wavefile';
import { withTempDir } from '../net/test-support.ts';
import { fitSine } from '../analyze/sine-fit.ts';
import { sine } from './sine.ts';
import { silence } from './silence.ts';
import { noise } from './noise.ts';
import { lfsrPeriod, locateProbe, mlsProbe, mlsSequence, MLS_TAPS } from './probe.ts';
import { wavSignal } from './wav-signal.ts';
import { createSignal } from './index.ts';

const { WaveFile } = wavefilePkg as unknown as typeof import('wavefile');

/** A media time like the field's: about 2026 in samples since the PTP epoch at 48 kHz. */
const FIELD_INDEX = 1_767_225_600 * 48_000 + 12_345;

function writeFloatWav(file: string, channels: number, rate: number, interleaved: Float32Array): void {
  const wav = new WaveFile();
  wav.fromScratch(channels, rate, '32f', Array.from(interleaved));
  writeFileSync(file, wav.toBuffer());
}

/** ffmpeg's astats "Overall" figures for a file: the independent level meter. */
function astats(file: string): Record<string, number> {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'astats', '-f', 'null', '-'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`ffmpeg astats failed: ${r.stderr}`);
  const err = r.stderr;
  const overall = err.slice(err.indexOf('] Overall'));
  const out: Record<string, number> = {};
  for (const m of overall.matchAll(/\] ([A-Za-z ]+): (-?[\d.]+|-?inf)/g)) out[m[1].trim()] = Number(m[2].replace('inf', 'Infinity'));
  return out;
}

describe('sine', () => {
  it('has the level ffmpeg astats measures (AES17: peak = level, RMS = level − 3.01 dB) and the frequency a sine fit finds', () => {
    const s = sine({ frequencyHz: 997, levelDbfs: -20 }, 48000);
    const x = s.render(FIELD_INDEX, 48000, 1);
    withTempDir((dir) => {
      const file = path.join(dir, 'sine.wav');
      writeFloatWav(file, 1, 48000, x);
      const a = astats(file);
      expect(a['Peak level dB']).toBeCloseTo(-20, 2);
      expect(a['RMS level dB']).toBeCloseTo(-20 - 10 * Math.log10(2), 2);
      expect(Math.abs(a['DC offset'])).toBeLessThan(1e-4);
    });
    const fit = fitSine(x, 48000);
    expect(fit.frequencyHz).toBeCloseTo(997, 3);
    expect(fit.maxResidual).toBeLessThan(1e-6); // continuous: float32 rounding only
  });

  it('keeps exact phase at field media times (checked against exact BigInt phase)', () => {
    const rate = 96000;
    const f = 1001;
    const s = sine({ frequencyHz: f, levelDbfs: 0 }, rate);
    const start = 1_767_225_600 * rate + 77; // ~1.7e14: n·f/rate in doubles would be off by whole cycles' fractions
    const x = s.render(start, 2000, 1);
    for (let i = 0; i < 2000; i += 37) {
      const n = BigInt(start + i);
      const phase = Number((n * BigInt(f)) % BigInt(rate)) / rate;
      expect(Math.abs(x[i] - Math.sin(2 * Math.PI * phase))).toBeLessThan(1e-6);
    }
  });

  it('is a function of the absolute index: any split into blocks gives the same samples, per-channel steps apply', () => {
    const s = sine({ frequencyHz: 440.5, levelDbfs: -6, channelStepHz: 100 }, 44100);
    const whole = s.render(FIELD_INDEX, 1000, 3);
    const a = s.render(FIELD_INDEX, 7, 3);
    const b = s.render(FIELD_INDEX + 7, 993, 3);
    expect(Array.from(whole)).toEqual([...a, ...b]);
    expect(fitSine(whole, 44100, 3, 2).frequencyHz).toBeCloseTo(640.5, 2);
    expect(() => sine({ frequencyHz: 30000, levelDbfs: -6 }, 48000)).toThrow(/frequency 30000 Hz must be in \(0, 24000\)/);
    expect(() => sine({ frequencyHz: 1000, levelDbfs: 3 }, 48000)).toThrow(/level 3 dBFS/);
    expect(() => sine({ frequencyHz: 1000, levelDbfs: -3 }, 47000)).toThrow(/47000 Hz: use one of/);
  });
});

describe('silence', () => {
  it('is exactly zero, and ffmpeg reads its WAV as silence', () => {
    const x = silence(48000).render(FIELD_INDEX, 4800, 2, new Float32Array(9600).fill(0.5));
    expect(x.every((v) => v === 0)).toBe(true);
    withTempDir((dir) => {
      const file = path.join(dir, 'silence.wav');
      writeFloatWav(file, 2, 48000, x);
      expect(astats(file)['Peak level dB']).toBe(-Infinity);
    });
  });
});

describe('noise', () => {
  const N = 200_000;

  it('has the RMS ffmpeg measures, zero mean, no correlation between lags or channels (bounds from the sample size)', () => {
    for (const distribution of ['gaussian', 'uniform'] as const) {
      const level = -20;
      const x = noise({ seed: 7, levelDbfs: level, distribution }, 48000).render(FIELD_INDEX, N, 2);
      const rms = 10 ** (level / 20) / Math.SQRT2;
      withTempDir((dir) => {
        const file = path.join(dir, 'noise.wav');
        writeFloatWav(file, 2, 48000, x);
        const a = astats(file);
        // The RMS estimate of 2N samples has relative sd √((κ−1)/(4·2N)); κ = 3 (gaussian), 1.8 (uniform).
        const kappa = distribution === 'gaussian' ? 3 : 1.8;
        const relSd = Math.sqrt((kappa - 1) / (4 * 2 * N));
        expect(Math.abs(a['RMS level dB'] - 20 * Math.log10(rms))).toBeLessThan(20 * Math.log10(1 + 5 * relSd));
        expect(Math.abs(a['DC offset'])).toBeLessThan((5 * rms) / Math.sqrt(2 * N));
      });
      const bound = 5 / Math.sqrt(N);
      for (const lag of [1, 2, 3, 10, 48]) {
        let num = 0;
        let den = 0;
        for (let i = 0; i + lag < N; i++) {
          num += x[2 * i] * x[2 * (i + lag)];
          den += x[2 * i] * x[2 * i];
        }
        expect(Math.abs(num / den)).toBeLessThan(bound);
      }
      let cross = 0;
      let e0 = 0;
      let e1 = 0;
      for (let i = 0; i < N; i++) {
        cross += x[2 * i] * x[2 * i + 1];
        e0 += x[2 * i] ** 2;
        e1 += x[2 * i + 1] ** 2;
      }
      expect(Math.abs(cross / Math.sqrt(e0 * e1))).toBeLessThan(bound);
    }
  });

  it('is Gaussian when asked: excess kurtosis within 5 standard errors of 0', () => {
    const x = noise({ seed: 11, levelDbfs: -30 }, 48000).render(0, N, 1);
    let m2 = 0;
    let m4 = 0;
    for (const v of x) {
      m2 += v * v;
      m4 += v ** 4;
    }
    m2 /= N;
    m4 /= N;
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(5 * Math.sqrt(24 / N));
  });

  it('is reproducible by seed and index, block splits included; another seed differs', () => {
    const a = noise({ seed: 3, levelDbfs: -20 }, 48000);
    const whole = a.render(FIELD_INDEX, 500, 4);
    expect(Array.from(whole)).toEqual([...a.render(FIELD_INDEX, 123, 4), ...a.render(FIELD_INDEX + 123, 377, 4)]);
    expect(Array.from(noise({ seed: 3, levelDbfs: -20 }, 48000).render(FIELD_INDEX, 500, 4))).toEqual(Array.from(whole));
    const other = noise({ seed: 4, levelDbfs: -20 }, 48000).render(FIELD_INDEX, 500, 4);
    expect(other.filter((v, i) => v === whole[i]).length).toBeLessThan(3);
  });
});

describe('MLS probe', () => {
  it('every tap set is maximal: the register returns to its start after exactly 2^k − 1 steps', () => {
    for (const k of Object.keys(MLS_TAPS).map(Number)) expect(lfsrPeriod(k)).toBe(2 ** k - 1);
  });

  it('has the documented periodic autocorrelation: N at lag 0, −1 at every other lag', () => {
    for (const k of [5, 10, 12]) {
      const s = mlsSequence(k);
      const n = s.length;
      for (let lag = 0; lag < n; lag++) {
        let r = 0;
        for (let i = 0; i < n; i++) r += s[i] * s[(i + lag) % n];
        expect(r).toBe(lag === 0 ? n : -1);
      }
    }
  });

  it('locates a delayed, noisy, attenuated window to the sample', () => {
    const probe = mlsProbe({ degree: 14, levelDbfs: -10 }, 48000);
    const n = probe.sequence.length;
    const delay = 1234; // samples between the sender's index and the receiver's
    const receiverStart = FIELD_INDEX;
    const x = probe.render(receiverStart - delay, n + 100, 2);
    const hiss = noise({ seed: 1, levelDbfs: -30 }, 48000).render(0, n + 100, 2);
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * x[i] + hiss[i];
    const m = locateProbe(probe, x, 2, 1);
    expect((((receiverStart - m.phase) % n) + n) % n).toBe(delay % n);
    expect(m.gain).toBeCloseTo(0.5, 1);
    expect(m.peakRatio).toBeGreaterThan(10);
    expect(() => locateProbe(probe, x.subarray(0, 100))).toThrow(/needs one period/);
  });
});

describe('wav signal', () => {
  it('plays a file ffmpeg wrote, sample for sample as ffmpeg decodes it, looped by absolute index', () => {
    withTempDir((dir) => {
      const file = path.join(dir, 'in.wav');
      execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=0.1', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=0.1', '-filter_complex', 'amerge=inputs=2', '-c:a', 'pcm_s24le', file]);
      const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'f32le', '-']);
      const theirs = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
      const s = wavSignal({ path: file, startIndex: 1000 }, 48000);
      expect(s.fileChannels).toBe(2);
      expect(s.frames).toBe(theirs.length / 2);
      const ours = s.render(1000, s.frames, 3);
      for (let i = 0; i < s.frames; i++) {
        expect(ours[3 * i]).toBe(theirs[2 * i]);
        expect(ours[3 * i + 1]).toBe(theirs[2 * i + 1]);
        expect(ours[3 * i + 2]).toBe(theirs[2 * i]); // channel 3 plays file channel 1
      }
      expect(Array.from(s.render(1000 + 2 * s.frames + 5, 4, 2))).toEqual(Array.from(s.render(1005, 4, 2)));
      expect(() => wavSignal({ path: file }, 96000)).toThrow(/file is 48000 Hz, the stream 96000 Hz/);
      writeFileSync(path.join(dir, 'bad.wav'), 'not a wav');
      expect(() => wavSignal({ path: path.join(dir, 'bad.wav') }, 48000)).toThrow(/cannot read it as WAV/);
    });
  });

  it('createSignal builds each kind and names an unknown one', () => {
    expect(createSignal({ kind: 'silence' }, 48000).description).toBe('silence');
    expect(createSignal({ kind: 'probe', levelDbfs: -10 }, 48000).description).toMatch(/MLS probe degree 15/);
    expect(() => createSignal({ kind: 'chirp' } as never, 48000)).toThrow(/unknown signal kind "chirp"/);
  });
});
