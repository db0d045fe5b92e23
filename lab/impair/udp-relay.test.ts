import { describe, expect, it } from 'vitest';
import { addonBuilt } from '../../native/index.ts';
import { runRealTime, udpTransport, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { ImpairmentModel } from './impairment.ts';
import { UdpRelay } from './udp-relay.ts';

const isRoot = process.getuid?.() === 0;
// Loopback ports of this helper's range (45000-45999): 45100-45109 for the relay test.
const RELAY_PORT = 45100;
const SINK_PORT = 45101;

/** Numbered datagrams every periodNs, each carrying its send time (the transport's clock). */
function numberedSender(t: LabTransport, to: string, periodNs: number, count: number): TimedActor & { sent: number } {
  const socket = t.open({ dscp: 34 });
  let next = t.now() + 20_000_000;
  const actor = {
    sent: 0,
    poll(now: number) {
      while (actor.sent < count && now >= next) {
        const b = Buffer.alloc(16);
        b.writeUInt32BE(actor.sent, 0);
        b.writeDoubleBE(t.now(), 8);
        socket.send(to, b);
        actor.sent++;
        next += periodNs;
      }
      return actor.sent < count ? next : Infinity;
    },
  };
  return actor;
}

describe.skipIf(!addonBuilt() || !isRoot)('UdpRelay on loopback (real sockets, real time)', () => {
  it('forwards with the model\'s loss, duplication and delays; the receiver sees them plus only scheduler lateness', async () => {
    const t = udpTransport('lo');
    const model = new ImpairmentModel({ seed: 21, loss: 0.05, delayNs: 3_000_000, jitter: { distribution: 'normal', sdNs: 500_000 }, keepOrder: false, duplicate: { probability: 0.02 } });
    const relay = new UdpRelay(t, { listenPort: RELAY_PORT, forwardTo: `127.0.0.1:${SINK_PORT}`, impairment: model, keepLog: true });
    const sink = t.open({ port: SINK_PORT, receiveQueueLimit: 1 << 16 });
    const got: { seq: number; delay: number }[] = [];
    const receiver: TimedActor = {
      poll() {
        for (let d = sink.receive(); d; d = sink.receive()) got.push({ seq: d.data.readUInt32BE(0), delay: d.receivedAt - d.data.readDoubleBE(8) });
        return Infinity;
      },
    };
    const count = 2500;
    const sender = numberedSender(t, `127.0.0.1:${RELAY_PORT}`, 1_000_000, count);
    await runRealTime([sender, relay, receiver], t, { durationNs: 3_000_000_000 });
    relay.close();
    sink.close();

    expect(sender.sent).toBe(count);
    const c = model.counters;
    expect(relay.stats.received).toBe(count);
    const lost = c.lostRandom;
    // Every decision is visible at the receiver: the copies the model kept, no more, no fewer.
    expect(got.length).toBe(count - lost + c.duplicated);
    expect(new Set(got.map((g) => g.seq)).size).toBe(count - lost);
    expect(Math.abs(lost / count - 0.05)).toBeLessThan(5 * Math.sqrt((0.05 * 0.95) / count));

    // Scheduled delays (model) follow N(3 ms, 0.5 ms) within bounds from the sample size.
    const scheduled = relay.log.map((e) => e.dueAt - e.receivedAt);
    const mean = scheduled.reduce((a, b) => a + b, 0) / scheduled.length;
    const sdv = Math.sqrt(scheduled.reduce((a, b) => a + (b - mean) ** 2, 0) / (scheduled.length - 1));
    expect(Math.abs(mean - 3_000_000)).toBeLessThan((5 * 500_000) / Math.sqrt(scheduled.length));
    expect(Math.abs(sdv / 500_000 - 1)).toBeLessThan(5 * Math.sqrt(2 / scheduled.length));

    // On the wire, each copy left at its due time plus the scheduler's lateness (Node timers
    // tick in ~1 ms; more on a loaded host), never early; the receiver's delay is that plus
    // two loopback hops.
    const bySeq = new Map<number, number[]>();
    for (const e of relay.log) bySeq.set(e.data.readUInt32BE(0), [...(bySeq.get(e.data.readUInt32BE(0)) ?? []), e.sentAt - e.dueAt]);
    for (const e of relay.log) expect(e.sentAt).toBeGreaterThanOrEqual(e.dueAt);
    const observed = got.map((g) => g.delay);
    const oMean = observed.reduce((a, b) => a + b, 0) / observed.length;
    expect(oMean).toBeGreaterThan(3_000_000 - 100_000);
    expect(oMean).toBeLessThan(3_000_000 + relay.stats.meanLatenessNs + 1_000_000);
    expect(bySeq.size).toBe(count - lost);
  });
});
