// The C++ grandmaster (native-grandmaster.ts, native/src/grandmaster_binding.cc) must be the
// TypeScript Grandmaster, only faster. Both run in the same world, one at a time: a slave
// sending Delay_Req (the lab's probe, and the engine's own PtpSlave locking to it), a
// foreign grandmaster (the TypeScript one) that is better or worse, dies and comes back, and
// a stream of malformed and foreign datagrams on both PTP ports (every reason the lab's codec
// refuses a message for, other domains, other message types, TLVs, an Announce without an
// interval). Everything on the wire is recorded as it is sent (the network's tap: source,
// destination, send time, DSCP, bytes) and must be the same, datagram for datagram; so must
// the grandmaster's counts (ignored and malformed by reason), its state, and what the
// engine's slave made of it. fast-check picks the configurations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, type DatagramSocket, type TimedActor } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { ptpHeader, PTP_EVENT_PORT, PTP_GENERAL_PORT, PTP_PRIMARY_GROUP, serializePtp, type PtpMessage } from '../net/ptp.ts';
import { Grandmaster, type GrandmasterEvent } from './grandmaster.ts';
import { PtpProbe, virtualPtpNetwork } from './grandmaster-test-support.ts';
import { NativeGrandmaster } from './native-grandmaster.ts';

const S = 1e9;
const EPOCH = 1_767_225_600_000_000_000n;

interface Case {
  seed: number;
  twoStep: boolean;
  profile: 'aes67' | 'ravenna';
  logSyncInterval: number;
  logAnnounceInterval: number;
  domain: number;
  masterOnly: boolean;
  ppm: number;
  /** priority1 of the foreign grandmaster (ours is 128): lower is better. */
  foreignPriority1: number;
  /** When the foreign grandmaster starts, dies (silence) and comes back (s). */
  foreignStart: number;
  foreignSilence: number;
  foreignResume: number;
  baseDelayNs: number;
  /** Malformed and foreign datagrams per second on each port. */
  junkRate: number;
  seconds: number;
}

/** Datagrams that are not a clean Delay_Req or Announce of the domain, from a stranger. */
function junk(r: () => number, domain: number): Uint8Array {
  const id = { clockIdentity: '0a0b0c0d0e0f1011', portNumber: 1 + Math.floor(r() * 3) };
  const m = (type: PtpMessage['type'], extra: object = {}): Uint8Array => {
    const base = { ...ptpHeader(type, { sourcePortIdentity: id, domain, sequenceId: Math.floor(r() * 65536), correction: BigInt(Math.floor(r() * 1e6)) }), type, tlvs: [] };
    const t = { originTimestamp: 5n, preciseOriginTimestamp: 6n, receiveTimestamp: 7n, requestReceiptTimestamp: 8n, responseOriginTimestamp: 9n, requestingPortIdentity: id, targetPortIdentity: id, startingBoundaryHops: 1, boundaryHops: 1, actionField: 0 };
    return serializePtp({ ...base, ...t, ...extra } as PtpMessage);
  };
  const delayReq = m('delayReq');
  switch (Math.floor(r() * 16)) {
    case 0:
      return delayReq.subarray(0, Math.floor(r() * 34)); // shorter than the header (or its version field)
    case 1: {
      const b = Uint8Array.from(delayReq);
      b[1] = (b[1] & 0xf0) | 1; // PTPv1
      return b;
    }
    case 2: {
      const b = Uint8Array.from(delayReq);
      b[1] = (b[1] & 0xf0) | (3 + Math.floor(r() * 12)); // another version
      return b;
    }
    case 3: {
      const b = Uint8Array.from(delayReq);
      b[0] = (b[0] & 0xf0) | [4, 5, 6, 7, 0xe, 0xf][Math.floor(r() * 6)]; // unknown type
      return b;
    }
    case 4: {
      const b = Uint8Array.from(delayReq);
      b[3] = 40; // messageLength shorter than the fixed part
      return b;
    }
    case 5: {
      const b = Uint8Array.from(delayReq);
      b[3] = 60; // messageLength past the bytes
      return b;
    }
    case 6: {
      const b = new Uint8Array(50);
      b.set(delayReq);
      b[3] = 47 + Math.floor(r() * 3); // a TLV that does not fit
      b[46] = 0;
      b[47] = 9;
      return b;
    }
    case 7: {
      const b = Uint8Array.from(delayReq);
      b[40] = 0xff; // nanoseconds >= 10^9
      return b;
    }
    case 8:
      return m('delayReq', { domain: (domain + 1) % 256 }); // other domain
    case 9:
      return m(['sync', 'followUp', 'delayResp', 'pdelayReq', 'pdelayResp', 'pdelayRespFollowUp', 'signaling', 'management'][Math.floor(r() * 8)] as PtpMessage['type']);
    case 10: {
      // A Delay_Req with a TLV and Ethernet-like padding after messageLength.
      const tlv = { type: 0x2000 + Math.floor(r() * 10), value: Uint8Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 256)) };
      const b = serializePtp({ ...ptpHeader('delayReq', { sourcePortIdentity: id, domain, sequenceId: 7, majorSdoId: Math.floor(r() * 16) }), type: 'delayReq', tlvs: [tlv], originTimestamp: 1n });
      const padded = new Uint8Array(b.length + Math.floor(r() * 4));
      padded.set(b);
      return padded;
    }
    case 11: {
      // An Announce with no interval (0x7f), from a clock better or worse than ours.
      return m('announce', {
        logMessageInterval: 0x7f,
        originTimestamp: 1n,
        currentUtcOffset: 37,
        grandmasterPriority1: r() < 0.5 ? 255 : 1,
        grandmasterClockQuality: { clockClass: 248, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff },
        grandmasterPriority2: 128,
        grandmasterIdentity: '0a0b0c0d0e0f1011',
        stepsRemoved: 0,
        timeSource: 0xa0,
      });
    }
    default:
      return Uint8Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)); // noise
  }
}

