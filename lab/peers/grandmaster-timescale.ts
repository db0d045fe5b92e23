// The grandmaster's PTP time: a base timescale (virtual epoch, or the system clock as TAI)
// that scripted behaviours steer with time steps and frequency offsets. Senders read it
// through the PtpTimescale interface, so they see exactly what the grandmaster sends.
import { execFileSync } from 'node:child_process';
import type { PtpTimescale } from '../net/ptp-timescale.ts';

interface Segment {
  /** Local time from which this segment applies. */
  fromLocal: number;
  /** Offset (ns) added to the base at fromLocal. */
  offsetAtFrom: number;
  /** Frequency offset of this segment against the base, in ppm. */
  ppm: number;
}

/**
 * Base time plus a piecewise-linear offset: every step or frequency change starts a new
 * segment, so ptpTimeAt() of a past moment still gives what the clock said then.
 */
export class SteeredTimescale implements PtpTimescale {
  private readonly segments: Segment[] = [{ fromLocal: -Infinity, offsetAtFrom: 0, ppm: 0 }];

  constructor(readonly base: PtpTimescale) {}

  /** Offset from the base (ns, fractional) at local time `localNs`. */
  offsetAt(localNs: number): number {
    const s = this.segmentAt(localNs);
    return s.fromLocal === -Infinity ? 0 : s.offsetAtFrom + ((localNs - s.fromLocal) * s.ppm) / 1e6;
  }

  /** The frequency offset (ppm) in force at `localNs`. */
  ppmAt(localNs: number): number {
    return this.segmentAt(localNs).ppm;
  }

  ptpTimeAt(localNs: number): bigint {
    return this.base.ptpTimeAt(localNs) + BigInt(Math.round(this.offsetAt(localNs)));
  }

  localTimeOf(ptpNs: bigint): number {
    // Latest segment first: after a backward step, a PTP time occurs twice; the later wins.
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      let local = this.base.localTimeOf(ptpNs);
      for (let k = 0; k < 4; k++) {
        const off = s.fromLocal === -Infinity ? 0 : s.offsetAtFrom + ((local - s.fromLocal) * s.ppm) / 1e6;
        local = this.base.localTimeOf(ptpNs - BigInt(Math.round(off)));
      }
      if (local >= s.fromLocal) return local;
    }
    return this.base.localTimeOf(ptpNs);
  }

  /** PTP time jumps by `ns` at local time `atLocal` (not before the last change). */
  step(atLocal: number, ns: number): void {
    this.change(atLocal, (s) => ({ fromLocal: atLocal, offsetAtFrom: this.offsetAt(atLocal) + ns, ppm: s.ppm }));
  }

  /** From `atLocal` on, PTP time runs `ppm` fast (negative: slow) against the base. */
  setFrequency(atLocal: number, ppm: number): void {
    this.change(atLocal, () => ({ fromLocal: atLocal, offsetAtFrom: this.offsetAt(atLocal), ppm }));
  }

  private change(atLocal: number, next: (current: Segment) => Segment): void {
    const last = this.segments[this.segments.length - 1];
    if (atLocal < last.fromLocal) throw new RangeError(`timescale changes must come in time order (${atLocal} < ${last.fromLocal})`);
    const s = next(last);
    if (atLocal === last.fromLocal) this.segments[this.segments.length - 1] = s;
    else this.segments.push(s);
  }

  private segmentAt(localNs: number): Segment {
    for (let i = this.segments.length - 1; i > 0; i--) if (localNs >= this.segments[i].fromLocal) return this.segments[i];
    return this.segments[0];
  }
}

/** TAI - UTC since 2017-01-01 (IERS Bulletin C); what a GPS-locked grandmaster announces. */
export const CURRENT_UTC_OFFSET = 37;

/**
 * realtime - monotonic (ns) from Date.now() alone: the monotonic readings just before and
 * after a millisecond tick of Date.now() bound the moment; the narrowest of a few ticks
 * wins. Measured against python3 below, Date.now() ticks about 2 µs after CLOCK_REALTIME
 * does on Linux (node 20), so this is the fallback, good to a few microseconds.
 */
