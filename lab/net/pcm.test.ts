import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { bytesPerSample, decodePcm, encodePcm, PCM_ENCODINGS } from './pcm.ts';

/** Converts raw samples with ffmpeg (an independent implementation of the same formats). */
function ffmpegConvert(input: Uint8Array, from: string, to: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-f', from, '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-f', to, 'pipe:1'], {
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
}

const samples = fc.float32Array({ minLength: 1, maxLength: 2000, noNaN: true, noDefaultInfinity: true, min: -1, max: Math.fround(0.9999) });

describe('PCM codec', () => {
  it('decodes big-endian integers exactly as ffmpeg does', () => {
    for (const [encoding, format] of [['L16', 's16be'], ['L24', 's24be'], ['L32', 's32be']] as const) {
      const raw = new Uint8Array(fc.sample(fc.uint8Array({ minLength: 3000, maxLength: 3000 }), { numRuns: 1, seed: 3 })[0].subarray(0, 3000 - (3000 % bytesPerSample(encoding))));
      const theirs = ffmpegConvert(raw, format, 'f32le');
      const expected = new Float32Array(theirs.buffer, theirs.byteOffset, theirs.length / 4);
      // ffmpeg goes 24 -> 32 bit -> float; float32 has 24 bits of mantissa, so L32 may round.
      const ours = decodePcm(raw, encoding);
      expect(ours.length).toBe(expected.length);
      ours.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(encoding === 'L32' ? 2 ** -23 : 0));
    }
  });

  it('encodes floats as ffmpeg does, within one step of rounding', () => {
    const input = fc.sample(samples, { numRuns: 1, seed: 9 })[0];
    const le = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    for (const [encoding, format] of [['L16', 's16be'], ['L24', 's24be']] as const) {
      const theirs = decodePcm(ffmpegConvert(le, 'f32le', format), encoding);
      const ours = decodePcm(encodePcm(input, encoding), encoding);
      const step = 2 ** -(8 * bytesPerSample(encoding) - 1);
      // ffmpeg rounds to 32 bits and truncates to 24; we round directly: one step apart at most.
      ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThanOrEqual(step));
    }
  });

  it('clips out-of-range values and round-trips in range', () => {
    for (const encoding of PCM_ENCODINGS) {
      const out = decodePcm(encodePcm(Float32Array.of(2, -2, 1, -1, NaN), encoding), encoding);
      expect(out[0]).toBe(Math.fround(1 - 2 ** -(8 * bytesPerSample(encoding) - 1)));
      expect(out[1]).toBe(-1);
      expect(out[3]).toBe(-1);
      expect(out[4]).toBe(0);
      fc.assert(
        fc.property(samples, (x) => {
          const back = decodePcm(encodePcm(x, encoding), encoding);
          back.forEach((v, i) => expect(Math.abs(v - x[i])).toBeLessThanOrEqual(2 ** -(8 * bytesPerSample(encoding) - 1)));
        }),
        { numRuns: 50 },
      );
    }
  });
});
