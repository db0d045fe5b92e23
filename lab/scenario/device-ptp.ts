// The device's own PTP slave (the engine's PtpSlave inside EmulatedDut, which gives the
// device its media clock) followed over the same impaired virtual network as the audio.
// Its error is known exactly in virtual time: the device's PTP time minus the true PTP time
// of the grandmaster it follows (that grandmaster's timescale, steps and drift included),
// sampled every slice; beside it what the device claims (locked or not) and whether it
// still gets fresh Sync/Follow_Up samples — a "locked" claim without either is a false
// lock (aes67-linux-daemon#223, #109, #159, #87; teodly/inferno#23).
import type { DutPtpStatus, EmulatedDut } from '../../native/driver.ts';
import type { Series } from '../report/schema.ts';
import type { ScenarioWorld } from './world.ts';

export interface PtpSample {
  t: number;
  /** Device PTP time minus the followed grandmaster's true PTP time (ns). */
  errorNs: number;
  /** What the slave itself reports (ns). */
  offsetNs: number | null;
  locked: boolean;
  grandmaster: string | null;
  /** Sync samples the slave has used so far. */
  syncSamples: number;
}

/** A device error beyond this moves its audio by half a sample at 48 kHz: not locked, whatever it says. */
export const FALSE_LOCK_ERROR_NS = 10_000;
/** Reported locked with no new Sync sample for this long: the lock is stale (8 Sync intervals of the media profile). */
export const FALSE_LOCK_STALE_NS = 1_000_000_000;

export class DevicePtp {
  readonly samples: PtpSample[] = [];
  /** Local time of the first lock, or null. */
  firstLock: number | null = null;
  counters?: DutPtpStatus['counters'];
  status?: DutPtpStatus;
  /** Each grandmaster the device followed, from when (local ns), as ptp4l writes identities. */
  readonly followed: { grandmaster: string; since: number }[] = [];

  constructor(
    private readonly w: ScenarioWorld,
    private readonly dut: EmulatedDut,
  ) {}

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
    this.samples.push({ t: now, errorNs, offsetNs: st.hasOffset ? st.offsetNs : null, locked: st.locked, grandmaster: st.grandmaster, syncSamples: st.counters.syncSamples });
  }

  finish(): void {
    this.status = this.dut.ptpStatus() ?? undefined;
    this.counters = this.status?.counters;
  }

  /**
   * False lock: stretches where the device said "locked" while its true error exceeded
   * FALSE_LOCK_ERROR_NS or no new Sync sample had arrived for FALSE_LOCK_STALE_NS.
   * The longest stretch (ns) and the total.
   */
  falseLock(): { longestNs: number; totalNs: number; stretches: { from: number; to: number; why: string }[] } {
    const stretches: { from: number; to: number; why: string }[] = [];
    let lastNewSync = 0;
    let prevSync = -1;
    let open: { from: number; why: string } | null = null;
    let prevT = 0;
    for (const s of this.samples) {
      if (s.syncSamples !== prevSync) lastNewSync = s.t;
      prevSync = s.syncSamples;
      const wrong = Number.isFinite(s.errorNs) && Math.abs(s.errorNs) > FALSE_LOCK_ERROR_NS;
      const stale = s.t - lastNewSync > FALSE_LOCK_STALE_NS;
      const bad = s.locked && (wrong || stale);
      if (bad && !open) open = { from: prevT, why: wrong ? `true error ${(s.errorNs / 1e3).toFixed(1)} us` : `no Sync sample for ${((s.t - lastNewSync) / 1e9).toFixed(2)} s` };
      if (!bad && open) {
        stretches.push({ ...open, to: s.t });
        open = null;
      }
      prevT = s.t;
    }
    if (open) stretches.push({ ...open, to: prevT });
    const lengths = stretches.map((x) => x.to - x.from);
    return { longestNs: Math.max(0, ...lengths), totalNs: lengths.reduce((a, b) => a + b, 0), stretches };
  }

  /** Longest time the device went on reporting lock after its last new Sync sample (ns). */
  lockedWithoutSync(): number {
    let lastNewSync = 0;
    let prevSync = -1;
    let worst = 0;
    for (const s of this.samples) {
      if (s.syncSamples !== prevSync) lastNewSync = s.t;
      prevSync = s.syncSamples;
      if (s.locked) worst = Math.max(worst, s.t - lastNewSync);
    }
    return worst;
  }

  /** The true error while it has an offset, as a report series. */
  series(): Series[] {
    const locked = this.samples.filter((s) => Number.isFinite(s.errorNs));
    return [
      {
        label: "device PTP slave (EmulatedDut's own, its media clock): its PTP time minus the grandmaster's true time",
        unit: 'ns',
        t: locked.map((s) => Number((s.t / 1e9).toFixed(6))),
        values: locked.map((s) => Math.round(s.errorNs)),
      },
    ];
  }
}
