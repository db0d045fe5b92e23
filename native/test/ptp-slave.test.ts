// The engine's PtpSlave through native, on the virtual network in virtual time, as a lab
// TimedActor next to a grandmaster fixture written here in TypeScript (messages from the
// engine's writer; its time from the lab's own PtpTimescale). The media clock's RTP
// timestamps are checked against the lab's independent bigint arithmetic
// (lab/net/ptp-timescale.ts), and bad options get errors that say what is wrong.
import { describe, expect, it } from 'vitest';
import { loadNative, type VirtualClock, type VirtualNetwork } from '../index.ts';
import type { NativePtpMessageInput } from '../ptp.ts';
import { runVirtual, virtualHost, type DatagramSocket, type LabTransport, type TimedActor } from '../../lab/net/lab-transport.ts';
import { linearTimescale, mediaTimeOf, rtpTimestampOf, type PtpTimescale } from '../../lab/net/ptp-timescale.ts';

const native = loadNative();
const GROUP = '224.0.1.129';
const GM = '0x001d7ffffe80024a';

/** A two-step grandmaster: Announce every 2 s, Sync + Follow_Up every 125 ms, Delay_Resp. */
class FixtureGrandmaster implements TimedActor {
  private readonly event: DatagramSocket;
  private readonly general: DatagramSocket;
  private nextSync = 2_000_000;
  private nextAnnounce = 1_000_000;
  private seq = 0;
  private announceSeq = 0;
  constructor(private readonly host: LabTransport, readonly timescale: PtpTimescale) {
    this.event = host.open({ port: 319, dscp: 46 });
    this.general = host.open({ port: 320, dscp: 34 });
    this.event.join(GROUP);
  }
  private send(socket: DatagramSocket, port: number, m: NativePtpMessageInput) {
    socket.send(`${GROUP}:${port}`, native.serializePtp({ sourcePortIdentity: { clockIdentity: GM, portNumber: 1 }, ...m }));
  }
  private stamp(ns: bigint) {
    return { seconds: Number(ns / 1_000_000_000n), nanoseconds: Number(ns % 1_000_000_000n) };
  }
  poll(now: number): number {
    for (let d = this.event.receive(); d; d = this.event.receive()) {
      const m = native.parsePtp(d.data);
      if (m.error !== undefined || m.messageType !== 'delay-req') continue;
      this.send(this.general, 320, { messageType: 'delay-resp', sequenceId: m.sequenceId, control: 3, logMessageInterval: -3,
        receiveTimestamp: this.stamp(this.timescale.ptpTimeAt(d.receivedAt)), requestingPortIdentity: m.sourcePortIdentity });
    }
    while (this.general.receive()) {
      // Nothing to do with general messages.
    }
    if (now >= this.nextAnnounce) {
      this.send(this.general, 320, { messageType: 'announce', sequenceId: this.announceSeq++, control: 5, logMessageInterval: 1,
        originTimestamp: this.stamp(this.timescale.ptpTimeAt(now)),
        announce: { grandmasterPriority1: 128, grandmasterClockClass: 6, grandmasterClockAccuracy: 0x21, grandmasterClockVariance: 0x4e5d,
          grandmasterPriority2: 128, grandmasterIdentity: GM, stepsRemoved: 0, timeSource: 0x20, currentUtcOffset: 37 } });
      this.nextAnnounce += 2e9;
    }
    if (now >= this.nextSync) {
      const seq = this.seq++ & 0xffff;
      this.send(this.event, 319, { messageType: 'sync', sequenceId: seq, flags: 0x0200, control: 0, logMessageInterval: -3 });
      this.send(this.general, 320, { messageType: 'follow-up', sequenceId: seq, control: 2, logMessageInterval: -3,
        preciseOriginTimestamp: this.stamp(this.timescale.ptpTimeAt(now)) });
      this.nextSync += 125e6;
    }
    return Math.min(this.nextSync, this.nextAnnounce);
  }
}

function world(ppm: number) {
  const clock: VirtualClock = new native.VirtualClock(0);
  const network: VirtualNetwork = new native.VirtualNetwork(clock, 20_000);
  const timescale = linearTimescale(undefined, ppm);
  const gm = new FixtureGrandmaster(virtualHost(network, clock, '10.67.110.1', 'gm'), timescale);
  virtualHost(network, clock, '10.67.110.2', 'slave');
  const slave = new native.PtpSlave({ network, host: '10.67.110.2' });
  const slaveActor: TimedActor = { poll: () => slave.poll() };
  return { clock, network, timescale, gm, slave, actors: [gm, slaveActor] };
}

