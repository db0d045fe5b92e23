// The streaming tally gives what one pass over the whole array of samples gives: the
// reference below is the whole-array computation the runner used before it tallied.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FALSE_LOCK_ERROR_NS, FALSE_LOCK_STALE_NS, PtpSampleTally, RECOVERED_ERROR_NS, type PtpSample } from './ptp-sample-tally.ts';

function wholeArray(samples: PtpSample[], lastEvent: number) {
  const stretches: { from: number; to: number; why: string }[] = [];
  let lastNewSync = 0;
  let prevSync = -1;
  let open: { from: number; why: string } | null = null;
  let prevT = 0;
  let stale = 0;
  for (const s of samples) {
    if (s.syncSamples !== prevSync) lastNewSync = s.t;
    prevSync = s.syncSamples;
    const wrong = Number.isFinite(s.errorNs) && Math.abs(s.errorNs) > FALSE_LOCK_ERROR_NS;
    const isStale = s.t - lastNewSync > FALSE_LOCK_STALE_NS;
    const bad = s.locked && (wrong || isStale);
    if (bad && !open) open = { from: prevT, why: wrong ? `true error ${(s.errorNs / 1e3).toFixed(1)} us` : `no Sync sample for ${((s.t - lastNewSync) / 1e9).toFixed(2)} s` };
    if (!bad && open) {
      stretches.push({ ...open, to: s.t });
      open = null;
    }
    prevT = s.t;
    if (s.locked) stale = Math.max(stale, s.t - lastNewSync);
  }
  if (open) stretches.push({ ...open, to: prevT });
  const lengths = stretches.map((x) => x.to - x.from);
  const locked = samples.filter((x) => x.locked && Number.isFinite(x.errorNs)).map((x) => x.errorNs);
  let recovery: number | null = null;
  if (lastEvent >= 0) {
    const after = samples.filter((x) => x.t >= lastEvent);
    let bad = -1;
    after.forEach((x, i) => {
      if (!x.locked || !(Math.abs(x.errorNs) <= RECOVERED_ERROR_NS)) bad = i;
    });
    recovery = after.length === 0 || bad === after.length - 1 ? null : bad < 0 ? 0 : after[bad + 1].t - lastEvent;
  }
  return {
    falseLock: { longestNs: Math.max(0, ...lengths), totalNs: lengths.reduce((a, b) => a + b, 0), stretches, count: stretches.length },
    lockedWithoutSync: stale,
    lockedError: locked.length === 0 ? null : { rmsNs: Math.sqrt(locked.reduce((a, e) => a + e * e, 0) / locked.length), maxNs: locked.reduce((a, e) => Math.max(a, Math.abs(e)), -Infinity), count: locked.length },
    recovery,
  };
}

// Samples every 10 ms whose error wanders across the thresholds and whose Sync count sometimes stalls past 1 s.
const sampleRun = fc
  .array(
    fc.record({
      errorNs: fc.oneof(fc.constant(NaN), fc.integer({ min: -30_000, max: 30_000 }), fc.integer({ min: -1500, max: 1500 })),
      locked: fc.boolean(),
      newSync: fc.oneof(fc.constant(true), fc.constant(false)),
      stall: fc.nat({ max: 150 }),
    }),
    { maxLength: 200 },
  )
  .map((xs) => {
    let t = 0;
    let sync = 0;
    return xs.map((x) => {
      t += 10_000_000 * (1 + (x.newSync ? 0 : x.stall));
      if (x.newSync) sync++;
      return { t, errorNs: x.errorNs, locked: x.locked, syncSamples: sync };
    });
  });

describe('PtpSampleTally', () => {
  it('equals the whole-array computation: false lock, locked without Sync, locked error, recovery', () => {
    fc.assert(
      fc.property(sampleRun, fc.integer({ min: -1, max: 3_000_000_000 }), (samples, lastEvent) => {
        const tally = new PtpSampleTally(lastEvent);
        for (const s of samples) tally.add(s);
        const ref = wholeArray(samples, lastEvent);
        expect(tally.falseLock()).toEqual(ref.falseLock);
        expect(tally.lockedWithoutSync()).toBe(ref.lockedWithoutSync);
        const le = tally.lockedError();
        if (ref.lockedError === null) expect(le).toBeNull();
        else {
          expect(le!.count).toBe(ref.lockedError.count);
          expect(le!.maxNs).toBe(ref.lockedError.maxNs);
          expect(le!.rmsNs).toBeCloseTo(ref.lockedError.rmsNs, 6);
        }
        expect(tally.recoveryNs()).toBe(ref.recovery);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the first stretches only, but counts, totals and measures them all', () => {
    const tally = new PtpSampleTally(-1);
    let t = 0;
    for (let i = 0; i < 500; i++) {
      tally.add({ t: (t += 10e6), errorNs: 50_000, locked: true, syncSamples: 2 * i });
      tally.add({ t: (t += 10e6), errorNs: 0, locked: true, syncSamples: 2 * i + 1 });
    }
    const fl = tally.falseLock();
    expect(fl.count).toBe(500);
    expect(fl.stretches.length).toBeLessThan(500);
    expect(fl.totalNs).toBe(500 * 20e6);
    expect(fl.longestNs).toBe(20e6);
  });
});
