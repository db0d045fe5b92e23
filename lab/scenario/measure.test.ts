// The measurement's quantizer must be the lab's codec round trip (lab/net/pcm.ts), which
// is itself crossed with the engine's: what the device sends back is compared with it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePcm, encodePcm, PCM_ENCODINGS } from '../net/pcm.ts';
import { quantizeInPlace } from './measure.ts';

describe('quantizeInPlace', () => {
  it('equals decodePcm(encodePcm(x)) for every encoding, including ties, clipping and NaN', () => {
    const special = [0, -1, 1, 0.5, -0.5, 1.5, -1.5, NaN, 2 ** -24, 3 * 2 ** -24, -(2 ** -16), 0.99999994];
    for (const encoding of PCM_ENCODINGS) {
      const check = (values: number[]) => {
        const x = Float32Array.from(values);
        const want = decodePcm(encodePcm(x, encoding), encoding);
        expect(Array.from(quantizeInPlace(Float32Array.from(x), encoding))).toEqual(Array.from(want));
      };
      check(special);
      fc.assert(
        fc.property(fc.array(fc.float({ min: -2, max: 2, noNaN: false }), { maxLength: 64 }), (values) => {
          check(values);
        }),
        { numRuns: 300 },
      );
    }
  });
});
