// The lab's PCM codecs (lab/net/pcm.ts) and the engine's (engine/rtp/pcm_codec.cpp, through
// native) check each other: decoding any bytes gives the same floats, and encoding any
// float — NaN (silence in both) and values exactly half-way between two codes (ties to
// even in both, as lrintf does) included — gives the same bytes. Through the kernels the
// engine runs (dispatched) and through each kernel set this CPU has (scalar, avx2, avx512:
// engine/rtp/pcm_kernels.hpp), so a set the dispatch does not pick here (AVX2 on an AVX-512
// machine) is crossed with the lab's codec too.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadNative } from '../../native/index.ts';
import { decodePcm, encodePcm, PCM_ENCODINGS, bytesPerSample, type PcmEncoding } from './pcm.ts';

const native = loadNative();
const FULL_SCALE: Record<PcmEncoding, number> = { L16: 2 ** 15, L24: 2 ** 23, L32: 2 ** 31 };

const KERNELS = ['dispatched', ...native.pcmKernelSets()] as const;

describe('PCM codecs: lab and engine', () => {
  for (const kernels of KERNELS) for (const encoding of PCM_ENCODINGS) {
    // The dispatched tests keep their names; a set's carry it.
    const title = (what: string) => (kernels === 'dispatched' ? `${encoding}: ${what}` : `${encoding} (${kernels} kernels): ${what}`);
    it(title('decoding any bytes gives the same floats'), () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 * 3 * 8 }), (raw) => {
          const bytes = raw.subarray(0, raw.length - (raw.length % bytesPerSample(encoding)));
          expect([...native.decodePcm(encoding, bytes, kernels)]).toEqual([...decodePcm(bytes, encoding)]);
        }),
        { numRuns: 500, seed: 0x50434d01 },
      );
    });

    it(title('encoding any float, NaN and exact ties included, gives the same bytes'), () => {
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
          expect(Buffer.from(native.encodePcm(encoding, floats, kernels)).toString('hex')).toBe(Buffer.from(encodePcm(floats, encoding)).toString('hex'));
        }),
        { numRuns: 500, seed: 0x50434d02 },
      );
    });

    // Packet lengths (a 1 ms packet of 8 channels and more) of audio that stays finite: where
    // the engine's AVX-512 L16 and L24 encoders take their fast path (from 320 and 160
    // samples; pcm_kernels_avx512.cpp), and the AVX2 L16 one (from 128 samples) and L32 one
    // (pcm_kernels_avx2.cpp), which NaN, infinities or huge values would send back to the
    // exact kernel. One array in eight carries one such value too.
    it(title('encoding packet-length audio gives the same bytes'), () => {
      const sample = fc.oneof(
        fc.float({ min: Math.fround(-1.01), max: Math.fround(1.01), noNaN: true }),
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] - 1 }).map((k) => Math.fround((k + 0.5) / FULL_SCALE[encoding])),
        // Ties near zero too: there x * 2^(bits-1) keeps fraction bits that a wrong rounding
        // step (an added bias, say) would change; near full scale float has none to spare.
        fc.integer({ min: -1024, max: 1023 }).map((k) => Math.fround((k + 0.5) / FULL_SCALE[encoding])),
        fc.integer({ min: -FULL_SCALE[encoding], max: FULL_SCALE[encoding] }).map((k) => Math.fround(k / FULL_SCALE[encoding])),
      );
      // The length drawn first: fc.array with only bounds draws lengths near its minimum
      // (320-650 here), short of the longer packets.
      const packetLength = fc.integer({ min: 320, max: 1600 });
      const special = fc.constantFrom(NaN, Infinity, -Infinity, 65536, -1e9, 256, 3.4e38);
      fc.assert(
        fc.property(packetLength.chain((n) => fc.array(sample, { minLength: n, maxLength: n })), fc.option(fc.tuple(special, fc.nat()), { freq: 7 }), (values, odd) => {
          if (odd !== null) values[odd[1] % values.length] = odd[0];
          const floats = Float32Array.from(values);
          expect(Buffer.from(native.encodePcm(encoding, floats, kernels)).toString('hex')).toBe(Buffer.from(encodePcm(floats, encoding)).toString('hex'));
        }),
        { numRuns: 300, seed: 0x50434d03 },
      );
    });
  }
});
