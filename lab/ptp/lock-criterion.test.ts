// The TypeScript lock rule (lock-criterion.ts, used by bench/ptp-lock.ts to judge a ptp4l
// slave's offsets) against the engine's servo itself: on the virtual network, with jitter
// large enough that offsets beyond the lock threshold come and go, the first record the C++
// servo marks locked is the first at which the TypeScript rule holds over the offsets it
// measured since its acquisition step.
import { describe, expect, it } from 'vitest';
import { ImpairmentModel, impairmentHook } from '../impair/impairment.ts';
import { lockIndex, SERVO_LOCK_RULE } from './lock-criterion.ts';
import { VirtualPtpTrace } from './virtual-ptp-trace.ts';

describe('lock rule: the TypeScript copy decides as the engine servo does', () => {
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

  it.each([1, 2, 3, 4, 5])('agrees with the C++ servo on where it locked (jitter seed %i)', (seed) => {
    // Exponential jitter of mean 4 us each way: offsets beyond 10 us now and then.
    const model = new ImpairmentModel({ seed, delayNs: 1_000, jitter: { distribution: 'exponential', sdNs: 4_000 } });
    const t = new VirtualPtpTrace({ ppm: 30, baseDelayNs: 100, impairment: impairmentHook(model), seed });
    try {
      t.runUntil(30);
      const records = t.slave.records();
      // The record of the acquisition step is the first in s1; the servo's window starts after it.
      const afterStep = records.slice(records.findIndex((r) => r.stateShort !== 's0') + 1);
      const firstLocked = afterStep.findIndex((r) => r.locked);
      expect(firstLocked, 'the servo locked within 30 s').toBeGreaterThanOrEqual(0);
      const steps = t.slave.status().counters.steps;
      expect(steps, 'no step after the acquisition (the window would restart)').toBe(2);
      const outliers = afterStep.slice(0, firstLocked + 1).filter((r) => Math.abs(r.offsetNs) > SERVO_LOCK_RULE.lockThresholdNs).length;
      expect(lockIndex(afterStep.map((r) => r.offsetNs)), `${outliers} outliers before the lock`).toBe(firstLocked);
    } finally {
      t.close();
    }
  });
});
