// A sender's channels are played from one-period tables for speed: the tables must hold
// exactly what lab/signal renders directly at any sample index, and the probe channel
// must be the MLS.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeWav } from '../analyze/wav.ts';
import { withTempDir } from '../net/test-support.ts';
import { createSignal } from '../signal/index.ts';
import type { SenderSpec } from './schema.ts';
import { channelSignals, interleaved } from './sender-signal.ts';

const sender = (o: Partial<SenderSpec>): SenderSpec => ({ name: 's', kind: 'aes67', drift: 0, ...o }) as SenderSpec;

describe('sender signals', () => {
  it('tabulated sines and the probe equal direct rendering at any index', () => {
    for (const rate of [44_100, 48_000, 96_000]) {
      const spec = sender({ channels: 4, signal: { sine: 997, level: -20, step: 100 }, probe: { channel: 3, degree: 11, level: -6 } });
      const chans = channelSignals(spec, 4, rate, 'x.yaml');
      expect(chans.map((c) => c.kind)).toEqual(['sine', 'sine', 'probe', 'sine']);
      expect(chans.map((c) => c.period)).toEqual([rate, rate, 2047, rate]);
      const direct = [
        createSignal({ kind: 'sine', frequencyHz: 997, levelDbfs: -20 }, rate),
        createSignal({ kind: 'sine', frequencyHz: 1097, levelDbfs: -20 }, rate),
        createSignal({ kind: 'probe', degree: 11, levelDbfs: -6 }, rate),
        createSignal({ kind: 'sine', frequencyHz: 1297, levelDbfs: -20 }, rate),
      ];
      const all = interleaved(chans, rate);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 1, max: 300 }), (start, frames) => {
          const got = all.render(start, frames, 4);
          for (let c = 0; c < 4; c++) {
            const want = direct[c].render(start, frames, 1);
            for (let i = 0; i < frames; i++) if (got[i * 4 + c] !== want[i]) return false;
          }
          return true;
        }),
        { numRuns: 200 },
      );
    }
  });

  it('keeps a sine of a fractional frequency untabulated, and silence silent', () => {
    const chans = channelSignals(sender({ channels: 2, signal: { sine: 997.5, level: -20, step: 0 } }), 2, 48_000, 'x.yaml');
    expect(chans[0].period).toBeUndefined();
    const direct = createSignal({ kind: 'sine', frequencyHz: 997.5, levelDbfs: -20 }, 48_000);
    expect(Array.from(chans[0].signal.render(123_456_789, 64, 1))).toEqual(Array.from(direct.render(123_456_789, 64, 1)));
    const quiet = channelSignals(sender({ channels: 1, signal: 'silence' }), 1, 48_000, 'x.yaml');
    expect(Array.from(quiet[0].signal.render(5, 8, 1))).toEqual(new Array(8).fill(0));
  });

  it('plays a WAV file relative to the scenario, one file channel per sender channel, looped', () => {
    withTempDir((dir) => {
      const frames = 100;
      const interleaved = new Float32Array(frames * 2);
      for (let i = 0; i < frames; i++) {
        interleaved[2 * i] = (i - 50) / 128;
        interleaved[2 * i + 1] = (i % 7) / -64 + 0;
      }
      writeWav(path.join(dir, 'take.wav'), { sampleRate: 48_000, channels: 2, encoding: 'L16', interleaved, missingFrames: 0 });
      const chans = channelSignals(sender({ channels: 3, signal: { wav: 'take.wav' } }), 3, 48_000, path.join(dir, 'scenario.yaml'));
      expect(chans.map((c) => c.kind)).toEqual(['wav', 'wav', 'wav']);
      const got = interleaved3(chans, 250, 30);
      for (let i = 0; i < 30; i++) {
        const k = (250 + i) % frames;
        expect([got[i * 3], got[i * 3 + 1], got[i * 3 + 2]]).toEqual([interleaved[2 * k], interleaved[2 * k + 1], interleaved[2 * k]]);
      }
    });
  });
});

function interleaved3(chans: ReturnType<typeof channelSignals>, start: number, frames: number): Float32Array {
  return interleaved(chans, 48_000).render(start, frames, chans.length);
}
