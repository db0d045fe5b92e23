// The device's own PTP slave (the engine's PtpSlave inside EmulatedDut, which gives the
// device its media clock) followed over the same impaired virtual network as the audio.
// Its error is known exactly in virtual time: the device's PTP time minus the true PTP time
// of the grandmaster it follows (that grandmaster's timescale, steps and drift included),
// sampled every slice; beside it what the device claims (locked or not) and whether it
// still gets fresh Sync/Follow_Up samples — a "locked" claim without either is a false
// lock (aes67-linux-daemon#223, #109, #159, #87; teodly/inferno#23). Samples are tallied
// and plotted as they come (ptp-sample-tally.ts, BoundedSeries): memory stays flat for a day.
// Each sample reads the slave's brief (EmulatedDut.ptpBrief: six numbers) and its full
// status (a score of formatted strings) only when the grandmaster it names changes; `full`
// reads the full status every time, the straightforward way the brief is checked against
// (lab/scenario/fast-bookkeeping.test.ts).
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
    /** Read the full ptpStatus() at every sample (the reference way), not the brief. */
    private readonly full = false,
  ) {
    this.tally = new PtpSampleTally(lastEventAt);
  }

  private readonly brief = new Float64Array(6);
  private briefVersion = -1;
  /** The lab's grandmaster with the identity the last full status named. */
  private namedGm: ScenarioWorld['grandmasters'][number]['gm'] | undefined;

  sample(now: number): void {
    if (this.full) return this.sampleFull(now);
    const b = this.brief;
    if (!this.dut.ptpBrief(b)) throw new Error('the device runs without PTP: DevicePtp needs the device on its PTP slave');
    if (b[4] !== this.briefVersion) {
      this.briefVersion = b[4];
      const st = this.dut.ptpStatus()!;
      if (st.grandmaster !== null && this.followed.at(-1)?.grandmaster !== st.grandmaster) this.followed.push({ grandmaster: st.grandmaster, since: st.grandmasterSince ?? now });
      this.namedGm = this.w.grandmasters.find((g) => g.gm.identity === st.grandmaster)?.gm;
    }
    if (b[2] >= 0 && this.firstLock === null) this.firstLock = b[2];
    this.add(now, this.namedGm ?? this.w.time.leader?.gm, b[1] === 1, b[0] === 1, b[3]);
  }

  private sampleFull(now: number): void {
    const st = this.dut.ptpStatus();
    if (!st) throw new Error('the device runs without PTP: DevicePtp needs the device on its PTP slave');
    this.status = st;
    if (st.firstLockAt !== null && this.firstLock === null) this.firstLock = st.firstLockAt;
    if (st.grandmaster !== null && this.followed.at(-1)?.grandmaster !== st.grandmaster) this.followed.push({ grandmaster: st.grandmaster, since: st.grandmasterSince ?? now });
    const gm = this.w.grandmasters.find((g) => g.gm.identity === st.grandmaster)?.gm ?? this.w.time.leader?.gm;
    this.add(now, gm, st.hasOffset, st.locked, st.counters.syncSamples);
  }

  private add(now: number, gm: ScenarioWorld['grandmasters'][number]['gm'] | undefined, hasOffset: boolean, locked: boolean, syncSamples: number): void {
    const truth = gm?.timescale.ptpTimeAt(now);
    const mine = hasOffset ? this.dut.ptpTimeAt(now) : null;
    const errorNs = truth === undefined || mine === null ? NaN : Number(mine - truth);
    this.tally.add({ t: now, errorNs, locked, syncSamples });
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
