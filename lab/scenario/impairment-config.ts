// A scenario's network impairments as an ImpairmentModel configuration: one translation for
// the virtual network (world.ts) and the real link's relay (lab/hil/real-time-run.ts), so
// one scenario file means the same loss, burst, delay, jitter, reordering and duplication
// on either path.
import type { ImpairmentConfig } from '../impair/impairment.ts';
import type { Scenario } from './schema.ts';

/** Whether the scenario impairs the network at all (delay included). */
export function isImpaired(n: Scenario['network']): boolean {
  return n.delay !== undefined || n.loss !== undefined || n.burstLoss !== undefined || n.jitter !== undefined || n.reorder !== undefined || n.duplicate !== undefined;
}

export function impairmentConfig(n: Scenario['network'], seed: number): ImpairmentConfig {
  return {
    seed,
    ...(n.loss !== undefined ? { loss: n.loss } : {}),
    ...(n.burstLoss
      ? // Gilbert-Elliott with certain loss in the bad state: mean burst = 1 / pBadToGood,
        // long-run rate = p / (p + r), so p = rate x r / (1 - rate).
        { burstLoss: { pBadToGood: 1 / n.burstLoss.meanBurst, pGoodToBad: n.burstLoss.rate / n.burstLoss.meanBurst / (1 - n.burstLoss.rate) } }
      : {}),
    ...(n.delay !== undefined ? { delayNs: n.delay } : {}),
    ...(n.jitter ? { jitter: { distribution: n.jitter.dist, sdNs: n.jitter.sd } } : {}),
    ...(n.reorder ? { reorder: { probability: n.reorder.rate, holdNs: n.reorder.hold } } : {}),
    ...(n.duplicate !== undefined ? { duplicate: { probability: n.duplicate } } : {}),
  };
}
