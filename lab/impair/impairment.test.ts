import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { Prng } from './prng.ts';
import { ImpairmentModel, impairmentHook, type ImpairmentConfig } from './impairment.ts';
import { driftingTimescale } from './drift.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { describeAes67 } from '../net/sdp.ts';
import { Aes67Sender } from '../peers/aes67-sender.ts';
import { RtpSubscription } from '../peers/rtp-subscription.ts';

const Z = 5; // bounds are 5 standard errors wide: a correct model fails with p < 1e-6

/** Runs `count` datagrams through a model with no network: the decisions only. */
function decisions(config: ImpairmentConfig, count: number, spacingNs = 1_000_000) {
  const m = new ImpairmentModel(config);
  const out: number[][] = [];
  for (let i = 0; i < count; i++) out.push(m.decide({ source: '10.0.0.1:5004', destination: '239.69.1.1:5004', sentAt: i * spacingNs, dscp: 34 }));
  m.flush();
  return { model: m, out };
}

/**
 * Sends numbered datagrams every `spacingNs` across a native VirtualNetwork with the model
 * as its impairment hook; returns what the receiver got (sequence, delay) in arrival order.
 */
function throughNetwork(config: ImpairmentConfig, count: number, spacingNs: number, baseDelayNs = 20_000) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, baseDelayNs);
  network.addHost('tx', '10.67.140.1');
  network.addHost('rx', '10.67.140.2');
  const model = new ImpairmentModel(config);
  network.setImpairment(impairmentHook(model));
  const tx = network.openSocket('10.67.140.1', { dscp: 34 });
  const rx = network.openSocket('10.67.140.2', { port: 5004, receiveQueueLimit: 1 << 20 });
  rx.join('239.69.1.1');
  const got: { seq: number; delay: number }[] = [];
  const drain = () => {
    for (let d = rx.receive(); d; d = rx.receive()) {
      const seq = d.data.readUInt32BE(0);
      got.push({ seq, delay: d.receivedAt - seq * spacingNs });
    }
  };
  for (let i = 0; i < count; i++) {
    clock.advanceTo(i * spacingNs);
    drain();
    const b = Buffer.alloc(8);
    b.writeUInt32BE(i);
    tx.send('239.69.1.1:5004', b);
  }
  for (let next = network.nextDeliveryTime(); next !== null; next = network.nextDeliveryTime()) {
    clock.advanceTo(next);
    drain();
  }
  drain();
  model.flush();
  return { got, model, stats: network.stats() };
}

function sd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(v) };
}

describe.skipIf(!addonBuilt())('Prng', () => {
  it('draws value for value what the engine\'s aes67::Prng draws (next and uniform to the bit, normal to libm rounding)', () => {
    const native = loadNative();
    for (const seed of [0, 42, 2 ** 53 - 1]) {
      const ours = new Prng(seed);
      const theirs = new native.Prng(seed);
      for (let i = 0; i < 300; i++) {
        expect(ours.next()).toBe(theirs.next());
        expect(ours.uniform()).toBe(theirs.uniform());
        // log and cos of glibc and of V8 may differ in the last bit; the streams stay in step.
        const a = ours.normal();
        const b = theirs.normal();
        expect(Math.abs(a - b)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(1, Math.abs(b)));
      }
    }
  });
});

describe('random loss', () => {
  it('achieves the probability within 5 standard errors, and loss runs are geometric', () => {
    const p = 0.02;
    const n = 200_000;
    const { model } = decisions({ seed: 1, loss: p }, n);
    const lost = model.counters.lostRandom;
    expect(Math.abs(lost / n - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
    expect(model.expectedLoss()).toBeCloseTo(p, 12);
    // Independent loss: a run has length 1 with probability 1 − p.
    const runs = [...model.counters.lossRuns.values()].reduce((a, b) => a + b, 0);
    const ones = model.counters.lossRuns.get(1) ?? 0;
    expect(Math.abs(ones / runs - (1 - p))).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / runs));
  });
});

