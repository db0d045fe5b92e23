// Sender media-clock drift: a timescale that runs `ppm` parts per million fast (or slow,
// negative) against another, agreeing with it at local time `atNs`. A sender stamping RTP
// from it drifts against receivers that follow the true network time, as a device with a
// free-running or badly locked media clock does.
import type { PtpTimescale } from '../net/ptp-timescale.ts';

export function driftingTimescale(base: PtpTimescale, ppm: number, atNs = 0): PtpTimescale {
  if (!Number.isFinite(ppm) || Math.abs(ppm) >= 1e5) throw new RangeError(`drift ${ppm} ppm must be a number of magnitude below 100000`);
  const scale = 1 + ppm / 1e6;
  return {
    ptpTimeAt: (localNs) => base.ptpTimeAt(atNs + (localNs - atNs) * scale),
    localTimeOf: (ptpNs) => atNs + (base.localTimeOf(ptpNs) - atNs) / scale,
  };
}
