// The measurement reads the returned audio channel by channel from the recorded payload
// bytes (returnedAudioOf) instead of decoding whole streams (recordedAudio of
// lab/peers/rtp-subscription.ts, which decodes with lab/net/pcm.ts decodePcm). Every value
// it reads and every count it makes must be what the decoded stream gives: checked here on
// random recordings (blocks missing, blocks shorter than a second, every encoding) against
// recordedAudio read the plain way; the comparison both by the loops in TypeScript and by
// the addon's (native/src/measure_binding.cc countDifferingSamples), which measure.ts uses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PCM_ENCODINGS, type PcmEncoding } from '../net/pcm.ts';
import type { Aes67StreamDescription } from '../net/sdp.ts';
import { recordedAudio, type RecordingView } from '../peers/rtp-subscription.ts';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { returnedAudioFromDecoded, returnedAudioOf, type SampleCounter } from './returned-audio.ts';

const counters: [string, SampleCounter | undefined][] = [['TypeScript', undefined], ...(addonBuilt() ? [['the addon', loadNative().countDifferingSamples] as [string, SampleCounter]] : [])];
if (!addonBuilt()) console.warn('returned-audio tests: the addon is not built (npm run build): its comparison loop is not checked');

const WIDTH: Record<PcmEncoding, number> = { L16: 2, L24: 3, L32: 4 };

const recording = fc
  .record({
    encoding: fc.constantFrom(...PCM_ENCODINGS),
    channels: fc.integer({ min: 1, max: 6 }),
    rate: fc.integer({ min: 8, max: 64 }), // frames per block: small, so spans cross many blocks
    frames: fc.integer({ min: 0, max: 300 }),
    seed: fc.integer(),
  })
  .chain((r) =>
    fc.record({
      r: fc.constant(r),
      // Per block: absent, or its bytes cut to some length (in bytes, not whole frames), with values that repeat (so a table can match them).
      blocks: fc.array(fc.option(fc.record({ cut: fc.integer({ min: 0, max: r.rate * r.channels * WIDTH[r.encoding] }), full: fc.boolean() }), { nil: null }), { minLength: Math.ceil(r.frames / r.rate), maxLength: Math.ceil(r.frames / r.rate) }),
    }),
  );

function build({ r, blocks }: { r: { encoding: PcmEncoding; channels: number; rate: number; frames: number; seed: number }; blocks: ({ cut: number; full: boolean } | null)[] }): RecordingView {
  let s = r.seed >>> 0;
  const byte = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24) & 0x3; // few distinct values: matches happen
  const made = blocks.map((b) => {
    if (!b) return null;
    const n = b.full ? r.rate * r.channels * WIDTH[r.encoding] : b.cut;
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = byte() * 0x55 + (i % 3 === 0 ? 0x80 * (byte() & 1) : 0);
    return { bytes, filled: new Uint8Array(r.rate).fill(1) };
  });
  const stream = { channels: r.channels, encoding: r.encoding, sampleRate: r.rate } as Aes67StreamDescription;
  return { stream, firstSample: 1000n, lastFrameEnd: r.frames, blockAt: (b) => made[b] };
}

describe('returnedAudioOf', () => {
  it('reads every channel as recordedAudio decodes it, 0 outside the recording', () => {
    fc.assert(
      fc.property(recording, fc.integer({ min: -20, max: 320 }), fc.integer({ min: 0, max: 340 }), (g, from, len) => {
        const v = build(g);
        const decoded = recordedAudio(v.stream, v.firstSample, v.lastFrameEnd, v.blockAt);
        const a = returnedAudioOf(v);
        expect(a.frames).toBe(decoded.interleaved.length / g.r.channels);
        expect(returnedAudioFromDecoded(decoded).frames).toBe(a.frames);
        for (let k = 0; k < g.r.channels; k++) {
          const want = Array.from({ length: len }, (_, i) => (from + i >= 0 && from + i < a.frames ? decoded.interleaved[(from + i) * g.r.channels + k] : 0));
          expect(Array.from(a.channel(k, from, len))).toEqual(want);
          // Into a larger buffer at an offset: only that part written.
          const into = new Float32Array(len + 5).fill(7);
          a.channel(k, from, len, into, 3);
          expect(Array.from(into)).toEqual([7, 7, 7, ...want, 7, 7]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it.each(counters)('counts the samples that differ from a periodic table as comparing the decoded stream does (comparison in %s)', (_, counter) => {
    fc.assert(
      fc.property(recording, fc.integer({ min: -20, max: 320 }), fc.integer({ min: 0, max: 340 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1000 }), (g, from, len, period, phase0) => {
        const v = build(g);
        const decoded = recordedAudio(v.stream, v.firstSample, v.lastFrameEnd, v.blockAt);
        const ch = g.r.channels;
        const a = returnedAudioOf(v, counter);
        for (let k = 0; k < ch; k++) {
          // A table of values the stream holds (and 0), so some samples match and some do not.
          const table = new Float32Array(period).map((_, i) => (decoded.interleaved.length ? decoded.interleaved[(i * 7 + k) % decoded.interleaved.length] : 0) * ((i & 3) === 3 ? 0 : 1));
          const phase = phase0 % period;
          // The plain way: the decoded stream's value (undefined past its end) against the table.
          let want = 0;
          for (let i = 0; i < len; i++) {
            const f = from + i;
            const x = f >= 0 ? decoded.interleaved[f * ch + k] : undefined;
            if (x !== table[(phase + i) % period]) want++;
          }
          expect(a.countDiffering(k, from, len, table, phase)).toBe(want);
          expect(returnedAudioFromDecoded(decoded).countDiffering(k, from, len, table, phase)).toBe(want);
        }
      }),
      { numRuns: 400 },
    );
  });

  it.skipIf(!addonBuilt())("the addon's loop refuses samples past the bytes, a phase outside the table, a width it does not know", () => {
    const count = loadNative().countDifferingSamples;
    const bytes = new Uint8Array(30);
    const table = new Float32Array(4);
    expect(count(bytes, 0, 6, 5, 3, table, 0)).toBe(0);
    expect(count(bytes, 3, 6, 5, 3, table, 0)).toBe(0); // up to the last byte
    expect(() => count(bytes, 4, 6, 5, 3, table, 0)).toThrow(/past the end/);
    expect(() => count(bytes, 0, 6, 5, 3, table, 4)).toThrow(/phase/);
    expect(() => count(bytes, 0, 6, 5, 5, table, 0)).toThrow(/width/);
    expect(() => count(bytes, 0, 6, 1, 3, new Float32Array(0), 0)).toThrow(/phase/);
  });
});
