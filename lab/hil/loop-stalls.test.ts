import { describe, expect, it } from 'vitest';
import { causeOf, LoopStallMonitor } from './loop-stalls.ts';

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('LoopStallMonitor', () => {
  it('puts a stall down to the labelled work that filled it, with the main thread on a CPU (its schedstat)', () => {
    const m = new LoopStallMonitor(20);
    m.start();
    try {
      const t0 = performance.now();
      m.turn(t0 - 1, t0);
      m.time('busy', () => spin(40));
      const t1 = performance.now();
      m.turn(t0, t1);
      const s = m.summary();
      expect(s.count).toBe(1);
      expect(s.worstMs).toBeCloseTo(t1 - t0, 6);
      expect(s.workMs.busy).toBeGreaterThan(39);
      expect(s.worstCause).toMatch(/^work:busy /);
      // Linux: a spinning thread is runnable throughout, on a CPU or (on a loaded host) waiting on a run queue.
      const st = m.stalls[0];
      if (st.cpuMs !== undefined) expect(st.cpuMs + st.runQueueMs!).toBeGreaterThan(30);
    } finally {
      m.stop();
    }
  });

  it('names an unlabelled stall by the kernel\'s account: asleep is off-cpu, waiting for a core is host', () => {
    const base = { start: 0, end: 50, gc: {}, work: {}, schedSpanMs: 52 };
    expect(causeOf({ ...base, cpuMs: 1, runQueueMs: 0.5 }).key).toBe('off-cpu');
    expect(causeOf({ ...base, cpuMs: 1, runQueueMs: 45 }).key).toBe('host');
    expect(causeOf({ ...base, cpuMs: 48, runQueueMs: 0 }).key).toBe('lab-uninstrumented');
    expect(causeOf({ ...base, gc: { 'mark-compact': 30 }, cpuMs: 49, runQueueMs: 0 }).key).toBe('gc:mark-compact');
  });

  it('counts nothing while the turns come on time', () => {
    const m = new LoopStallMonitor(20);
    m.start();
    const t = performance.now();
    for (let i = 0; i < 100; i++) m.turn(t + i, t + i + 1);
    expect(m.summary().count).toBe(0);
    m.stop();
  });
});
