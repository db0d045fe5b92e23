// The device's own PTP slave (the engine's PtpSlave inside EmulatedDut, which gives the
// device its media clock) followed over the same impaired virtual network as the audio.
// Its error is known exactly in virtual time: the device's PTP time minus the true PTP time
// of the grandmaster it follows (that grandmaster's timescale, steps and drift included),
// sampled every slice; beside it what the device claims (locked or not) and whether it
// still gets fresh Sync/Follow_Up samples — a "locked" claim without either is a false
// lock (aes67-linux-daemon#223, #109, #159, #87; teodly/inferno#23). Samples are tallied
// and plotted as they come (ptp-sample-tally.ts, BoundedSeries): memory stays flat for a day.
import type { DutPtpStatus, EmulatedDut } from '../../native/driver.ts';
import type { Series } from '../report/schema.ts';
import { PtpSampleTally } from './ptp-sample-tally.ts';
import type { Scenario } from './schema.ts';
import { BoundedSeries } from './bounded-series.ts';
import type { ScenarioWorld } from './world.ts';

/** Local ns of the scenario's last grandmaster event (PTP recovery is timed from it), or -1. */
export function lastGrandmasterEvent(s: Scenario): number {
  return Math.max(-1, ...s.grandmasters.flatMap((g) => g.events.map((e) => e.at)));
}

export class DevicePtp {
  readonly tally: PtpSampleTally;
  private readonly error = new BoundedSeries();
  /** Local time of the first lock, or null. */
  firstLock: number | null = null;
  counters?: DutPtpStatus['counters'];
  status?: DutPtpStatus;
  /** Each grandmaster the device followed, from when (local ns), as ptp4l writes identities. */
  readonly followed: { grandmaster: string; since: number }[] = [];

  constructor(
    private readonly w: ScenarioWorld,
    private readonly dut: EmulatedDut,
    /** Local ns of the scenario's last grandmaster event (recovery is timed from it), or < 0. */
    lastEventAt: number,
  ) {
    this.tally = new PtpSampleTally(lastEventAt);
  }

  sample(now: number): void {
    const st = this.dut.ptpStatus();
    if (!st) throw new Error('the device runs without PTP: DevicePtp needs the device on its PTP slave');
    this.status = st;
    if (st.firstLockAt !== null && this.firstLock === null) this.firstLock = st.firstLockAt;
    if (st.grandmaster !== null && this.followed.at(-1)?.grandmaster !== st.grandmaster) this.followed.push({ grandmaster: st.grandmaster, since: st.grandmasterSince ?? now });
    const gm = this.w.grandmasters.find((g) => g.gm.identity === st.grandmaster)?.gm ?? this.w.time.leader?.gm;
    const truth = gm?.timescale.ptpTimeAt(now);
    const mine = st.hasOffset ? this.dut.ptpTimeAt(now) : null;
    const errorNs = truth === undefined || mine === null ? NaN : Number(mine - truth);
    this.tally.add({ t: now, errorNs, locked: st.locked, syncSamples: st.counters.syncSamples });
    if (Number.isFinite(errorNs)) this.error.add(now, Math.round(errorNs));
  }

  finish(): void {
    this.status = this.dut.ptpStatus() ?? undefined;
    this.counters = this.status?.counters;
  }

  /** The true error while it has an offset, as a report series. */
  series(): Series[] {
    const label = "device PTP slave (EmulatedDut's own, its media clock): its PTP time minus the grandmaster's true time";
    return [this.error.series(label, 'ns', (t) => Number((t / 1e9).toFixed(6)))];
  }
}
