// The network's time as a lab device sees it. A grandmaster emulator defines it (its PTP
// time is the local clock plus its offset and drift); a sender stamps RTP from it (AES67 /
// ST 2110-10: media time = PTP seconds x rate); a receiver judges arrival against it.
// PTP time is bigint nanoseconds since the PTP epoch (it does not fit a double exactly).

export interface PtpTimescale {
  /** PTP nanoseconds at local (transport clock) time `localNs`. */
  ptpTimeAt(localNs: number): bigint;
  /** Local time at which PTP time reaches `ptpNs` (inverse of ptpTimeAt). */
  localTimeOf(ptpNs: bigint): number;
}

/**
 * PTP time = epoch + local time x (1 + ppm / 1e6): a free-running or drifting timescale.
 * The default epoch puts virtual time 0 at 2026-01-01T00:00:00 TAI-ish, so RTP timestamps
 * look like field ones rather than starting at zero.
 */
export function linearTimescale(epochNs = 1_767_225_600_000_000_000n, ppm = 0): PtpTimescale {
  const scale = 1 + ppm / 1e6;
  return {
    ptpTimeAt: (localNs) => epochNs + BigInt(Math.round(localNs * scale)),
    localTimeOf: (ptpNs) => Number(ptpNs - epochNs) / scale,
  };
}

/** Media time (samples since the PTP epoch) of PTP time `ptpNs` (>= 0) at `rate`: floor. */
export function mediaTimeOf(ptpNs: bigint, rate: number): bigint {
  return (ptpNs * BigInt(rate)) / 1_000_000_000n;
}

/** PTP nanoseconds at which media sample `sample` begins (ceiling, exact inverse of mediaTimeOf). */
export function ptpTimeOfSample(sample: bigint, rate: number): bigint {
  const r = BigInt(rate);
  return (sample * 1_000_000_000n + r - 1n) / r;
}

/** RTP timestamp of a media sample with the SDP's `mediaclk:direct=` offset (RFC 7273). */
export function rtpTimestampOf(sample: bigint, mediaclkOffset = 0): number {
  return Number((sample + BigInt(mediaclkOffset)) & 0xffffffffn);
}
