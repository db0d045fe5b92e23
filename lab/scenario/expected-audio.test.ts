// The measurement compares the returned audio bit for bit with what was sent, quantised as
// the path carries it. expectedSamples gives that from one quantised period of a periodic
// signal: it must hold, at every sample of long spans at real media times, the very values
// the straightforward way gives (the sender's signal rendered over the whole span, here
// also directly by lab/signal, then quantised: decodePcm(encodePcm(x)) of lab/net/pcm.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePcm, encodePcm, PCM_ENCODINGS, type PcmEncoding } from '../net/pcm.ts';
import { mediaTimeOf } from '../net/ptp-timescale.ts';
import { createSignal } from '../signal/index.ts';
import { expectedSamples, type ExpectedSamples } from './expected-audio.ts';
import type { SenderSpec } from './schema.ts';
import { channelSignals } from './sender-signal.ts';

const sender = (o: Partial<SenderSpec>): SenderSpec => ({ name: 's', kind: 'aes67', drift: 0, ...o }) as SenderSpec;
const WIDTH: Record<PcmEncoding, number> = { L16: 16, L24: 24, L32: 32 };

/** What the path carries of `x`: the codec round trip for the sender's encoding, then the stream's if it is coarser. */
function carried(x: Float32Array, sent: PcmEncoding, stream: PcmEncoding): Float32Array {
  let q = decodePcm(encodePcm(x, sent), sent);
  if (WIDTH[stream] < WIDTH[sent]) q = decodePcm(encodePcm(q, stream), stream);
  return q;
}

/** Samples where the expected span and `want` differ, bit for bit. */
function differing(e: ExpectedSamples, want: Float32Array): number {
  const P = e.table.length;
  const got = new Float32Array(want.length);
  for (let i = 0, p = e.phase; i < want.length; i++, p = p + 1 === P ? 0 : p + 1) got[i] = e.table[p];
  const a = new Uint32Array(got.buffer);
  const b = new Uint32Array(want.buffer);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

// A real media time: today's PTP time (TAI ns) in samples, ~8.5e13 at 48 kHz.
const now = (rate: number) => Number(mediaTimeOf(BigInt(Date.now()) * 1_000_000n + 37_000_000_000n, rate));

describe('expectedSamples', () => {
  it('equals the span rendered and quantised: sines of many frequencies and levels, rates, every encoding pair, long spans at real media times', () => {
    let periodic = 0;
    for (const rate of [44_100, 48_000, 96_000]) {
      for (const [sine, level, step] of [[997, -20, 100], [20, 0, 2719], [1000, -6, 1], [5, -90, 3001]] as const) {
        const chans = channelSignals(sender({ channels: 8, signal: { sine, level, step } }), 8, rate, 'x.yaml');
        for (const c of [0, 3, 7]) {
          const cs = chans[c];
          if (cs.period !== undefined) periodic++;
          const direct = createSignal({ kind: 'sine', frequencyHz: sine + c * step, levelDbfs: level }, rate);
          // Every encoding pair on one channel; the usual ones on the others.
          const pairs = c === 0 ? PCM_ENCODINGS.flatMap((a) => PCM_ENCODINGS.map((b) => [a, b] as const)) : ([['L24', 'L24'], ['L16', 'L16'], ['L24', 'L16']] as const);
          for (const [j, [sent, stream]] of pairs.entries()) {
            const start = now(rate) + c * 12_345;
            const len = j === 0 ? 3 * rate + 17 : rate + 5; // spans over periods
            const e = expectedSamples(cs, start, len, sent, stream);
            expect(differing(e, carried(cs.signal.render(start, len, 1), sent, stream))).toBe(0);
            if (j === 0) expect(differing(e, carried(direct.render(start, len, 1), sent, stream))).toBe(0);
          }
        }
      }
    }
    expect(periodic).toBeGreaterThan(0); // the table way was taken
  });

  it('equals it for the probe (an MLS) and at random starts and lengths, including 0 and the edge of a period', () => {
    for (const degree of [10, 13, 15]) {
      const rate = 48_000;
      const chans = channelSignals(sender({ channels: 2, signal: { sine: 997, level: -20, step: 100 }, probe: { channel: 2, degree, level: -6 } }), 2, rate, 'x.yaml');
      const probe = chans[1];
      expect(probe.period).toBe(2 ** degree - 1);
      const direct = createSignal({ kind: 'probe', degree, levelDbfs: -6 }, rate);
      fc.assert(
        fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 52 }), fc.constantFrom(0, probe.period! - 1, probe.period!, now(rate))), fc.integer({ min: 1, max: 3 * probe.period! }), fc.constantFrom(...PCM_ENCODINGS), fc.constantFrom(...PCM_ENCODINGS), (start, len, sent, stream) => {
          const e = expectedSamples(probe, start, len, sent, stream);
          return differing(e, carried(probe.signal.render(start, len, 1), sent, stream)) === 0 && differing(e, carried(direct.render(start, len, 1), sent, stream)) === 0;
        }),
        { numRuns: 60 },
      );
    }
  });

  it('renders signals that do not repeat (noise, a sine of a fraction of a hertz) over the whole span', () => {
    const rate = 48_000;
    const noise = channelSignals(sender({ channels: 2, signal: { noise: 'white', level: -10, seed: 3 } }), 2, rate, 'x.yaml');
    const fraction = channelSignals(sender({ channels: 1, signal: { sine: 997.5, level: -20, step: 0 } }), 1, rate, 'x.yaml');
    for (const cs of [...noise, ...fraction]) {
      expect(cs.period).toBeUndefined();
      const start = now(rate);
      const e = expectedSamples(cs, start, rate, 'L24', 'L16');
      expect(e.table.length).toBe(rate);
      expect(differing(e, carried(cs.signal.render(start, rate, 1), 'L24', 'L16'))).toBe(0);
    }
  });
});
