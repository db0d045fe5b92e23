import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { netemArgs, probeNetem } from './netem.ts';

const usable = canUseNetns();

describe.skipIf(!usable.ok)(`tc netem inside a namespace (${usable.reason ?? 'root'})`, () => {
  let net: Netns | undefined;
  afterAll(() => net?.destroy());

  it('is checked, not assumed: on this kernel netem is missing, so live impairment uses the UdpRelay', () => {
    net = createNetns({ prefix: 'a67e0-', hosts: ['a'], subnet: 140 });
    const exec = (cmd: string, args: string[]) => net!.exec('a', cmd, args);
    // A qdisc the kernel does have works in the namespace: the failure below is netem's alone.
    exec('tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']);
    exec('tc', ['qdisc', 'del', 'dev', 'eth0', 'root']);
    const probe = probeNetem(exec, 'eth0');
    // Seen on the CI kernel (6.x, no sch_netem): "Error: Specified qdisc kind is unknown."
    // If this starts passing, the kernel gained netem and the live runner may use netemArgs().
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/qdisc kind is unknown/);
  });

  it('translates impairments into arguments tc\'s own netem parser accepts (the kernel is what refuses)', () => {
    const cases = [
      netemArgs({ seed: 1, delayNs: 5_000_000, jitter: { distribution: 'normal', sdNs: 1_000_000 } }),
      netemArgs({ seed: 1, delayNs: 2_000_000, jitter: { distribution: 'uniform', sdNs: 577_350 }, loss: 0.01, duplicate: { probability: 0.005 } }),
      netemArgs({ seed: 1, burstLoss: { pGoodToBad: 0.01, pBadToGood: 0.25 } }),
    ];
    expect(cases[0]).toEqual(['delay', '5ms', '1ms', 'distribution', 'normal']);
    for (const args of cases) {
      let stderr = '';
      try {
        execFileSync('ip', ['netns', 'exec', net!.host('a').ns, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      // A parse error would say 'What is "..."?' or print netem's usage instead.
      expect(stderr).toMatch(/qdisc kind is unknown/);
    }
    expect(() => netemArgs({ seed: 1, reorder: { probability: 0.1, holdNs: 1e6 } })).toThrow(/UdpRelay/);
    expect(() => netemArgs({ seed: 1, jitter: { distribution: 'exponential', sdNs: 1e6 } })).toThrow(/no exponential/);
  });
});
