import { describe, expect, it } from 'vitest';
import { loadNative, type DatagramSocket } from '../../native/index.ts';
import { virtualHost, type LabTransport } from '../net/lab-transport.ts';
import { sharedGroupTransport } from './shared-group-transport.ts';

describe('sharedGroupTransport (the HIL window receivers\' one socket per stream)', () => {
  it('hands every datagram to each handle open when it arrives, opens and joins the real socket once', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 50_000);
    const tx = virtualHost(network, clock, '10.0.0.1');
    const rxInner = virtualHost(network, clock, '10.0.0.2');
    // Counts what reaches the real transport.
    let opens = 0;
    let joins = 0;
    const counted: LabTransport = {
      ...rxInner,
      open: (o) => {
        opens++;
        const s = rxInner.open(o);
        // A unicast test: the join is only counted (the shared socket must ask for it once).
        return { ...bind(s), join: () => void joins++ };
      },
    };
    const shared = sharedGroupTransport(counted);
    const sender = tx.open({});
    const got = { a: [] as number[], b: [] as number[] };
    const a = shared.open({ port: 5004 });
    a.join('239.69.250.1');
    let b: DatagramSocket | undefined;
    const drain = (s: DatagramSocket | undefined, into: number[]) => {
      for (let d = s?.receive(); d; d = s!.receive()) into.push(d.data.readUInt32BE(0));
    };
    for (let i = 0; i < 120; i++) {
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(i);
      sender.send('10.0.0.2:5004', buf);
      clock.advanceTo((i + 1) * 1_000_000);
      network.deliverDue();
      // Polled every other datagram, as the runner polls now and then: queues carry the rest.
      if (i % 2 === 1) {
        drain(a, got.a);
        drain(b, got.b);
      }
      if (i === 49) {
        b = shared.open({ port: 5004 });
        b.join('239.69.250.1');
      }
      if (i === 79) {
        drain(a, got.a);
        a.close();
      }
    }
    drain(b, got.b);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
    expect(got.a).toEqual(range(0, 80));
    // B opened after datagram 49 had arrived: it gets 50 on, every one.
    expect(got.b).toEqual(range(50, 120));
    expect(opens).toBe(1);
    expect(joins).toBe(1);
    expect(shared.dropped()).toBe(0);
    shared.close();
    sender.close();
  });

  it('refuses an ephemeral port (nothing to share)', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 50_000);
    expect(() => sharedGroupTransport(virtualHost(network, clock, '10.0.0.3')).open({})).toThrow(/fixed port/);
  });
});

/** The socket's methods bound to it (a native object's methods need their receiver). */
function bind(s: DatagramSocket): DatagramSocket {
  return {
    send: (d, x) => s.send(d, x),
    receive: () => s.receive(),
    join: (g, src) => s.join(g, src),
    leave: (g, src) => s.leave(g, src),
    localEndpoint: () => s.localEndpoint(),
    close: () => s.close(),
  };
}
