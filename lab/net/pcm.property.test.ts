// The lab's PCM codecs (lab/net/pcm.ts) and the engine's (engine/rtp/pcm_codec.cpp, through
// native) check each other: decoding any bytes gives the same floats, and encoding any
// float — NaN (silence in both) and values exactly half-way between two codes (ties to
// even in both, as lrintf does) included — gives the same bytes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadNative } from '../../native/index.ts';
import { decodePcm, encodePcm, PCM_ENCODINGS, bytesPerSample, type PcmEncoding } from './pcm.ts';

const native = loadNative();
const FULL_SCALE: Record<PcmEncoding, number> = { L16: 2 ** 15, L24: 2 ** 23, L32: 2 ** 31 };

describe('PCM codecs: lab and engine', () => {
  for (const encoding of PCM_ENCODINGS) {
    it(`${encoding}: decoding any bytes gives the same floats`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 * 3 * 8 }), (raw) => {
          const bytes = raw.subarray(0, raw.length - (raw.length % bytesPerSample(encoding)));
          expect([...native.decodePcm(encoding, bytes)]).toEqual([...decodePcm(bytes, encoding)]);
        }),
        { numRuns: 500, seed: 0x50434d01 },
      );
    });

    it(`${encoding}: encoding any float, NaN and exact ties included, gives the same bytes`, () => {
      const sample = fc.oneof(
        fc.float(),
        // Exact ties between two codes, where round-half-up and half-to-even part.
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] - 1 }).map((k) => Math.fround((k + 0.5) / FULL_SCALE[encoding])),
        fc.float({ min: Math.fround(-1.01), max: Math.fround(1.01), noNaN: true }),
        // Codes and their float neighbours: the edges of each rounding step.
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] }).map((k) => Math.fround(k / FULL_SCALE[encoding])),
      );
      fc.assert(
        fc.property(fc.array(sample, { maxLength: 256 }), (values) => {
          const floats = Float32Array.from(values);
          expect(Buffer.from(native.encodePcm(encoding, floats)).toString('hex')).toBe(Buffer.from(encodePcm(floats, encoding)).toString('hex'));
        }),
        { numRuns: 500, seed: 0x50434d02 },
      );
    });

    // Packet lengths (a 1 ms packet of 8 channels and more) of audio that stays finite: where
    // the engine's AVX-512 L16 and L24 encoders take their fast path (from 320 and 160
    // samples; pcm_kernels_avx512.cpp), which NaN, infinities or huge values would send back
    // to the exact kernel. One array in eight carries one such value too.
    it(`${encoding}: encoding packet-length audio gives the same bytes`, () => {
      const sample = fc.oneof(
        fc.float({ min: Math.fround(-1.01), max: Math.fround(1.01), noNaN: true }),
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] - 1 }).map((k) => Math.fround((k + 0.5) / FULL_SCALE[encoding])),
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] }).map((k) => Math.fround(k / FULL_SCALE[encoding])),
      );
      const special = fc.constantFrom(NaN, Infinity, -Infinity, 65536, -1e9, 256, 3.4e38);
      fc.assert(
        fc.property(fc.array(sample, { minLength: 320, maxLength: 1600 }), fc.option(fc.tuple(special, fc.nat()), { freq: 7 }), (values, odd) => {
          if (odd !== null) values[odd[1] % values.length] = odd[0];
          const floats = Float32Array.from(values);
          expect(Buffer.from(native.encodePcm(encoding, floats)).toString('hex')).toBe(Buffer.from(encodePcm(floats, encoding)).toString('hex'));
        }),
        { numRuns: 300, seed: 0x50434d03 },
      );
    });
  }
});
