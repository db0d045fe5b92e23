// The engine servo's lock rule (engine/ptp/ptp_servo.cpp, updateLockState with the
// PtpServoConfig defaults), applied to any series of offsets -- e.g. a free-running ptp4l
// slave's "master offset" lines -- so that a lock time of another slave is judged by the same
// rule as ours. Locked at the first sample that closes a window of `lockSamples` offsets
// with at most `lockOutliers` beyond the lock window, no two of them adjacent, and steady:
// the mean of the window's other offsets and the least-squares line through them, read at
// the newest, both within lockThresholdNs / 2. The lock window is lockThresholdNs, widened to
// `lockNoiseFactor` x the measurement noise (1.4826 x the MAD of the differences of the last
// `noiseSamples` offsets, / sqrt 2) and capped at `lockWindowMaxNs`. The engine starts its
// window after its step (acquisition), so a series here should start where the slave has a
// master and a delay estimate. Same arithmetic in the same order as the C++, so the two
// decide alike to the sample (lock-criterion.test.ts checks that against the servo).

export interface LockRule {
  lockThresholdNs: number;
  lockSamples: number;
  lockOutliers: number;
  /** The window widens to this x the measured noise; 0: a fixed window of lockThresholdNs. */
  lockNoiseFactor: number;
  /** The widest window (the servo's lockWindowMaxNs, or its unlockThresholdNs when that is 0). */
  lockWindowMaxNs: number;
  /** Offsets whose consecutive differences measure the noise. */
  noiseSamples: number;
}

/** PtpServoConfig's defaults (engine/ptp/ptp_servo.hpp): 16 samples within 10 us or 3x the noise (at most 20 us), one isolated outlier, steady. */
export const SERVO_LOCK_RULE: LockRule = { lockThresholdNs: 10_000, lockSamples: 16, lockOutliers: 1, lockNoiseFactor: 3, lockWindowMaxNs: 20_000, noiseSamples: 64 };

function median(v: number[]): number {
  v.sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/** The measurement noise (ns, a standard deviation) the servo sees at `end`: from the last `noiseSamples` offsets up to it. */
export function measurementNoise(offsets: readonly number[], end: number, rule: LockRule = SERVO_LOCK_RULE): number {
  const n = Math.min(end + 1, rule.noiseSamples);
  if (n < 3) return 0;
  const d: number[] = [];
  for (let i = 0; i + 1 < n; i++) d.push(offsets[end - i] - offsets[end - i - 1]);
  const centre = median([...d]);
  return (1.4826 * median(d.map((x) => Math.abs(x - centre)))) / Math.sqrt(2);
}

/** The lock window (ns) at `end`. */
export function lockWindow(offsets: readonly number[], end: number, rule: LockRule = SERVO_LOCK_RULE): number {
  return Math.min(Math.max(rule.lockNoiseFactor * measurementNoise(offsets, end, rule), rule.lockThresholdNs), rule.lockWindowMaxNs);
}

/** The window ending at `end` is steady: mean and fitted newest error within lockThresholdNs / 2 (outliers left out). */
export function windowIsSteady(offsets: readonly number[], end: number, window: number, rule: LockRule = SERVO_LOCK_RULE): boolean {
  let sumX = 0;
  let sumY = 0;
  let sumXX = 0;
  let sumXY = 0;
  let count = 0;
  for (let back = 0; back < rule.lockSamples; back++) {
    const y = offsets[end - back];
    if (Math.abs(y) > window) continue;
    const x = -back;
    sumX += x;
    sumY += y;
    sumXX += x * x;
    sumXY += x * y;
    count += 1;
  }
  if (count < 2) return false;
  const meanX = sumX / count;
  const mean = sumY / count;
  const sxx = sumXX - sumX * meanX;
  const slope = sxx > 0 ? (sumXY - sumX * mean) / sxx : 0;
  const newest = mean + slope * (0 - meanX);
  return Math.abs(mean) <= rule.lockThresholdNs / 2 && Math.abs(newest) <= rule.lockThresholdNs / 2;
}

/** Index of the sample at which `offsets` first satisfies the rule, or -1. */
export function lockIndex(offsets: readonly number[], rule: LockRule = SERVO_LOCK_RULE): number {
  for (let end = rule.lockSamples - 1; end < offsets.length; end++) {
    const window = lockWindow(offsets, end, rule);
    let outliers = 0;
    let previous = false;
    let adjacent = false;
    for (let i = end - rule.lockSamples + 1; i <= end; i++) {
      const outlier = Math.abs(offsets[i]) > window;
      if (outlier) outliers++;
      if (outlier && previous) adjacent = true;
      previous = outlier;
    }
    if (outliers <= rule.lockOutliers && !adjacent && windowIsSteady(offsets, end, window, rule)) return end;
  }
  return -1;
}
