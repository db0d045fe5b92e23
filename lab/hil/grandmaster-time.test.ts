// The lab follows an external grandmaster's time: against the lab's Grandmaster peer on the
// virtual network, whose PTP time is known exactly (its timescale), the listener's time is
// the grandmaster's minus the path delay (one-way: it sends no Delay_Req), for a timescale
// 37 s behind TAI (what ptp4l with software stamps serves) and one far off, one- and
// two-step; another grandmaster or domain is not taken, and too few Sync is an error that
// names what was heard.
import { describe, expect, it } from 'vitest';
import { runVirtual } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { Grandmaster } from '../peers/grandmaster.ts';
import { virtualPtpNetwork } from '../peers/grandmaster-test-support.ts';
import { GrandmasterTimeListener } from './grandmaster-time.ts';

const GM = '10.67.123.1';
const LAB = '10.67.123.2';
const DELAY = 50_000;

function follow(o: { epoch: bigint; twoStep: boolean; identity?: string; domain?: number; seconds?: number }) {
  const net = virtualPtpNetwork(DELAY);
  const gm = new Grandmaster(net.host(GM), { timescale: linearTimescale(o.epoch), twoStep: o.twoStep, clockIdentity: '001dc1fffe123456', domain: 0 });
  const listener = new GrandmasterTimeListener(net.host(LAB), o.identity ?? '00-1D-C1-FF-FE-12-34-56', o.domain ?? 0);
  runVirtual([gm, listener], net.network, net.clock, { untilNs: (o.seconds ?? 3) * 1e9 });
  gm.close();
  return { listener, gm };
}

describe('GrandmasterTimeListener', () => {
  for (const twoStep of [true, false]) {
    for (const epoch of [1_767_225_563_000_000_000n, 123_456_789_012_345n]) {
      it(`${twoStep ? 'two' : 'one'}-step, grandmaster epoch ${epoch}: the lab's time is the grandmaster's minus the path delay`, () => {
        const { listener, gm } = follow({ epoch, twoStep });
        expect(listener.done).toBe(true);
        const t = listener.result(3);
        listener.close();
        for (const local of [0, 1e9, 2.5e9]) expect(t.timescale.ptpTimeAt(local)).toBe(gm.timescale.ptpTimeAt(local) - BigInt(DELAY));
        expect(t.spreadNs).toBe(0);
        expect(t.samples).toBeGreaterThanOrEqual(16);
      });
    }
  }

  it('takes neither another grandmaster nor another domain, and says what it heard', () => {
    for (const o of [{ identity: '001dc1.fffe.000001' }, { domain: 5 }]) {
      const { listener } = follow({ epoch: 1n << 60n, twoStep: true, ...o });
      expect(listener.done).toBe(false);
      expect(() => listener.result(3)).toThrow(/sent 0 usable Sync in 3 s on the lab interface; heard: 001dc1\.fffe\.123456 domain 0 \(\d+ Sync\)\. Is it running/);
      listener.close();
    }
  });

  it('refuses an identity that is not one', () => {
    const net = virtualPtpNetwork(DELAY);
    expect(() => new GrandmasterTimeListener(net.host(LAB), 'grandmaster', 0)).toThrow(/'grandmaster' is not a clock identity/);
  });
});