describe('Gilbert-Elliott burst loss', () => {
  it('achieves the stationary loss and the mean burst length 1/r within bounds from the chain\'s correlation', () => {
    const pGB = 0.002;
    const pBG = 0.25;
    const n = 400_000;
    const { model } = decisions({ seed: 2, burstLoss: { pGoodToBad: pGB, pBadToGood: pBG } }, n);
    const piBad = pGB / (pGB + pBG);
    expect(model.expectedLoss()).toBeCloseTo(piBad, 12);
    // Variance of the mean of a two-state Markov chain: π(1−π)/n · (1+λ)/(1−λ), λ = 1 − p − r.
    const lambda = 1 - pGB - pBG;
    const se = Math.sqrt(((piBad * (1 - piBad)) / n) * ((1 + lambda) / (1 - lambda)));
    expect(Math.abs(model.counters.lostBurst / n - piBad)).toBeLessThan(Z * se);
    // Bad runs are geometric with mean 1/r and sd √(1−r)/r.
    let runs = 0;
    let total = 0;
    for (const [len, count] of model.counters.lossRuns) {
      runs += count;
      total += len * count;
    }
    expect(total).toBe(model.counters.lostBurst);
    const meanSe = Math.sqrt(1 - pBG) / pBG / Math.sqrt(runs);
    expect(Math.abs(total / runs - 1 / pBG)).toBeLessThan(Z * meanSe);
    // Bursts, not isolated losses: P(run of 1) = r.
    const ones = model.counters.lossRuns.get(1) ?? 0;
    expect(Math.abs(ones / runs - pBG)).toBeLessThan(Z * Math.sqrt((pBG * (1 - pBG)) / runs));
  });

  it('loses in the good state and keeps some packets in the bad state when told to', () => {
    const n = 200_000;
    const g = { pGoodToBad: 0.01, pBadToGood: 0.1, lossInBad: 0.5, lossInGood: 0.001 };
    const { model } = decisions({ seed: 3, burstLoss: g }, n);
    const pi = g.pGoodToBad / (g.pGoodToBad + g.pBadToGood);
    const expected = pi * g.lossInBad + (1 - pi) * g.lossInGood;
    expect(model.expectedLoss()).toBeCloseTo(expected, 12);
    // Loose bound: the chain's correlation factor (1+λ)/(1−λ) times the Bernoulli variance.
    const lambda = 1 - g.pGoodToBad - g.pBadToGood;
    const se = Math.sqrt(((expected * (1 - expected)) / n) * ((1 + lambda) / (1 - lambda)));
    expect(Math.abs(model.counters.lostBurst / n - expected)).toBeLessThan(Z * se);
  });
});

describe.skipIf(!addonBuilt())('delay and jitter through the native VirtualNetwork', () => {
  it('constant delay: every datagram arrives at exactly send + base + delay', () => {
    const { got } = throughNetwork({ seed: 4, delayNs: 3_000_000 }, 1000, 125_000);
    expect(got).toHaveLength(1000);
    expect(new Set(got.map((g) => g.delay))).toEqual(new Set([3_020_000]));
    expect(got.map((g) => g.seq)).toEqual([...Array(1000).keys()]);
  });

  for (const [distribution, kurtosis] of [['normal', 3], ['uniform', 1.8], ['exponential', 9]] as const) {
    it(`${distribution} jitter: the receiver sees the sd and mean asked for, within bounds from the sample size and kurtosis`, () => {
      const sdNs = 500_000;
      const delayNs = 5_000_000;
      const n = 50_000;
      const { got, model } = throughNetwork({ seed: 5, delayNs, jitter: { distribution, sdNs }, keepOrder: false }, n, 1_000_000);
      expect(got).toHaveLength(n);
      expect(model.counters.clipped).toBe(0);
      const s = sd(got.map((g) => g.delay - 20_000));
      // Var(s²) ≈ (κ − 1)σ⁴/n, so s/σ lies within √(1 ± Z√((κ−1)/n)).
      const rel = Z * Math.sqrt((kurtosis - 1) / n);
      expect(s.sd).toBeGreaterThan(sdNs * Math.sqrt(1 - rel));
      expect(s.sd).toBeLessThan(sdNs * Math.sqrt(1 + rel));
      expect(Math.abs(s.mean - delayNs)).toBeLessThan((Z * sdNs) / Math.sqrt(n));
      // Jitter wider than the packet spacing reorders when order is not kept.
      let late = 0;
      let max = -1;
      for (const g of got) g.seq < max ? late++ : (max = g.seq);
      expect(late).toBeGreaterThan(0);
    });
  }

  it('keeps a flow in order through jitter by default (FIFO queue), and clips negative delays with a count', () => {
    const { got, model } = throughNetwork({ seed: 6, delayNs: 0, jitter: { distribution: 'normal', sdNs: 2_000_000 } }, 5000, 1_000_000);
    expect(got.map((g) => g.seq)).toEqual([...Array(5000).keys()]);
    // Half the draws of N(0, σ) are below zero.
    expect(Math.abs(model.counters.clipped / 5000 - 0.5)).toBeLessThan(Z * Math.sqrt(0.25 / 5000));
  });
});

