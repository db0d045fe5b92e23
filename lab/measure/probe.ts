// Latency probes: a maximum-length sequence (MLS) from a Fibonacci LFSR. Its circular
// autocorrelation is N at lag 0 and −1 everywhere else, so one correlation peak stands
// clear of everything a loopback adds (noise, other channels, an inverted wire).

/** Feedback taps (1-based bit positions) of primitive polynomials, orders 4–20. */
const MLS_TAPS: Record<number, number[]> = {
  4: [4, 3],
  5: [5, 3],
  6: [6, 5],
  7: [7, 6],
  8: [8, 6, 5, 4],
  9: [9, 5],
  10: [10, 7],
  11: [11, 9],
  12: [12, 11, 10, 4],
  13: [13, 12, 11, 8],
  14: [14, 13, 12, 2],
  15: [15, 14],
  16: [16, 15, 13, 4],
  17: [17, 14],
  18: [18, 11],
  19: [19, 18, 17, 14],
  20: [20, 17],
};

export const MLS_ORDERS = Object.keys(MLS_TAPS).map(Number);

/** The ±1 sequence of length 2^order − 1, scaled by `amplitude` (full scale is 1). */
export function mls(order: number, amplitude = 0.5): Float32Array {
  const taps = MLS_TAPS[order];
  if (!taps) throw new Error(`mls: order ${order} is not supported: use one of ${MLS_ORDERS.join(', ')}`);
  if (!(amplitude > 0 && amplitude <= 1)) throw new Error(`mls: amplitude ${amplitude} must be in (0, 1]`);
  const length = 2 ** order - 1;
  const out = new Float32Array(length);
  let state = 1;
  const mask = 2 ** order - 1;
  for (let i = 0; i < length; i++) {
    out[i] = state & 1 ? -amplitude : amplitude;
    let fb = 0;
    for (const t of taps) fb ^= (state >>> (order - t)) & 1;
    state = ((state >>> 1) | (fb << (order - 1))) & mask;
  }
  return out;
}

/** Samples of LFSR state until it returns to its start: 2^order − 1 for a primitive polynomial. */
export function lfsrPeriod(order: number): number {
  const taps = MLS_TAPS[order];
  if (!taps) throw new Error(`lfsrPeriod: order ${order} is not supported`);
  const mask = 2 ** order - 1;
  let state = 1;
  for (let n = 1; n <= mask + 1; n++) {
    let fb = 0;
    for (const t of taps) fb ^= (state >>> (order - t)) & 1;
    state = ((state >>> 1) | (fb << (order - 1))) & mask;
    if (state === 1) return n;
  }
  return -1;
}