/** Sends junk to both PTP ports of the group at seeded random times. */
class Junk implements TimedActor {
  readonly pollOn = 'due';
  private next: number;
  private readonly r: () => number;
  constructor(
    private readonly socket: DatagramSocket,
    seed: number,
    private readonly perSecond: number,
    private readonly domain: number,
  ) {
    const prng = new (loadNative().Prng)(seed);
    this.r = () => prng.uniform();
    this.next = this.gap();
  }
  private gap(): number {
    return this.perSecond > 0 ? Math.floor((1 + this.r() * 2 * S) / this.perSecond) : Infinity;
  }
  poll(now: number): number {
    while (now >= this.next) {
      const port = this.r() < 0.5 ? PTP_EVENT_PORT : PTP_GENERAL_PORT;
      this.socket.send(`${PTP_PRIMARY_GROUP}:${port}`, junk(this.r, this.domain));
      this.next += this.gap();
    }
    return this.next;
  }
}

function world(c: Case, which: 'ts' | 'native') {
  const native = loadNative();
  const net = virtualPtpNetwork(c.baseDelayNs);
  const options = {
    identitySeed: 'gm under test',
    timescale: linearTimescale(EPOCH, c.ppm),
    twoStep: c.twoStep,
    profile: c.profile,
    logSyncInterval: c.logSyncInterval,
    logAnnounceInterval: c.logAnnounceInterval,
    domain: c.domain,
    masterOnly: c.masterOnly,
  };
  const gm =
    which === 'ts' ? new Grandmaster(net.host('10.67.150.1'), options) : new NativeGrandmaster(net.host('10.67.150.1'), { ...options, network: net.network, linear: { epochNs: EPOCH, ppm: c.ppm } });
  const script: GrandmasterEvent[] = [
    { atNs: (c.foreignSilence - c.foreignStart) * S, kind: 'silence' },
    { atNs: (c.foreignResume - c.foreignStart) * S, kind: 'resume' },
  ];
  const foreign = new Grandmaster(net.host('10.67.150.2'), { identitySeed: 'foreign', priority1: c.foreignPriority1, domain: c.domain, logAnnounceInterval: c.logAnnounceInterval, script });
  const probe = new PtpProbe(net.host('10.67.150.3'), { clockIdentity: '0000000000000003', portNumber: 1 }, 250_000_000, 100_000_007, c.domain, 123n << 16n);
  net.host('10.67.150.4');
  const slave = new native.PtpSlave({ network: net.network, host: '10.67.150.4', domain: c.domain, seed: c.seed });
  const slaveActor: TimedActor = { poll: () => slave.poll() };
  const junkActor = new Junk(net.host('10.67.150.5').open({}), c.seed, c.junkRate, c.domain);
  // The foreign grandmaster joins late: until then it is not polled at all.
  let foreignDue = c.foreignStart * S;
  const late: TimedActor = { poll: (now) => (now >= c.foreignStart * S ? (foreignDue = foreign.poll(now)) : foreignDue) };
  runVirtual([gm, late, probe, slaveActor, junkActor], net.network, net.clock, { untilNs: c.seconds * S });
  const result = {
    wire: net.tapped.map((t) => `${t.sentAt} ${t.source} ${t.destination} ${t.dscp} ${Buffer.from(t.data).toString('hex')}`),
    counts: gm.counts,
    state: gm.state,
    probe: probe.received.map((x) => `${x.receivedAt} ${x.message.type} ${x.message.sequenceId}`),
    slave: slave.status(),
  };
  gm.close();
  foreign.close();
  probe.close();
  slave.close();
  return result;
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    twoStep: fc.boolean(),
    profile: fc.constantFrom<'aes67' | 'ravenna'>('aes67', 'ravenna'),
    logSyncInterval: fc.integer({ min: -4, max: 0 }),
    logAnnounceInterval: fc.integer({ min: 0, max: 1 }),
    domain: fc.constantFrom(0, 0, 7),
    masterOnly: fc.boolean(),
    ppm: fc.constantFrom(0, 0, 12.5, -3),
    foreignPriority1: fc.constantFrom(100, 200),
    foreignStart: fc.constantFrom(0.3, 1.7),
    foreignSilence: fc.constantFrom(4.1, 6),
    foreignResume: fc.constantFrom(9, 13.3),
    baseDelayNs: fc.constantFrom(0, 30_000, 1_000_003),
    junkRate: fc.constantFrom(0, 5, 40),
  })
  .map((r) => ({ ...r, seconds: 16 }));