describe('PtpSlave (native) on the virtual network', () => {
  it('locks to a 50 ppm grandmaster; status, records and media clock agree with the lab', () => {
    const w = world(50);
    const dscp = new Map<string, Set<number>>();
    w.network.setImpairment((p) => {
      if (p.source.startsWith('10.67.110.2:')) {
        const type = native.parsePtp(p.data);
        if (type.error === undefined) dscp.set(type.messageType, (dscp.get(type.messageType) ?? new Set()).add(p.dscp));
      }
      return [0];
    });
    runVirtual(w.actors, w.network, w.clock, { untilNs: 30e9 });
    expect([...dscp.entries()], 'the slave sends only Delay_Req, marked EF (AES67)').toEqual([['delay-req', new Set([46])]]);
    const st = w.slave.status();
    expect(st.locked).toBe(true);
    expect(st.portState).toBe('SLAVE');
    expect(st.grandmaster).toBe('001d7f.fffe.80024a');
    expect(st.parent?.clockClass).toBe(6);
    expect(st.transmitStamp).toBe('after');
    expect(st.frequencyPpb).toBeCloseTo(50_000, -2);
    expect(st.pathDelayNs).toBeGreaterThan(15_000);
    expect(st.pathDelayNs).toBeLessThan(25_000);
    expect(st.counters.messages.sync).toBeGreaterThan(200);
    expect(st.counters.delaySamples).toBeGreaterThan(100);
    const records = w.slave.records();
    expect(records.length).toBe(st.counters.servoSamples);
    expect(w.slave.records()).toEqual([]);
    const locked = records.filter((r) => r.locked);
    expect(locked.length).toBeGreaterThan(100);
    expect(Math.max(...locked.map((r) => Math.abs(r.offsetNs)))).toBeLessThan(1_000);

    // The slave's PTP time against the grandmaster's, and the media clock against the lab's.
    const now = w.clock.now();
    const error = Number(w.slave.ptpTimeAt(now) - w.timescale.ptpTimeAt(now));
    expect(Math.abs(error)).toBeLessThan(1_000);
    const media = w.slave.mediaClock(48_000, 0x12345678);
    for (let t = now - 1e9; t < now; t += 1_234_567) {
      const ours = media.rtpTimestampAt(t);
      expect(ours).toBe(rtpTimestampOf(mediaTimeOf(w.slave.ptpTimeAt(t), 48_000), 0x12345678));
      const truth = rtpTimestampOf(mediaTimeOf(w.timescale.ptpTimeAt(t), 48_000), 0x12345678);
      expect(Math.abs(((ours - truth) | 0))).toBeLessThanOrEqual(1);
      const s = media.sampleAt(t);
      expect(media.sampleAt(media.localTimeOf(s))).toBe(s);
    }
    expect(media.driftPpm()).toBeCloseTo(50, 1);
    expect(media.rateScalar()).toBeCloseTo(1.00005, 7);

    w.slave.close();
    expect(() => w.slave.status()).toThrow(/closed/);
    expect(() => media.sampleAt(0)).toThrow(/closed/);
  });

  it('refuses bad options with the reason', () => {
    const w = world(0);
    expect(() => new native.PtpSlave({ network: w.network, host: '10.67.110.2', domain: 128 })).toThrow(/domain must be 0-127/);
    expect(() => new native.PtpSlave({ network: w.network, host: '10.67.110.9' })).toThrow(/no virtual host at 10.67.110.9/);
    expect(() => new native.PtpSlave({ network: w.network, host: '10.67.110.2', transmitStamp: 'soon' as 'after' })).toThrow(/transmitStamp must be/);
    expect(() => new native.PtpSlave({ network: w.network, host: '10.67.110.2', clockIdentity: 'nope' })).toThrow(/not a clock identity/);
    expect(() => new native.PtpSlave({} as { interface: string })).toThrow(/needs \{ network, host \} or \{ interface \}/);
    expect(() => new native.PtpSlave({ interface: 'a67p-no-such0' })).toThrow(/a67p-no-such0/);
    expect(() => w.slave.systemClockOffset()).toThrow(/only for a PtpSlave on an interface/);
    expect(() => w.slave.mediaClock(0)).toThrow(/rate must be/);
  });
});
