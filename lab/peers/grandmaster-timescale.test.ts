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
  it('is CLOCK_REALTIME + 37 s as python reads it; the Date.now() fallback within microseconds', () => {
    const transport = udpTransport('');
    const ours = realtimeMinusMonotonicByTick(() => transport.now());
    // python3 reads both clocks back to back: an independent view of realtime - monotonic.
    const theirs = BigInt(
      execFileSync('python3', ['-c', 'import time;m=time.clock_gettime_ns(time.CLOCK_MONOTONIC);r=time.clock_gettime_ns(time.CLOCK_REALTIME);print(r-m)'], { encoding: 'utf8' }).trim(),
    );
    const diffUs = Number(ours - theirs) / 1000;
    console.log(`realtime - monotonic: the Date.now() tick estimate and python3 differ by ${diffUs.toFixed(3)} µs`);
    expect(Math.abs(diffUs)).toBeLessThan(20);
    const ts = systemPtpTimescale(() => transport.now());
    expect(ts.realtime.method).toBe('python3');
    const now = transport.now();
    const ptp = ts.ptpTimeAt(now);
    // Two python3 runs read the same offset to within their own back-to-back gap.
    expect(Math.abs(Number(ptp - BigInt(CURRENT_UTC_OFFSET) * 1_000_000_000n - theirs - BigInt(Math.round(now))) / 1000)).toBeLessThan(5);
    expect(Math.abs(ts.localTimeOf(ptp) - now)).toBeLessThan(1);
  });
});
