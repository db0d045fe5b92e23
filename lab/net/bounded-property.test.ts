// The bounded runner catches what an in-process fc.assert cannot: a run that never returns
// (reported with the input it hung on) and a run that exhausts the heap; and it passes on
// the wrong error as a failure with fast-check's counterexample.
import { describe, expect, it } from 'vitest';
import { checkBounded } from './bounded-property.ts';

const module = new URL('./bounded-property.fixture.ts', import.meta.url);

describe('bounded property runner', () => {
  it('reports a hang, naming the input the run was on, within the run timeout', async () => {
    const t0 = Date.now();
    await expect(checkBounded('hangs on 7', { numRuns: 50, seed: 1, runTimeoutMs: 3000, module })).rejects.toThrow(/hung on run \d+: the number 7/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('fails with the counterexample when the check throws', async () => {
    await expect(checkBounded('throws a TypeError on 3', { numRuns: 200, seed: 1, module })).rejects.toThrow(/Counterexample: \[3\][\s\S]*TypeError/);
  });

  it('stops a run that allocates without bound at the heap limit', async () => {
    await expect(checkBounded('grows without bound', { numRuns: 1, seed: 1, heapLimitMb: 64, runTimeoutMs: 30_000, module })).rejects.toThrow(/worker died|out of memory|exited/i);
  });

  it('reports the runs and the slowest run when the property holds', async () => {
    const r = await checkBounded('holds', { numRuns: 100, seed: 1, module });
    expect(r.runs).toBe(100);
    expect(r.maxRunMs).toBeGreaterThanOrEqual(0);
  });
});
