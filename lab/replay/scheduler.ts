// Absolute-time pacing: packet i goes out at start + t_i, never at "previous send + gap",
// so oversleeping delays one burst and is not carried into the next (tcpreplay's drift).

export interface PacingClock {
  /** Monotonic nanoseconds. */
  now(): number;
  /** Resolves after roughly `ns` (it may oversleep; never relied on for accuracy). */
  sleep(ns: number): Promise<void>;
}

export const realPacingClock: PacingClock = {
  now: () => Number(process.hrtime.bigint()),
  sleep: (ns) => new Promise((r) => (ns >= 1e6 ? setTimeout(r, Math.floor(ns / 1e6)) : setImmediate(r))),
};

export interface PacingStats {
  sent: number;
  /** How late packets left relative to their absolute due time (ns). */
  maxLatenessNs: number;
  meanLatenessNs: number;
}

/** Sends each item at `start + timeNs(item) / speed`. */
export async function paceAbsolute<T>(items: Iterable<T>, timeNs: (item: T) => number, send: (item: T) => void, clock: PacingClock = realPacingClock, speed = 1): Promise<PacingStats> {
  const start = clock.now();
  const stats: PacingStats = { sent: 0, maxLatenessNs: 0, meanLatenessNs: 0 };
  let latenessSum = 0;
  for (const item of items) {
    const due = start + timeNs(item) / speed;
    for (let wait = due - clock.now(); wait > 0; wait = due - clock.now()) await clock.sleep(wait > 2e6 ? wait - 1e6 : wait);
    const late = clock.now() - due;
    send(item);
    stats.sent++;
    latenessSum += late;
    if (late > stats.maxLatenessNs) stats.maxLatenessNs = late;
  }
  stats.meanLatenessNs = stats.sent ? latenessSum / stats.sent : 0;
  return stats;
}
