// A scenario's network impairments as the relay's ImpairmentModel configuration: the same
// translation the virtual network uses (lab/scenario/world.ts), so one scenario file means
// the same loss, burst, delay, jitter, reordering and duplication on either path.
import type { ImpairmentConfig } from '../impair/impairment.ts';
import type { Scenario } from '../scenario/schema.ts';

export function relayImpairment(s: Scenario): ImpairmentConfig {
  const n = s.network;
  return {
    seed: s.seed,
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
