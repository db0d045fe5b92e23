// The engine's PtpSlave (through native) following the lab's Grandmaster on the native
// VirtualNetwork in virtual time, traced every 10 ms: what the slave claims (locked, servo
// state, reported offset) next to its true error -- the slave's PTP time minus the
// grandmaster's, both read at the same virtual instant, which virtual time knows exactly.
// The grandmaster is the lab's TypeScript peer, independent of the engine's C++ test master.
import { loadNative, type ImpairedPacket, type VirtualClock, type VirtualNetwork } from '../../native/index.ts';
import type { NativePtpSlave, PtpServoOptions, PtpSlaveStatus } from '../../native/ptp.ts';
import { VirtualRun, virtualHost, type TimedActor } from '../net/lab-transport.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';
import { Grandmaster, type GrandmasterEvent } from '../peers/grandmaster.ts';

export const TRACE_INTERVAL_NS = 10_000_000;

export interface TracePoint {
  /** Virtual ns. */
  at: number;
  locked: boolean;
  servoShort: PtpSlaveStatus['servoShort'];
  /** Slave's PTP time minus the truth's, ns (NaN before the slave has a mapping to speak of). */
  errorNs: number;
  /** The last offset the slave measured (slave minus master), ns. */
  reportedOffsetNs: number;
}

export interface VirtualPtpOptions {
  /** The grandmaster's frequency against virtual time, ppm (its base timescale). */
  ppm?: number;
  /** One-way network delay, ns. */
  baseDelayNs?: number;
  script?: GrandmasterEvent[];
  /** Per-datagram extra delays (an ImpairmentModel's hook); [] loses the datagram. */
  impairment?: (packet: ImpairedPacket) => number[];
  servo?: PtpServoOptions;
  seed?: number;
}

export class VirtualPtpTrace {
  readonly clock: VirtualClock;
  readonly network: VirtualNetwork;
  readonly grandmaster: Grandmaster;
  readonly slave: NativePtpSlave;
  /** The grandmaster's unsteered time: the truth when scripted steps cancel (Sync times that jump and come back). */
  readonly base: PtpTimescale;
  readonly points: TracePoint[] = [];
  private readonly run: VirtualRun;
  private nextPoint = 0;

  /** `truth`: which of the grandmaster's times the error is taken against ('steered': what it sends now). */
  constructor(o: VirtualPtpOptions = {}, private readonly truth: 'steered' | 'base' = 'steered') {
    const native = loadNative();
    this.clock = new native.VirtualClock(0);
    this.network = new native.VirtualNetwork(this.clock, o.baseDelayNs ?? 100);
    if (o.impairment) this.network.setImpairment(o.impairment);
    this.base = linearTimescale(undefined, o.ppm ?? 0);
    this.grandmaster = new Grandmaster(virtualHost(this.network, this.clock, '10.67.201.1', 'gm'), { identitySeed: 'lab-grandmaster', timescale: this.base, script: o.script });
    virtualHost(this.network, this.clock, '10.67.201.2', 'slave');
    this.slave = new native.PtpSlave({ network: this.network, host: '10.67.201.2', ...(o.servo ? { servo: o.servo } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    const slave = this.slave;
    const sampler: TimedActor = {
      poll: (now) => {
        if (now >= this.nextPoint) {
          this.sample(now);
          this.nextPoint = now + TRACE_INTERVAL_NS;
        }
        return this.nextPoint;
      },
    };
    this.run = new VirtualRun([this.grandmaster, { poll: () => slave.poll() }, sampler], this.network, this.clock);
  }

  /** Runs until virtual `untilS` seconds. */
  runUntil(untilS: number): void {
    this.run.until({ untilNs: Math.round(untilS * 1e9) });
  }

  private sample(now: number): void {
    const st = this.slave.status();
    const truth = this.truth === 'base' ? this.base : this.grandmaster.timescale;
    const error = st.hasOffset ? Number(this.slave.ptpTimeAt(now) - truth.ptpTimeAt(now)) : NaN;
    this.points.push({ at: now, locked: st.locked, servoShort: st.servoShort, errorNs: error, reportedOffsetNs: st.offsetNs });
  }

  between(fromS: number, toS: number): TracePoint[] {
    return this.points.filter((p) => p.at >= fromS * 1e9 && p.at < toS * 1e9);
  }

  /** First locked point at or after `fromS` (seconds), or undefined. */
  firstLock(fromS = 0): TracePoint | undefined {
    return this.points.find((p) => p.at >= fromS * 1e9 && p.locked);
  }

  /** rms and max |error| of the locked points at or after `fromS`. */
  lockedError(fromS: number, toS = Infinity): { rmsNs: number; maxNs: number; samples: number } {
    const xs = this.between(fromS, toS).filter((p) => p.locked).map((p) => p.errorNs);
    if (xs.length === 0) return { rmsNs: NaN, maxNs: NaN, samples: 0 };
    return { rmsNs: Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length), maxNs: Math.max(...xs.map(Math.abs)), samples: xs.length };
  }

  close(): void {
    this.grandmaster.close();
    this.slave.close();
  }
}
