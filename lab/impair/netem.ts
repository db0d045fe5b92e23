// tc netem, where a kernel has it. The lab checks rather than assumes: probeNetem() tries
// to add a netem qdisc inside a namespace and reports why it failed. On this project's CI
// kernel it fails ("Specified qdisc kind is unknown": no sch_netem), so live impairment goes
// through UdpRelay; netemArgs() is the translation a netem-capable host would apply.
import type { ImpairmentConfig } from './impairment.ts';

export interface NetemProbe {
  available: boolean;
  /** tc's own words when it failed. */
  reason: string;
}

/** Runs `tc qdisc add dev <dev> root netem delay 1ms` via `exec` (in a namespace) and removes it again. */
export function probeNetem(exec: (cmd: string, args: string[]) => string, dev: string): NetemProbe {
  try {
    exec('tc', ['qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', '1ms']);
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message: string };
    return { available: false, reason: String(err.stderr ?? err.message).trim() };
  }
  try {
    exec('tc', ['qdisc', 'del', 'dev', dev, 'root']);
  } catch {
    // The namespace goes away anyway.
  }
  return { available: true, reason: '' };
}

function ms(ns: number): string {
  return `${Number((ns / 1e6).toFixed(6))}ms`;
}

function pct(p: number): string {
  return `${Number((p * 100).toFixed(6))}%`;
}

/** netem arguments for an impairment (what netem cannot express is an error naming it). */
export function netemArgs(c: ImpairmentConfig): string[] {
  const args: string[] = [];
  if (c.select) throw new Error('netem applies to a whole interface: impairment "select" needs the UdpRelay');
  if (c.keepOrder === false) throw new Error('netem keeps order through jitter unless told to reorder: keepOrder false needs the UdpRelay');
  const delay = c.delayNs ?? 0;
  if (delay > 0 || c.jitter || c.reorder) {
    args.push('delay', ms(delay));
    if (c.jitter && c.jitter.sdNs > 0) {
      if (c.jitter.distribution === 'exponential') throw new Error('netem has no exponential jitter distribution: use the UdpRelay');
      // netem's normal table takes sigma = JITTER; its uniform spreads over ±JITTER (sd JITTER/√3).
      const jitter = c.jitter.distribution === 'uniform' ? c.jitter.sdNs * Math.sqrt(3) : c.jitter.sdNs;
      // Uniform is netem's default: there is no "uniform" distribution table to name.
      args.push(ms(jitter));
      if (c.jitter.distribution === 'normal') args.push('distribution', 'normal');
    }
  }
  if (c.loss) args.push('loss', 'random', pct(c.loss));
  if (c.burstLoss) {
    if (c.loss) throw new Error('netem takes one loss model: random loss and burst loss together need the UdpRelay');
    const g = c.burstLoss;
    // netem's gemodel arguments: p, r, 1−h (loss in bad), 1−k (loss in good).
    args.push('loss', 'gemodel', pct(g.pGoodToBad), pct(g.pBadToGood), pct(g.lossInBad ?? 1), pct(g.lossInGood ?? 0));
  }
  if (c.duplicate) {
    if (c.duplicate.delayNs) throw new Error('netem sends duplicates at once: a duplicate delay needs the UdpRelay');
    args.push('duplicate', pct(c.duplicate.probability));
  }
  if (c.reorder) throw new Error('netem reorders by sending some packets early, not by holding one back: reorder needs the UdpRelay');
  return args;
}
