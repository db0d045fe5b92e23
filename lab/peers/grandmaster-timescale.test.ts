import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { udpTransport } from '../net/lab-transport.ts';
import { CURRENT_UTC_OFFSET, SteeredTimescale, systemPtpTimescale, realtimeMinusMonotonicByTick } from './grandmaster-timescale.ts';

describe('SteeredTimescale', () => {
  it('applies steps and frequency changes from their moment on, and inverts them', () => {
    const change = fc.record({ gapNs: fc.integer({ min: 1, max: 5e9 }), step: fc.option(fc.integer({ min: -1e9, max: 1e9 }), { nil: undefined }), ppm: fc.option(fc.double({ min: -500, max: 500, noNaN: true }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 6 }), fc.double({ min: -100, max: 100, noNaN: true }), (changes, basePpm) => {
        const base = linearTimescale(1_767_225_600_000_000_000n, basePpm);
        const t = new SteeredTimescale(base);
        let at = 0;
        let expectedOffset = 0;
        let ppm = 0;
        const checkpoints: { local: number; offset: number }[] = [];
        for (const c of changes) {
          const next = at + c.gapNs;
          expectedOffset += ((next - at) * ppm) / 1e6;
          at = next;
          if (c.step !== undefined) {
            t.step(at, c.step);
            expectedOffset += c.step;
          }
          if (c.ppm !== undefined) {
            t.setFrequency(at, c.ppm);
            ppm = c.ppm;
          }
          checkpoints.push({ local: at, offset: expectedOffset });
        }
        for (const cp of checkpoints) {
          expect(Math.abs(t.offsetAt(cp.local) - cp.offset)).toBeLessThan(1e-3);
          expect(t.ptpTimeAt(cp.local) - base.ptpTimeAt(cp.local)).toBe(BigInt(Math.round(t.offsetAt(cp.local))));
        }
        // Inverse at the end of the script (the latest segment, unambiguous).
        const local = at + 1e9;
        expect(Math.abs(t.localTimeOf(t.ptpTimeAt(local)) - local)).toBeLessThan(2);
      }),
    );
  });

  it('refuses changes out of time order', () => {
    const t = new SteeredTimescale(linearTimescale());
    t.step(10, 5);
    expect(() => t.setFrequency(5, 1)).toThrow(/time order/);
  });
});

describe('systemPtpTimescale', () => {
  it('is CLOCK_REALTIME + 37 s to within a microsecond of an independent reading; the Date.now() fallback within microseconds', () => {
    const transport = udpTransport('');
    const ours = realtimeMinusMonotonicByTick(() => transport.now());
    // An independent view of realtime - monotonic: python3 reads CLOCK_MONOTONIC between two
    // readings of CLOCK_REALTIME (the mirror of what systemPtpTimescale reads), the narrowest
    // of 200 brackets.
    const mirrored = [
      'import time',
      'g, M, R = time.clock_gettime_ns, time.CLOCK_MONOTONIC, time.CLOCK_REALTIME',
      'best = None',
      'for _ in range(200):',
      '    a = g(R); m = g(M); b = g(R)',
      '    if best is None or b - a < best[0]: best = (b - a, (a + b) // 2 - m)',
      'print(best[1])',
    ].join('\n');
    const theirs = BigInt(execFileSync('python3', ['-c', mirrored], { encoding: 'utf8' }).trim());
    const diffUs = Number(ours - theirs) / 1000;
    console.log(`realtime - monotonic: the Date.now() tick estimate and python3 differ by ${diffUs.toFixed(3)} µs`);
    expect(Math.abs(diffUs)).toBeLessThan(20);
    const ts = systemPtpTimescale(() => transport.now());
    expect(ts.realtime.method).toBe('python3');
    const now = transport.now();
    const ptp = ts.ptpTimeAt(now);
    // Within a microsecond of the mirrored reading (one monotonic-then-realtime pair in a fresh
    // python3, as until 27 Nov, was 1.5-3 µs off on the lab's VM).
    const apartUs = Number(ptp - BigInt(CURRENT_UTC_OFFSET) * 1_000_000_000n - theirs - BigInt(Math.round(now))) / 1000;
    console.log(`realtime - monotonic: systemPtpTimescale and the mirrored python3 reading differ by ${apartUs.toFixed(3)} µs`);
    expect(Math.abs(apartUs)).toBeLessThan(1);
    expect(Math.abs(ts.localTimeOf(ptp) - now)).toBeLessThan(1);
  });
});
