// The runner's reading of the DUT's PTP status (ptp-lock.ts) where the real DUT cannot be
// made to do it on purpose: a DUT that does not report a figure, one without a lock
// counter, one that restarted between two statuses. ptp-lock.live.test.ts reads the real
// software DUT against ptp4l.
import { describe, expect, it } from 'vitest';
import type { DutPtpStatusJson } from '../dut/dut-client.ts';
import { dutLockOf, ptpCounterDeltas, SPAN_COUNTERS } from './ptp-lock.ts';

/** A status as aes67-dut writes it (driver/host/software_dut.cpp), counters given. */
const ptp = (locked: boolean, counters: Record<string, number> | undefined, extra: Partial<DutPtpStatusJson> = {}): DutPtpStatusJson => ({
  enabled: true,
  tsRefclk: 'ptp=IEEE1588-2008:traceable',
  locked,
  ...(counters ? { counters } : {}),
  ...extra,
});
const all = (n: number, over: Record<string, number> = {}) => ({ ...Object.fromEntries(SPAN_COUNTERS.map((k) => [k, n])), ...over });

describe('dutLockOf', () => {
  it("takes the DUT's own acquisition and first lock, and says the lock happened during the run when its lock count rose", () => {
    const l = dutLockOf(ptp(false, all(0)), ptp(true, all(0, { locks: 1 }), { lastAcquisitionS: 2.3456, lockTimeS: 9.87654 }));
    expect(l.acquisitionMs).toBe(Number((2.3456 * 1000).toFixed(1)));
    expect(l.firstLockMs).toBe(Number((9.87654 * 1000).toFixed(1)));
    expect(l.lockedDuringRun).toBe(true);
    expect(l.locksWhileWaiting).toBe(1);
    expect(l.lockLossesWhileWaiting).toBe(0);
  });

  it('a DUT locked before the run: its older acquisition, lockedDuringRun false', () => {
    const before = ptp(true, all(3, { locks: 2, lockLosses: 1 }), { lastAcquisitionS: 0.5, lockTimeS: 4 });
    const l = dutLockOf(before, { ...before });
    expect(l.lockedDuringRun).toBe(false);
    expect(l.locksWhileWaiting).toBe(0);
    expect(l.acquisitionMs).toBe(500);
  });

  it('counts a loss and relock while the runner waited', () => {
    const l = dutLockOf(ptp(true, all(0, { locks: 1 }), { lastAcquisitionS: 1 }), ptp(true, all(0, { locks: 2, lockLosses: 1 }), { lastAcquisitionS: 3 }));
    expect([l.lockedDuringRun, l.locksWhileWaiting, l.lockLossesWhileWaiting, l.acquisitionMs]).toEqual([true, 1, 1, 3000]);
  });

  it('a DUT without lastAcquisitionS: no DUT lock time, and the reason names the missing key (the runner never substitutes its own wall time)', () => {
    const l = dutLockOf(ptp(false, all(0)), ptp(true, all(0, { locks: 1 }), { lockTimeS: 5 }));
    expect(typeof l.acquisitionMs).toBe('object');
    expect((l.acquisitionMs as { missing: string }).missing).toMatch(/no ptp\.lastAcquisitionS/);
    expect(l.firstLockMs).toBe(5000);
  });

  it('without a lock counter: locked now and not at the start means it locked during the run', () => {
    expect(dutLockOf(ptp(false, undefined), ptp(true, undefined, { lastAcquisitionS: 1 })).lockedDuringRun).toBe(true);
    expect(dutLockOf(ptp(true, undefined), ptp(true, undefined, { lastAcquisitionS: 1 })).lockedDuringRun).toBe(false);
  });

  it('refuses a status that is not locked', () => {
    expect(() => dutLockOf(ptp(false, all(0)), ptp(false, all(0)))).toThrow(/does not say locked/);
  });
});

describe('ptpCounterDeltas', () => {
  it('each counter: its value at the end minus at the start', () => {
    const from = all(0, { lockLosses: 2, steps: 1, locks: 3, spikes: 7 });
    const to = all(0, { lockLosses: 3, steps: 4, locks: 4, spikes: 7, sampleTimeouts: 2 });
    const d = ptpCounterDeltas(ptp(true, from), ptp(true, to));
    expect(d.missing).toEqual({});
    for (const k of SPAN_COUNTERS) expect(d.deltas[k], k).toBe(to[k] - from[k]);
  });

  it('a counter that went back (the DUT restarted) has no delta, and says why', () => {
    const d = ptpCounterDeltas(ptp(true, all(5)), ptp(true, all(5, { lockLosses: 0 })));
    expect(d.deltas.lockLosses).toBeUndefined();
    expect(d.missing.lockLosses).toMatch(/went from 5 to 0 .*restarted/);
    expect(d.deltas.steps).toBe(0);
  });

  it('a DUT with PTP disabled reports no counters: every delta is missing, naming why', () => {
    const off: DutPtpStatusJson = { enabled: false, tsRefclk: 'ptp=traceable' };
    const d = ptpCounterDeltas(off, off);
    expect(Object.keys(d.deltas)).toEqual([]);
    for (const k of SPAN_COUNTERS) expect(d.missing[k]).toMatch(new RegExp(`no ptp\\.counters\\.${k} \\(its PTP is disabled\\)`));
  });
});
