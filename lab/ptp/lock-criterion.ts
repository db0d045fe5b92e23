// The engine servo's lock rule (engine/ptp/ptp_servo.cpp, updateLockState with the
// PtpServoConfig defaults), applied to any series of offsets -- e.g. a free-running ptp4l
// slave's "master offset" lines -- so that a lock time of another slave is judged by the same
// rule as ours: locked at the first sample that closes a window of `lockSamples` offsets with
// at most `lockOutliers` beyond `lockThresholdNs`, no two of them adjacent. The engine starts
// its window after its step (acquisition), so a series here should start where the slave
// has a master and a delay estimate.

export interface LockRule {
  lockThresholdNs: number;
  lockSamples: number;
  lockOutliers: number;
}

/** PtpServoConfig's defaults (engine/ptp/ptp_servo.hpp): 16 samples within 10 us, one isolated outlier. */
export const SERVO_LOCK_RULE: LockRule = { lockThresholdNs: 10_000, lockSamples: 16, lockOutliers: 1 };

/** Index of the sample at which `offsets` first satisfies the rule, or -1. */
export function lockIndex(offsets: readonly number[], rule: LockRule = SERVO_LOCK_RULE): number {
  for (let end = rule.lockSamples - 1; end < offsets.length; end++) {
    let outliers = 0;
    let previous = false;
    let adjacent = false;
    for (let i = end - rule.lockSamples + 1; i <= end; i++) {
      const outlier = Math.abs(offsets[i]) > rule.lockThresholdNs;
      if (outlier) outliers++;
      if (outlier && previous) adjacent = true;
      previous = outlier;
    }
    if (outliers <= rule.lockOutliers && !adjacent) return end;
  }
  return -1;
}