describe.skipIf(!addonBuilt())('NativeGrandmaster against Grandmaster', () => {
  const same = (c: Case) => {
    const ts = world(c, 'ts');
    const nat = world(c, 'native');
    expect(nat.wire.length).toBe(ts.wire.length);
    expect(nat.wire).toEqual(ts.wire);
    expect(nat.counts).toEqual(ts.counts);
    expect(nat.state).toBe(ts.state);
    expect(nat.probe).toEqual(ts.probe);
    expect(nat.slave).toEqual(ts.slave);
    return ts;
  };
  const defaults: Case = { seed: 7, twoStep: true, profile: 'aes67', logSyncInterval: -3, logAnnounceInterval: 1, domain: 0, masterOnly: false, ppm: 0, foreignPriority1: 100, foreignStart: 0.3, foreignSilence: 4.1, foreignResume: 30, baseDelayNs: 30_000, junkRate: 0, seconds: 20 };

  it('the AES67 defaults with a slave and a better foreign grandmaster that dies: the same wire, counts and slave lock', () => {
    const ts = same(defaults);
    // What the case exercised: it yielded and came back, answered Delay_Reqs, the slave locked.
    expect(ts.counts.becamePassive).toBeGreaterThanOrEqual(1);
    expect(ts.counts.becameMaster).toBeGreaterThanOrEqual(1);
    expect(ts.counts.delayResp).toBeGreaterThan(20);
    expect(ts.slave.locked).toBe(true);
  });

  it('the same under a stream of malformed and foreign datagrams on both ports', () => {
    const ts = same({ ...defaults, junkRate: 20 });
    expect(Object.keys(ts.counts.malformed).length).toBe(7);
    expect(Object.keys(ts.counts.ignored).length).toBeGreaterThan(8);
  });

  it('sends and decides the same for any configuration (fast-check)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const ts = world(c, 'ts');
        const nat = world(c, 'native');
        expect(nat.wire).toEqual(ts.wire);
        expect(nat.counts).toEqual(ts.counts);
        expect(nat.state).toBe(ts.state);
        expect(nat.probe).toEqual(ts.probe);
        expect(nat.slave).toEqual(ts.slave);
      }),
      { numRuns: 20, seed: 20261125 },
    );
  });

  it('refuses what only the TypeScript grandmaster does: a script, state callbacks, a steered timescale', () => {
    const net = virtualPtpNetwork();
    const linear = { epochNs: EPOCH, ppm: 0 };
    const o = { network: net.network, linear, timescale: linearTimescale(EPOCH) };
    expect(() => new NativeGrandmaster(net.host('10.67.151.1'), { ...o, script: [{ atNs: 1, kind: 'silence' }] })).toThrow(/script is not implemented natively/);
    expect(() => new NativeGrandmaster(net.host('10.67.151.2'), { ...o, onChange: () => {} })).toThrow(/onChange is not implemented natively/);
    expect(() => new NativeGrandmaster(net.host('10.67.151.3'), { ...o, timescale: linearTimescale(EPOCH, 5) })).toThrow(/not linearTimescale/);
    expect(() => new NativeGrandmaster(net.host('10.67.151.4'), { ...o, priority1: 256 })).toThrow(/priority1 must be an integer 0..255/);
  });
});
