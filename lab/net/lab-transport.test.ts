import { describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.ts';
import { runRealTime, runVirtual, udpTransport, virtualHost, type LabTransport, type TimedActor } from './lab-transport.ts';

/** Sends a numbered datagram every `periodNs` to `to`; records what comes back. */
function pinger(t: LabTransport, to: string, periodNs: number, count: number) {
  const socket = t.open({ dscp: 46 });
  const sentAt: number[] = [];
  const rtts: number[] = [];
  const dscps: number[] = [];
  let next = t.now();
  const actor: TimedActor = {
    poll(now) {
      for (let d = socket.receive(); d; d = socket.receive()) {
        rtts.push(d.receivedAt - sentAt[d.data.readUInt32BE(0)]);
        dscps.push(d.dscp);
      }
      while (sentAt.length < count && now >= next) {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(sentAt.length);
        sentAt.push(now);
        socket.send(to, b);
        next += periodNs;
      }
      return sentAt.length < count ? next : Infinity;
    },
  };
  return { actor, rtts, dscps, close: () => socket.close() };
}

/** Echoes every datagram back to its source. */
function echo(t: LabTransport, port: number) {
  const socket = t.open({ port, dscp: 34 });
  const actor: TimedActor = {
    poll() {
      for (let d = socket.receive(); d; d = socket.receive()) socket.send(d.source, d.data);
      return Infinity;
    },
  };
  return { actor, close: () => socket.close() };
}

describe('LabTransport', () => {
  it('runs the same actors on the virtual network, deterministically, at the virtual times', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 50_000);
    const a = virtualHost(network, clock, '10.67.1.1');
    const b = virtualHost(network, clock, '10.67.1.2');
    const e = echo(b, 7000);
    const p = pinger(a, '10.67.1.2:7000', 1_000_000, 5);
    runVirtual([p.actor, e.actor], network, clock, { untilNs: 10_000_000 });
    expect(clock.now()).toBe(10_000_000);
    expect(p.rtts).toEqual([100_000, 100_000, 100_000, 100_000, 100_000]); // 2 x the 50 us base delay
    expect(p.dscps).toEqual([34, 34, 34, 34, 34]);
    e.close();
    p.close();
  });

  it('runs the same actors over real UDP on loopback, with DSCP on the wire and kernel receive times', async () => {
    const a = udpTransport('lo');
    expect(a.address).toBe('127.0.0.1');
    const port = 47_000 + (process.pid % 1000);
    const e2 = echo(a, port);
    const p = pinger(a, `127.0.0.1:${port}`, 2_000_000, 10);
    await runRealTime([p.actor, e2.actor], a, { durationNs: 200_000_000 });
    expect(p.rtts).toHaveLength(10);
    for (const rtt of p.rtts) {
      expect(rtt).toBeGreaterThan(0);
      expect(rtt).toBeLessThan(50_000_000);
    }
    expect(new Set(p.dscps)).toEqual(new Set([34]));
    e2.close();
    p.close();
  });

  it('real time with timer pacing (the default) never spins: an actor that is always due is polled at most once per timer tick; pacing spin does spin', async () => {
    const t = udpTransport('lo');
    const turns = async (pacing?: 'timer' | 'spin') => {
      let n = 0;
      const busy: TimedActor = { poll: (now) => (n++, now) };
      await runRealTime([busy], t, { durationNs: 100e6, pacing });
      return n;
    };
    // setTimeout(0) is Node's 1 ms tick: at most ~100 turns in 100 ms (fewer on a busy host);
    // the setImmediate spin takes thousands.
    const timer = await turns();
    expect(timer).toBeGreaterThan(5);
    expect(timer).toBeLessThanOrEqual(101);
    expect(await turns('spin')).toBeGreaterThan(300);
  });
});
