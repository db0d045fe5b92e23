// Test signals a lab sender puts on the wire. Every signal is a pure function of the
// absolute sample index (media time: samples since the PTP epoch) and the channel, so a
// sender that starts at any time, a receiver that checks what it got, and a second run
// with the same seed all agree sample for sample, whatever the block boundaries.
//
// Levels are dBFS per AES17: RMS relative to the RMS of a full-scale sine, so a sine at
// 0 dBFS peaks at full scale and any signal's RMS is 10^(L/20) / √2.

export interface Signal {
  /** What it is, for reports ("sine 997 Hz −20 dBFS"). */
  readonly description: string;
  readonly sampleRate: number;
  /**
   * Writes `frames` interleaved frames of `channels` channels, starting at absolute sample
   * index `start` (a non-negative integer below 2^53), into `out` (allocated if absent).
   */
  render(start: number, frames: number, channels: number, out?: Float32Array): Float32Array;
  /**
   * When set: the signal repeats exactly every `period` samples (render(s + period) equals
   * render(s) for every s), so a sender may keep what it encoded once and play it again.
   */
  readonly period?: number;
}

/** RMS of a signal at `levelDbfs` (AES17). */
export function rmsOfDbfs(levelDbfs: number): number {
  return 10 ** (levelDbfs / 20) / Math.SQRT2;
}

export function checkRenderArgs(start: number, frames: number, channels: number, out: Float32Array | undefined): Float32Array {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`signal start index ${start} must be an integer in [0, 2^53)`);
  if (!Number.isInteger(frames) || frames < 0) throw new RangeError(`signal frames ${frames} must be a non-negative integer`);
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`signal channels ${channels} must be a positive integer`);
  const need = frames * channels;
  if (out && out.length < need) throw new RangeError(`signal output holds ${out.length} samples, needs ${need}`);
  return out ?? new Float32Array(need);
}

export function checkLevel(levelDbfs: number, what: string, max = 0): void {
  if (!Number.isFinite(levelDbfs) || levelDbfs > max) throw new RangeError(`${what} level ${levelDbfs} dBFS must be a number <= ${max}`);
}

export const SAMPLE_RATES = [44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000] as const;

export function checkSampleRate(rate: number, what = 'sample rate'): void {
  if (!(SAMPLE_RATES as readonly number[]).includes(rate)) throw new RangeError(`${what} ${rate} Hz: use one of ${SAMPLE_RATES.join(', ')}`);
}
