// Network impairments, seeded and deterministic: random loss, Gilbert-Elliott burst loss,
// constant delay, jitter (normal / uniform / exponential), reordering and duplication.
// One model decides, per datagram, how many copies arrive and how late; it plugs into the
// native VirtualNetwork as its impairment hook (virtual time) and into UdpRelay (live
// runs between namespaces: the kernel here has no netem, see netem.test.ts). Each
// impairment draws from its own PRNG stream, so turning one on does not change the
// decisions of another for the same seed.
import type { ImpairedPacket } from '../../native/index.ts';
import { Prng } from './prng.ts';

export type JitterDistribution = 'normal' | 'uniform' | 'exponential';

export interface GilbertElliott {
  /** P(good → bad) per packet. */
  pGoodToBad: number;
  /** P(bad → good) per packet; mean bad-run length is 1 / pBadToGood. */
  pBadToGood: number;
  /** Loss probability in the bad state (default 1). */
  lossInBad?: number;
  /** Loss probability in the good state (default 0). */
  lossInGood?: number;
}

export interface ImpairmentConfig {
  seed: number;
  /** Independent loss probability per datagram, 0..1. */
  loss?: number;
  burstLoss?: GilbertElliott;
  /** Constant extra delay (ns). */
  delayNs?: number;
  /**
   * Zero-mean jitter added to the delay with this standard deviation: normal N(0, sd),
   * uniform on ±√3·sd, or exponential Exp(sd) − sd (a one-sided queueing tail). A total
   * delay below zero is clipped to zero and counted: give delayNs >= 4·sd to avoid it.
   */
  jitter?: { distribution: JitterDistribution; sdNs: number };
  /**
   * A flow (source → destination) stays in order through jitter, as through a FIFO
   * switch queue (default true). Deliberate reordering is `reorder`.
   */
  keepOrder?: boolean;
  /** With this probability a datagram is held back holdNs, so later ones overtake it. */
  reorder?: { probability: number; holdNs: number };
  /** With this probability a second copy follows after delayNs (default 0). */
  duplicate?: { probability: number; delayNs?: number };
  /** Apply only to these datagrams (default all), e.g. only media (DSCP 34), not PTP. */
  select?: { dscp?: number[]; destinations?: string[] };
}

export interface ImpairmentCounters {
  /** Datagrams the model saw. */
  seen: number;
  /** Datagrams outside `select`, passed untouched. */
  passed: number;
  lostRandom: number;
  lostBurst: number;
  duplicated: number;
  reordered: number;
  /** Delays below zero clipped to zero. */
  clipped: number;
  /** Extra delay of first copies (ns): count, sum, sum of squares, min, max. */
  delayCount: number;
  delaySum: number;
  delaySumSq: number;
  delayMin: number;
  delayMax: number;
  /** Loss-run length → how many runs (over selected datagrams, in order seen). */
  lossRuns: Map<number, number>;
}

/** What the model needs of a datagram (the VirtualNetwork's ImpairedPacket fits). */
export type ImpairmentInput = Pick<ImpairedPacket, 'source' | 'destination' | 'sentAt' | 'dscp'>;

function probability(v: number | undefined, what: string): number {
  const p = v ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`impairment ${what} ${v} must be a probability in [0, 1]`);
  return p;
}

function nonNegative(v: number | undefined, what: string): number {
  const x = v ?? 0;
  if (!(Number.isFinite(x) && x >= 0)) throw new RangeError(`impairment ${what} ${v} must be a non-negative number of ns`);
  return x;
}

export class ImpairmentModel {
  readonly counters: ImpairmentCounters = {
    seen: 0,
    passed: 0,
    lostRandom: 0,
    lostBurst: 0,
    duplicated: 0,
    reordered: 0,
    clipped: 0,
    delayCount: 0,
    delaySum: 0,
    delaySumSq: 0,
    delayMin: Infinity,
    delayMax: -Infinity,
    lossRuns: new Map(),
  };
  private readonly lossRng: Prng;
  private readonly burstRng: Prng;
  private readonly jitterRng: Prng;
  private readonly reorderRng: Prng;
  private readonly duplicateRng: Prng;
  private bad = false;
  private run = 0;
  private readonly lastDelivery = new Map<string, number>();
  private readonly loss: number;
  private readonly ge?: Required<GilbertElliott>;
  private readonly delayNs: number;
  private readonly jitterSd: number;
  private readonly reorderP: number;
  private readonly holdNs: number;
  private readonly duplicateP: number;
  private readonly duplicateDelay: number;
  private readonly keepOrder: boolean;
  private readonly dscps?: Set<number>;
  private readonly destinations?: Set<string>;

