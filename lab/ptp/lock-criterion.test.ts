// The TypeScript lock rule (lock-criterion.ts, used by bench/ptp-lock.ts to judge a ptp4l
// slave's offsets) against the engine's servo itself: on the virtual network, with jitter
// large enough that offsets beyond the lock threshold come and go (and, heavier, that the
// noise-aware window widens), the first record the C++ servo marks locked is the first at
// which the TypeScript rule holds over the offsets it measured since its acquisition step.
import { describe, expect, it } from 'vitest';
import { ImpairmentModel, impairmentHook } from '../impair/impairment.ts';
import { lockIndex, lockWindow, measurementNoise, SERVO_LOCK_RULE } from './lock-criterion.ts';
import { VirtualPtpTrace } from './virtual-ptp-trace.ts';
import type { PtpOffsetRecord } from '../../native/ptp.ts';

describe('lock rule: the TypeScript copy decides as the engine servo does', () => {
  // The lock window at each agreed lock: the widened branch must have been compared too.
  const windowsAtLock: number[] = [];

  it('has the rule of its own: a full window, at most one isolated outlier', () => {
    const ok = Array(16).fill(500);
    expect(lockIndex(ok)).toBe(15);
    expect(lockIndex(ok.slice(1))).toBe(-1);
    const one = [...ok];
    one[5] = 10_001;
    expect(lockIndex(one)).toBe(15);
    const adjacent = [...one];
    adjacent[6] = -10_001;
    expect(lockIndex(adjacent)).toBe(-1); // the window must start after both: 7..22
    // Two adjacent outliers (5, 6): the first window holding only one of them, isolated, is 6..21.
    expect(lockIndex([...adjacent, ...Array(16).fill(0)])).toBe(21);
  });

  it('widens its window with the noise and needs the window steady', () => {
    // Centred noise of +/-16 us (a fixed sequence): beyond 10 us often, the window widens.
    const noisy = Array.from({ length: 64 }, (_, i) => Math.round(16_000 * Math.sin(i * 2.4)));
    expect(measurementNoise(noisy, 63)).toBeGreaterThan(5_000);
    expect(lockWindow(noisy, 63)).toBe(SERVO_LOCK_RULE.lockWindowMaxNs);
    expect(lockIndex(noisy, { ...SERVO_LOCK_RULE, lockNoiseFactor: 0 }), 'the fixed window').toBe(-1);
    expect(lockIndex(noisy)).toBeGreaterThanOrEqual(15);
    // The same noise on a clock 8 us off: within the widened window mostly, but not steady.
    expect(lockIndex(noisy.map((x) => x / 2 + 8_000))).toBe(-1);
    // ... or on a ramp through zero (1 us a sample): not steady either until it is past.
    const ramp = noisy.map((x, i) => x / 2 + (i - 24) * 1_000);
    const i = lockIndex(ramp);
    expect(i === -1 || Math.abs(i - 24) * 1_000 <= lockWindow(ramp, i), `ramp locked at ${i}, truth ${(i - 24) * 1_000} ns`).toBe(true);
  });

  it.each([
    [1, 4_000],
    [2, 4_000],
    [3, 4_000],
    [4, 4_000],
    [5, 4_000],
    [1, 12_000],
    [2, 12_000],
    [3, 12_000],
  ])('agrees with the C++ servo on where it locked (jitter seed %i, sd %i ns)', (seed, sdNs) => {
    // Exponential jitter each way: offsets beyond 10 us now and then (mean 4 us), or often
    // enough that the window widens (12 us).
    const model = new ImpairmentModel({ seed, delayNs: 1_000, jitter: { distribution: 'exponential', sdNs } });
    const t = new VirtualPtpTrace({ ppm: 30, baseDelayNs: 100, impairment: impairmentHook(model), seed });
    try {
      // Run in quarter seconds to read the steps when acquisition ended (records() drains).
      const records: PtpOffsetRecord[] = [];
      let acquisitionSteps = -1;
      for (let s = 0.25; s <= 30; s += 0.25) {
        t.runUntil(s);
        records.push(...t.slave.records());
        if (acquisitionSteps < 0 && records.some((r) => r.stateShort !== 's0')) acquisitionSteps = t.slave.status().counters.steps;
      }
      // The record that ended acquisition is the first in s1; the servo's window starts after it.
      const afterStep = records.slice(records.findIndex((r) => r.stateShort !== 's0') + 1);
      const firstLocked = afterStep.findIndex((r) => r.locked);
      expect(firstLocked, 'the servo locked within 30 s').toBeGreaterThanOrEqual(0);
      // Acquisition steps at its first sample, and once more when its fit's residual is beyond
      // the unlock threshold (30 ppm drift while the mapping is held: usually).
      expect([1, 2], `steps by the end of acquisition: ${acquisitionSteps}`).toContain(acquisitionSteps);
      expect(t.slave.status().counters.steps, 'no step after the acquisition (the window would restart)').toBe(acquisitionSteps);
      const outliers = afterStep.slice(0, firstLocked + 1).filter((r) => Math.abs(r.offsetNs) > SERVO_LOCK_RULE.lockThresholdNs).length;
      const offsets = afterStep.map((r) => r.offsetNs);
      expect(lockIndex(offsets), `${outliers} outliers before the lock, window ${lockWindow(offsets, firstLocked).toFixed(0)} ns`).toBe(firstLocked);
      windowsAtLock.push(lockWindow(offsets, firstLocked));
    } finally {
      t.close();
    }
  });

  it('compared at least one lock in a widened window', () => {
    expect(windowsAtLock.length).toBe(8);
    expect(Math.max(...windowsAtLock), windowsAtLock.map((w) => w.toFixed(0)).join(', ')).toBeGreaterThan(SERVO_LOCK_RULE.lockThresholdNs);
  });
});