describe.skipIf(!addonBuilt())('reordering and duplication through the native VirtualNetwork', () => {
  it('reorders: each held datagram arrives after a later one; the rate is within binomial bounds', () => {
    const p = 0.05;
    const n = 20_000;
    const { got, model } = throughNetwork({ seed: 7, reorder: { probability: p, holdNs: 10_500_000 } }, n, 1_000_000);
    expect(got).toHaveLength(n);
    let late = 0;
    let max = -1;
    for (const g of got) g.seq < max ? late++ : (max = g.seq);
    expect(late).toBe(model.counters.reordered);
    expect(Math.abs(late / n - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
  });

  it('duplicates: the receiver gets the extra copies the model counted, delayed as asked', () => {
    const p = 0.03;
    const n = 20_000;
    const { got, model, stats } = throughNetwork({ seed: 8, duplicate: { probability: p, delayNs: 250_000 } }, n, 1_000_000);
    const seen = new Map<number, number[]>();
    for (const g of got) seen.set(g.seq, [...(seen.get(g.seq) ?? []), g.delay]);
    const dups = [...seen.values()].filter((d) => d.length === 2);
    expect(seen.size).toBe(n);
    expect(dups.length).toBe(model.counters.duplicated);
    expect(stats.duplicatedByImpairment).toBe(model.counters.duplicated);
    for (const d of dups) expect(d[1] - d[0]).toBe(250_000);
    expect(Math.abs(dups.length / n - p)).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
  });

  it('loses what the model loses: the network counts the same drops, the receiver misses exactly those', () => {
    const { got, model, stats } = throughNetwork({ seed: 9, loss: 0.01, burstLoss: { pGoodToBad: 0.001, pBadToGood: 0.3 } }, 30_000, 125_000);
    const lost = model.counters.lostRandom + model.counters.lostBurst;
    expect(stats.droppedByImpairment).toBe(lost);
    expect(got.length).toBe(30_000 - lost);
  });

  it('applies only to selected datagrams: PTP (DSCP 46) passes untouched', () => {
    const m = new ImpairmentModel({ seed: 1, loss: 1, select: { dscp: [34] } });
    expect(m.decide({ source: 'a', destination: 'b', sentAt: 0, dscp: 46 })).toEqual([0]);
    expect(m.decide({ source: 'a', destination: 'b', sentAt: 0, dscp: 34 })).toEqual([]);
    expect(m.counters.passed).toBe(1);
  });
});

describe('determinism', () => {
  it('same seed, same decisions; other impairments do not move the loss pattern; another seed differs', () => {
    const base: ImpairmentConfig = { seed: 11, loss: 0.05, jitter: { distribution: 'normal', sdNs: 100_000 }, delayNs: 1_000_000 };
    const a = decisions(base, 5000).out;
    expect(decisions(base, 5000).out).toEqual(a);
    const withDup = decisions({ ...base, duplicate: { probability: 0.1 } }, 5000).out;
    expect(withDup.map((d) => d.length === 0)).toEqual(a.map((d) => d.length === 0));
    expect(decisions({ ...base, seed: 12 }, 5000).out).not.toEqual(a);
  });

  it('names a bad parameter', () => {
    expect(() => new ImpairmentModel({ seed: 1, loss: 1.5 })).toThrow(/loss 1.5 must be a probability/);
    expect(() => new ImpairmentModel({ seed: 1, reorder: { probability: 0.1, holdNs: 0 } })).toThrow(/holdNs > 0/);
    expect(() => new ImpairmentModel({ seed: 1, jitter: { distribution: 'pareto' as never, sdNs: 1 } })).toThrow(/use normal, uniform or exponential/);
    expect(() => new ImpairmentModel({ seed: 1.5 })).toThrow(/seed/);
  });
});

describe.skipIf(!addonBuilt())('sender media-clock drift', () => {
  it('a sender on a +50 ppm timescale arrives 50 µs per second earlier against the true media clock', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const truth = linearTimescale();
    const tx = virtualHost(network, clock, '10.67.140.11');
    const rx = virtualHost(network, clock, '10.67.140.12');
    const sender = new Aes67Sender({ transport: tx, timescale: driftingTimescale(truth, 50), destination: '239.69.140.1', channels: 1, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'silence' } });
    const sub = new RtpSubscription({ transport: rx, timescale: truth, stream: describeAes67(sender.sdp()) });
    const arrivals: number[] = [];
    let packets = 0;
    runVirtual([sender, { poll: () => { sub.drain(); if (sub.metrics.packets > packets) { packets = sub.metrics.packets; arrivals.push(sub.metrics.arrivalMinNs); } return Infinity; } }], network, clock, { untilNs: 10e9 });
    // arrivalMin tracks the earliest (arrival − media time of the first sample): it falls by 50 µs/s.
    expect(arrivals[0]).toBeCloseTo(1_000_000, -3);
    expect((arrivals[0] - arrivals[arrivals.length - 1]) / 10).toBeCloseTo(50_000, -3);
    expect(() => driftingTimescale(truth, Infinity)).toThrow(/ppm/);
  });
});
