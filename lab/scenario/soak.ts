// Soaks: scenarios longer than SOAK_MIN_NS of virtual time. They take minutes to hours of
// wall time, so the unit suite (scenarios.test.ts) leaves them out and `npm run soak`
// (ci/soak.ts) runs them, with the process's memory sampled along the way: a soak proves
// the device (and the lab) run that long without glitches and without growing.
import type { LoadedScenario } from './load.ts';

/** Scenarios at least this long (virtual time) are soaks: 10 minutes. */
export const SOAK_MIN_NS = 10 * 60 * 1e9;

export function isSoak(l: LoadedScenario): boolean {
  return l.scenario.duration >= SOAK_MIN_NS;
}

export interface MemorySample {
  /** Fraction of the scenario's virtual time done. */
  fraction: number;
  heapUsedMB: number;
  rssMB: number;
  /** ArrayBuffers (audio recordings, packet payloads) outside the JS heap. */
  arrayBuffersMB: number;
}

const MB = 1024 * 1024;

/** The process's memory now, after a full collection when node runs with --expose-gc. */
export function sampleMemory(fraction: number): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { fraction, heapUsedMB: m.heapUsed / MB, rssMB: m.rss / MB, arrayBuffersMB: m.arrayBuffers / MB };
}
