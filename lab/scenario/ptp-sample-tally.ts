// What the runner judges from the device's PTP samples, tallied as the samples arrive: a
// soak of a day samples the slave every 10 ms (8.64 million samples), so no sample is kept.
// Each figure equals what a pass over every sample would give (ptp-sample-tally.test.ts
// checks that against the whole-array computation).

export interface PtpSample {
  t: number;
  /** Device PTP time minus the followed grandmaster's true PTP time (ns); NaN without an offset. */
  errorNs: number;
  locked: boolean;
  /** Sync samples the slave has used so far. */
  syncSamples: number;
}

/** A device error beyond this moves its audio by half a sample at 48 kHz: not locked, whatever it says. */
export const FALSE_LOCK_ERROR_NS = 10_000;
/** Reported locked with no new Sync sample for this long: the lock is stale (8 Sync intervals of the media profile). */
export const FALSE_LOCK_STALE_NS = 1_000_000_000;
/** Back within this of the grandmaster (and locked): recovered. */
export const RECOVERED_ERROR_NS = 1000;
/** False-lock stretches kept for the report; the longest and the total count them all. */
export const MAX_STRETCHES_KEPT = 64;

export interface FalseLock {
  longestNs: number;
  totalNs: number;
  /** Stretches in time order: every one (up to MAX_STRETCHES_KEPT). */
  stretches: { from: number; to: number; why: string }[];
  count: number;
}

export class PtpSampleTally {
  samples = 0;
  // False lock.
  private lastNewSync = 0;
  private prevSync = -1;
  private prevT = 0;
  private open: { from: number; why: string } | null = null;
  private readonly fl: FalseLock = { longestNs: 0, totalNs: 0, stretches: [], count: 0 };
  // Locked without a new Sync.
  private lockedStale = 0;
  // True error while locked.
  lockedCount = 0;
  private lockedSumSq = 0;
  private lockedMaxAbs = -Infinity;
  // Recovery after the scenario's last grandmaster event.
  private afterEvent = 0;
  private anyBad = false;
  private lastBad = false;
  private goodAt = NaN;

  /** `lastEventAt`: local ns of the scenario's last grandmaster event, or < 0 for none. */
  constructor(private readonly lastEventAt: number) {}

  add(s: PtpSample): void {
    this.samples++;
    if (s.syncSamples !== this.prevSync) this.lastNewSync = s.t;
    this.prevSync = s.syncSamples;
    const finite = Number.isFinite(s.errorNs);
    const wrong = finite && Math.abs(s.errorNs) > FALSE_LOCK_ERROR_NS;
    const stale = s.t - this.lastNewSync > FALSE_LOCK_STALE_NS;
    const bad = s.locked && (wrong || stale);
    if (bad && !this.open) this.open = { from: this.prevT, why: wrong ? `true error ${(s.errorNs / 1e3).toFixed(1)} us` : `no Sync sample for ${((s.t - this.lastNewSync) / 1e9).toFixed(2)} s` };
    if (!bad && this.open) this.close(s.t);
    this.prevT = s.t;
    if (s.locked) this.lockedStale = Math.max(this.lockedStale, s.t - this.lastNewSync);
    if (s.locked && finite) {
      this.lockedCount++;
      this.lockedSumSq += s.errorNs * s.errorNs;
      this.lockedMaxAbs = Math.max(this.lockedMaxAbs, Math.abs(s.errorNs));
    }
    if (this.lastEventAt >= 0 && s.t >= this.lastEventAt) {
      this.afterEvent++;
      const away = !s.locked || !(Math.abs(s.errorNs) <= RECOVERED_ERROR_NS);
      if (away) {
        this.anyBad = true;
        this.lastBad = true;
      } else if (this.lastBad) {
        this.lastBad = false;
        this.goodAt = s.t;
      }
    }
  }

  private close(to: number): void {
    addStretch(this.fl, { ...this.open!, to });
    this.open = null;
  }

  /**
   * False lock: stretches where the device said "locked" while its true error exceeded
   * FALSE_LOCK_ERROR_NS or no new Sync sample had arrived for FALSE_LOCK_STALE_NS. A
   * stretch still open at the last sample ends there.
   */
  falseLock(): FalseLock {
    const fl = { ...this.fl, stretches: [...this.fl.stretches] };
    if (this.open) addStretch(fl, { ...this.open, to: this.prevT });
    return fl;
  }

  /** Longest time the device went on reporting lock after its last new Sync sample (ns). */
  lockedWithoutSync(): number {
    return this.lockedStale;
  }

  /** rms and largest |true error| over the samples taken while locked, or null with none. */
  lockedError(): { rmsNs: number; maxNs: number; count: number } | null {
    if (this.lockedCount === 0) return null;
    return { rmsNs: Math.sqrt(this.lockedSumSq / this.lockedCount), maxNs: this.lockedMaxAbs, count: this.lockedCount };
  }

  /**
   * Time from the last grandmaster event to the first sample after which the slave stayed
   * locked within RECOVERED_ERROR_NS: 0 if it never left; null if it was not back by the
   * last sample (or there was no sample after the event, or no event).
   */
  recoveryNs(): number | null {
    if (this.lastEventAt < 0 || this.afterEvent === 0 || this.lastBad) return null;
    return this.anyBad ? this.goodAt - this.lastEventAt : 0;
  }
}

function addStretch(fl: FalseLock, x: { from: number; to: number; why: string }): void {
  const len = x.to - x.from;
  fl.longestNs = Math.max(fl.longestNs, len);
  fl.totalNs += len;
  fl.count++;
  if (fl.stretches.length < MAX_STRETCHES_KEPT) fl.stretches.push(x);
}
