// PTP time for live emulated peers with no grandmaster emulator in the same process: the
// host's UTC clock plus the TAI offset, read once and carried forward by the transport's
// monotonic clock (so a later step of the system clock does not move a running sender).
// It is what the lab's own grandmaster serves, not PTP lock, and not what every
// grandmaster serves: ptp4l with software time stamps serves CLOCK_REALTIME as it is (UTC,
// 37 s behind this), so with gear on the rig the lab follows the grandmaster's own time
// (lab/hil/grandmaster-time.ts).
import type { LabTransport } from '../net/lab-transport.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';

/** TAI − UTC since 2017 (IERS Bulletin C). */
export const TAI_OFFSET_S = 37;

export function systemTimescale(transport: LabTransport, taiOffsetS = TAI_OFFSET_S, ppm = 0): PtpTimescale {
  const local = transport.now();
  // performance.timeOrigin + now() is wall time with sub-µs resolution (Date.now() has ms).
  const wallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const ptpNow = wallNs + BigInt(Math.round(taiOffsetS * 1e9));
  // linearTimescale maps local time t to epoch + t·(1 + ppm): pick the epoch that puts `local` at ptpNow.
  return linearTimescale(ptpNow - BigInt(Math.round(local * (1 + ppm / 1e6))), ppm);
}
