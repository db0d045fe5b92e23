// The engine's PTP slave (native PtpSlave) on the device's host, following the scenario's
// grandmasters over the same impaired virtual network as the audio. Its error is known
// exactly in virtual time: the slave's PTP time minus the true PTP time of the grandmaster
// it follows (that grandmaster's timescale, steps and drift included), sampled every slice.
//
// EmulatedDut does not take its media clock from this slave yet (its stand-in clock is
// locked by construction), so these figures judge the engine's PTP, not the device's audio.
import { loadNative } from '../../native/index.ts';
import type { NativePtpSlave } from '../../native/ptp.ts';
import type { TimedActor } from '../net/lab-transport.ts';
import type { Series } from '../report/schema.ts';
import { DEVICE_ADDRESS, type ScenarioWorld } from './world.ts';

export interface PtpSample {
  t: number;
  /** Slave PTP time minus the followed grandmaster's true PTP time (ns). */
  errorNs: number;
  /** What the slave itself reports (ns). */
  offsetNs: number | null;
  locked: boolean;
  grandmaster: string | null;
}

export class DevicePtp {
  readonly slave: NativePtpSlave;
  readonly actor: TimedActor;
  readonly samples: PtpSample[] = [];
  /** Local time of the first lock, or null. */
  firstLock: number | null = null;
  counters?: ReturnType<NativePtpSlave['status']>['counters'];
  private closed = false;

  constructor(private readonly w: ScenarioWorld) {
    const native = loadNative();
    this.slave = new native.PtpSlave({ network: w.network, host: DEVICE_ADDRESS, domain: w.scenario.grandmasters[0].domain, seed: w.seed });
    this.actor = { poll: () => (this.closed ? Infinity : this.slave.poll()) };
  }

  sample(now: number): void {
    const st = this.slave.status();
    this.slave.records(); // drained: the true error below is what is judged
    if (st.locked && this.firstLock === null) this.firstLock = st.lockedSince ?? now;
    const gm = this.w.grandmasters.find((g) => g.gm.identity === st.grandmaster)?.gm ?? this.w.time.leader?.gm;
    const truth = gm?.timescale.ptpTimeAt(now);
    const errorNs = truth === undefined || !st.hasOffset ? NaN : Number(this.slave.ptpTimeAt(now) - truth);
    this.samples.push({ t: now, errorNs, offsetNs: st.hasOffset ? st.offsetNs : null, locked: st.locked, grandmaster: st.grandmaster });
  }

  finish(): void {
    this.counters = this.slave.status().counters;
    this.slave.close();
    this.closed = true;
  }

  /** The true error while locked, as a report series. */
  series(): Series[] {
    const locked = this.samples.filter((s) => Number.isFinite(s.errorNs));
    return [
      {
        label: "device PTP slave (engine PtpSlave): its PTP time minus the grandmaster's true time",
        unit: 'ns',
        t: locked.map((s) => Number((s.t / 1e9).toFixed(6))),
        values: locked.map((s) => Math.round(s.errorNs)),
      },
    ];
  }
}
