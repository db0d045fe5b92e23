import { describe, expect, it } from 'vitest';
import { linearTimescale, mediaTimeOf, ptpTimeOfSample, rtpTimestampOf } from './ptp-timescale.ts';

describe('PTP timescale and media time', () => {
  it('maps PTP time to samples and back exactly at every AES67 rate', () => {
    for (const rate of [44_100, 48_000, 88_200, 96_000, 176_400, 192_000, 352_800, 384_000]) {
      for (const s of [1n, 12345n, 76_265_251_200_000_000n + 7n]) {
        expect(mediaTimeOf(ptpTimeOfSample(s, rate), rate)).toBe(s);
        expect(mediaTimeOf(ptpTimeOfSample(s, rate) - 1n, rate)).toBe(s - 1n);
      }
    }
  });

  it('stamps RTP as samples since the epoch plus the mediaclk offset, mod 2^32', () => {
    // 1 s after the PTP epoch at 48 kHz is sample 48000; with offset 2^32 - 1 it wraps to 47999.
    expect(rtpTimestampOf(mediaTimeOf(1_000_000_000n, 48_000), 0)).toBe(48_000);
    expect(rtpTimestampOf(mediaTimeOf(1_000_000_000n, 48_000), 0xffffffff)).toBe(47_999);
  });

  it('drifts by the given ppm and inverts', () => {
    const ts = linearTimescale(0n, 100);
    expect(ts.ptpTimeAt(1_000_000_000)).toBe(1_000_100_000n);
    expect(ts.localTimeOf(1_000_100_000n)).toBeCloseTo(1_000_000_000, 3);
  });
});