export function realtimeMinusMonotonicByTick(monotonicNow: () => number, ticks = 6): bigint {
  let best: { offset: bigint; width: number } | undefined;
  const deadline = monotonicNow() + 100e6;
  let prevMs = Date.now();
  let prevBefore = monotonicNow();
  let seen = 0;
  while (seen < ticks && monotonicNow() < deadline) {
    const before = monotonicNow();
    const ms = Date.now();
    const after = monotonicNow();
    if (ms === prevMs + 1) {
      // The tick to `ms` happened after the previous Date.now() (>= prevBefore) and before this one (<= after).
      const width = after - prevBefore;
      const mid = prevBefore + width / 2;
      if (!best || width < best.width) best = { offset: BigInt(ms) * 1_000_000n - BigInt(Math.round(mid)), width };
      seen++;
    }
    prevMs = ms;
    prevBefore = before;
  }
  if (!best) throw new Error('could not relate CLOCK_REALTIME to the monotonic clock: Date.now() did not tick within 100 ms');
  return best.offset;
}

export interface RealtimeOffset {
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in nanoseconds. */
  offsetNs: bigint;
  /** 'python3': a realtime reading bracketed by two monotonic ones (~0.5 µs); 'date-tick': the fallback (~3 µs). */
  method: 'python3' | 'date-tick';
}

// The realtime reading against the middle of the narrowest of 200 monotonic brackets. One
// pair read back to back (monotonic, then realtime) in a fresh python3 was 1.5-3 µs apart
// on the lab's VM (the first calls are slow), and a grandmaster on that offset ran 1.5-3 µs
// ahead of the system clock: a free-running ptp4l slave following it measured about 2 µs
// less than following a ptp4l grandmaster on the same link (ptp4l-grandmaster.test.ts).
const PYTHON_REALTIME_MINUS_MONOTONIC = [
  'import time',
  'g, M, R = time.clock_gettime_ns, time.CLOCK_MONOTONIC, time.CLOCK_REALTIME',
  'best = None',
  'for _ in range(200):',
  '    a = g(M); r = g(R); b = g(M)',
  '    if best is None or b - a < best[0]: best = (b - a, r - (a + b) // 2)',
  'print(best[1])',
].join('\n');

/**
 * realtime - monotonic on this host. Node has no nanosecond CLOCK_REALTIME, so on Linux
 * python3 reads CLOCK_REALTIME between two readings of CLOCK_MONOTONIC (the transport's
 * clock); the tick estimate checks it is the same monotonic clock and stands in without python3.
 */
export function realtimeMinusMonotonic(monotonicNow: () => number): RealtimeOffset {
  const tick = realtimeMinusMonotonicByTick(monotonicNow);
  if (process.platform === 'linux') {
    try {
      const out = execFileSync('python3', ['-c', PYTHON_REALTIME_MINUS_MONOTONIC], {
        encoding: 'utf8',
        timeout: 5000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const offsetNs = BigInt(out.trim());
      // Same clocks if within a millisecond of the tick estimate.
      if (offsetNs - tick < 1_000_000n && tick - offsetNs < 1_000_000n) return { offsetNs, method: 'python3' };
    } catch {
      // No python3: the tick estimate it is.
    }
  }
  return { offsetNs: tick, method: 'date-tick' };
}

/**
 * The system clock as PTP (TAI) time: CLOCK_REALTIME + `utcOffset` seconds, on the
 * transport's monotonic clock. All network namespaces share this clock, so a slave in
 * another namespace that follows it has a true offset of zero: what it measures is error.
 */
export function systemPtpTimescale(monotonicNow: () => number, utcOffset = CURRENT_UTC_OFFSET): PtpTimescale & { realtime: RealtimeOffset } {
  const realtime = realtimeMinusMonotonic(monotonicNow);
  const offset = realtime.offsetNs + BigInt(utcOffset) * 1_000_000_000n;
  return {
    realtime,
    ptpTimeAt: (localNs) => BigInt(Math.round(localNs)) + offset,
    localTimeOf: (ptpNs) => Number(ptpNs - offset),
  };
}