  constructor(readonly config: ImpairmentConfig) {
    if (!Number.isSafeInteger(config.seed)) throw new RangeError(`impairment seed ${config.seed} must be an integer`);
    const seed = BigInt(config.seed) * 16n;
    this.lossRng = new Prng(seed + 1n);
    this.burstRng = new Prng(seed + 2n);
    this.jitterRng = new Prng(seed + 3n);
    this.reorderRng = new Prng(seed + 4n);
    this.duplicateRng = new Prng(seed + 5n);
    this.loss = probability(config.loss, 'loss');
    if (config.burstLoss) {
      const g = config.burstLoss;
      this.ge = {
        pGoodToBad: probability(g.pGoodToBad, 'burstLoss.pGoodToBad'),
        pBadToGood: probability(g.pBadToGood, 'burstLoss.pBadToGood'),
        lossInBad: probability(g.lossInBad ?? 1, 'burstLoss.lossInBad'),
        lossInGood: probability(g.lossInGood ?? 0, 'burstLoss.lossInGood'),
      };
      if (this.ge.pBadToGood === 0 && this.ge.pGoodToBad > 0) throw new RangeError('impairment burstLoss.pBadToGood 0 would never leave the bad state');
    }
    this.delayNs = nonNegative(config.delayNs, 'delayNs');
    this.jitterSd = nonNegative(config.jitter?.sdNs, 'jitter.sdNs');
    if (config.jitter && !['normal', 'uniform', 'exponential'].includes(config.jitter.distribution)) {
      throw new RangeError(`impairment jitter distribution "${config.jitter.distribution}": use normal, uniform or exponential`);
    }
    this.reorderP = probability(config.reorder?.probability, 'reorder.probability');
    this.holdNs = nonNegative(config.reorder?.holdNs, 'reorder.holdNs');
    if (this.reorderP > 0 && this.holdNs === 0) throw new RangeError('impairment reorder needs holdNs > 0 (how long a datagram is held back)');
    this.duplicateP = probability(config.duplicate?.probability, 'duplicate.probability');
    this.duplicateDelay = nonNegative(config.duplicate?.delayNs, 'duplicate.delayNs');
    this.keepOrder = config.keepOrder ?? true;
    if (config.select?.dscp) this.dscps = new Set(config.select.dscp);
    if (config.select?.destinations) this.destinations = new Set(config.select.destinations);
  }

  /** Stationary loss probability the parameters imply. */
  expectedLoss(): number {
    let geLoss = 0;
    if (this.ge) {
      const { pGoodToBad: p, pBadToGood: r, lossInBad, lossInGood } = this.ge;
      const piBad = p + r === 0 ? 0 : p / (p + r);
      geLoss = piBad * lossInBad + (1 - piBad) * lossInGood;
    }
    return 1 - (1 - this.loss) * (1 - geLoss);
  }

  /** Extra delay (ns) per copy to deliver: [] is lost, two entries a duplicate. */
  decide(packet: ImpairmentInput): number[] {
    const c = this.counters;
    c.seen++;
    if ((this.dscps && !this.dscps.has(packet.dscp)) || (this.destinations && !this.destinations.has(packet.destination))) {
      c.passed++;
      return [0];
    }
    let lost = false;
    if (this.ge) {
      const g = this.ge;
      const lossP = this.bad ? g.lossInBad : g.lossInGood;
      if (this.burstRng.uniform() < lossP) {
        lost = true;
        c.lostBurst++;
      }
      this.bad = this.bad ? this.burstRng.uniform() >= g.pBadToGood : this.burstRng.uniform() < g.pGoodToBad;
    }
    if (this.loss > 0 && this.lossRng.uniform() < this.loss && !lost) {
      lost = true;
      c.lostRandom++;
    }
    if (lost) {
      this.run++;
      return [];
    }
    if (this.run > 0) {
      c.lossRuns.set(this.run, (c.lossRuns.get(this.run) ?? 0) + 1);
      this.run = 0;
    }

    let delay = this.delayNs + this.jitterSample();
    if (delay < 0) {
      delay = 0;
      c.clipped++;
    }
    const flow = `${packet.source}>${packet.destination}`;
    if (this.keepOrder) {
      const last = this.lastDelivery.get(flow);
      if (last !== undefined && packet.sentAt + delay < last) delay = last - packet.sentAt;
    }
    if (this.reorderP > 0 && this.reorderRng.uniform() < this.reorderP) {
      delay += this.holdNs;
      c.reordered++;
    } else if (this.keepOrder) {
      this.lastDelivery.set(flow, packet.sentAt + delay);
    }
    delay = Math.round(delay);
    c.delayCount++;
    c.delaySum += delay;
    c.delaySumSq += delay * delay;
    if (delay < c.delayMin) c.delayMin = delay;
    if (delay > c.delayMax) c.delayMax = delay;
    if (this.duplicateP > 0 && this.duplicateRng.uniform() < this.duplicateP) {
      c.duplicated++;
      return [delay, delay + Math.round(this.duplicateDelay)];
    }
    return [delay];
  }

  /** Closes a loss run still open at the end of a run (so lossRuns counts it). */
  flush(): void {
    if (this.run > 0) {
      this.counters.lossRuns.set(this.run, (this.counters.lossRuns.get(this.run) ?? 0) + 1);
      this.run = 0;
    }
  }

  private jitterSample(): number {
    if (this.jitterSd === 0 || !this.config.jitter) return 0;
    const sd = this.jitterSd;
    switch (this.config.jitter.distribution) {
      case 'normal':
        return sd * this.jitterRng.normal();
      case 'uniform':
        return (2 * this.jitterRng.uniform() - 1) * Math.sqrt(3) * sd;
      case 'exponential':
        return this.jitterRng.exponential(sd) - sd;
    }
  }
}

/** The model as a VirtualNetwork impairment hook: `network.setImpairment(impairmentHook(m))`. */
export function impairmentHook(model: ImpairmentModel): (packet: ImpairedPacket) => number[] {
  return (packet) => model.decide(packet);
}
