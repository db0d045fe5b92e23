// The engine's PTP writer checked by an independent reader: random messages of every type
// (fast-check) are serialized by the engine, framed into a capture, and dissected by
// tshark, which must print back every field without a malformed-packet warning; the
// engine's own parser must give back what went in.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import type { NativePtpMessageInput, NativePtpMessageType } from '../ptp.ts';
import { withTempDir, writeUdpCapture } from '../../lab/net/test-support.ts';
import { tsharkFields, tsharkProblems } from '../../lab/net/tshark.ts';

const native = loadNative();

const TYPES: [NativePtpMessageType, number][] = [
  ['sync', 0], ['delay-req', 1], ['pdelay-req', 2], ['pdelay-resp', 3], ['follow-up', 8], ['delay-resp', 9],
  ['pdelay-resp-follow-up', 10], ['announce', 11], ['signaling', 12], ['management', 13],
];
const CONTROL: Record<string, number> = { sync: 0, 'delay-req': 1, 'follow-up': 2, 'delay-resp': 3, management: 4 };

const hex64 = fc.bigInt(0n, (1n << 64n) - 1n).map((v) => `0x${v.toString(16).padStart(16, '0')}`);
const timestamp = fc.record({ seconds: fc.integer({ min: 0, max: 2 ** 48 - 1 }), nanoseconds: fc.integer({ min: 0, max: 999_999_999 }) });
const portIdentity = fc.record({ clockIdentity: hex64, portNumber: fc.integer({ min: 0, max: 65535 }) });
// MANAGEMENT TLV, GET DEFAULT_DATA_SET (what pmc sends): type 0x0001, length 2, id 0x2000.
const GET_DEFAULT_DATA_SET = Uint8Array.from([0x00, 0x01, 0x00, 0x02, 0x20, 0x00]);

const message = fc.constantFrom(...TYPES).chain(([type]) =>
  fc.record({
    messageType: fc.constant(type),
    domain: fc.integer({ min: 0, max: 255 }),
    // Flag bits 1588-2008 defines (octet 0: 0x01,0x02,0x04,0x20,0x40; octet 1: 0x01-0x20).
    flags: fc.integer({ min: 0, max: 0xffff }).map((f) => f & 0x673f),
    correction: fc.bigInt(-(1n << 63n), (1n << 63n) - 1n),
    sourcePortIdentity: portIdentity,
    sequenceId: fc.integer({ min: 0, max: 65535 }),
    logMessageInterval: fc.integer({ min: -128, max: 127 }),
    timestamp,
    other: portIdentity,
    announce: fc.record({
      currentUtcOffset: fc.integer({ min: -32768, max: 32767 }),
      grandmasterPriority1: fc.integer({ min: 0, max: 255 }),
      grandmasterClockClass: fc.integer({ min: 0, max: 255 }),
      grandmasterClockAccuracy: fc.integer({ min: 0, max: 255 }),
      grandmasterClockVariance: fc.integer({ min: 0, max: 65535 }),
      grandmasterPriority2: fc.integer({ min: 0, max: 255 }),
      grandmasterIdentity: hex64,
      stepsRemoved: fc.integer({ min: 0, max: 65535 }),
      timeSource: fc.constantFrom(0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x90, 0xa0),
    }),
  }).map((g): NativePtpMessageInput => {
    const m: NativePtpMessageInput = {
      messageType: type, domain: g.domain, flags: g.flags, correction: g.correction, sourcePortIdentity: g.sourcePortIdentity,
      sequenceId: g.sequenceId, control: CONTROL[type] ?? 5, logMessageInterval: g.logMessageInterval,
    };
    if (type === 'sync' || type === 'delay-req' || type === 'pdelay-req' || type === 'announce') m.originTimestamp = g.timestamp;
    if (type === 'follow-up') m.preciseOriginTimestamp = g.timestamp;
    if (type === 'delay-resp') m.receiveTimestamp = g.timestamp;
    if (type === 'pdelay-resp') m.requestReceiptTimestamp = g.timestamp;
    if (type === 'pdelay-resp-follow-up') m.responseOriginTimestamp = g.timestamp;
    if (type === 'delay-resp' || type === 'pdelay-resp' || type === 'pdelay-resp-follow-up') m.requestingPortIdentity = g.other;
    if (type === 'signaling' || type === 'management') m.targetPortIdentity = g.other;
    if (type === 'announce') m.announce = g.announce;
    if (type === 'management') {
      m.management = { startingBoundaryHops: 1, boundaryHops: 1, actionField: 0 };
      m.tlvs = GET_DEFAULT_DATA_SET;
    }
    return m;
  }),
);

const ts = (t: { seconds: number; nanoseconds: number } | undefined) => (t ? [t.seconds, t.nanoseconds] : [undefined, undefined]);
// Expected tshark fields computed from the message that went in.
function expected(m: NativePtpMessageInput): (string | number | undefined)[] {
  const type = m.messageType as NativePtpMessageType;
  const c = m.correction ?? 0n;
  const id = (p?: { clockIdentity: string }) => p?.clockIdentity;
  return [
    TYPES.find(([t]) => t === type)![1], m.domain, m.flags, m.sequenceId, id(m.sourcePortIdentity), m.sourcePortIdentity!.portNumber,
    m.control, m.logMessageInterval,
    // tshark prints correction.ns as an unsigned 64-bit value of the ns part.
    Number(BigInt.asUintN(64, c >> 16n)), Number(c & 0xffffn),
    ...ts(type === 'sync' || type === 'delay-req' ? m.originTimestamp : undefined),
    ...ts(m.preciseOriginTimestamp),
    ...ts(m.receiveTimestamp), type === 'delay-resp' ? id(m.requestingPortIdentity) : undefined,
    ...ts(type === 'pdelay-req' ? m.originTimestamp : undefined),
    ...ts(m.requestReceiptTimestamp), type === 'pdelay-resp' ? id(m.requestingPortIdentity) : undefined,
    ...ts(m.responseOriginTimestamp), type === 'pdelay-resp-follow-up' ? id(m.requestingPortIdentity) : undefined,
    ...ts(type === 'announce' ? m.originTimestamp : undefined),
    m.announce?.currentUtcOffset, m.announce?.grandmasterPriority1, m.announce?.grandmasterClockClass, m.announce?.grandmasterClockAccuracy,
    m.announce?.grandmasterClockVariance, m.announce?.grandmasterPriority2, m.announce?.grandmasterIdentity, m.announce?.stepsRemoved,
    m.announce?.timeSource,
    type === 'signaling' ? id(m.targetPortIdentity) : undefined, type === 'management' ? id(m.targetPortIdentity) : undefined,
    m.management?.actionField,
  ];
}
const FIELDS = [
  'ptp.v2.messagetype', 'ptp.v2.domainnumber', 'ptp.v2.flags', 'ptp.v2.sequenceid', 'ptp.v2.clockidentity', 'ptp.v2.sourceportid',
  'ptp.v2.controlfield', 'ptp.v2.logmessageperiod', 'ptp.v2.correction.ns', 'ptp.v2.correction.subns',
  'ptp.v2.sdr.origintimestamp.seconds', 'ptp.v2.sdr.origintimestamp.nanoseconds',
  'ptp.v2.fu.preciseorigintimestamp.seconds', 'ptp.v2.fu.preciseorigintimestamp.nanoseconds',
  'ptp.v2.dr.receivetimestamp.seconds', 'ptp.v2.dr.receivetimestamp.nanoseconds', 'ptp.v2.dr.requestingsourceportidentity',
  'ptp.v2.pdrq.origintimestamp.seconds', 'ptp.v2.pdrq.origintimestamp.nanoseconds',
  'ptp.v2.pdrs.requestreceipttimestamp.seconds', 'ptp.v2.pdrs.requestreceipttimestamp.nanoseconds', 'ptp.v2.pdrs.requestingportidentity',
  'ptp.v2.pdfu.responseorigintimestamp.seconds', 'ptp.v2.pdfu.responseorigintimestamp.nanoseconds', 'ptp.v2.pdfu.requestingportidentity',
  'ptp.v2.an.origintimestamp.seconds', 'ptp.v2.an.origintimestamp.nanoseconds',
  'ptp.v2.an.origincurrentutcoffset', 'ptp.v2.an.priority1', 'ptp.v2.an.grandmasterclockclass', 'ptp.v2.an.grandmasterclockaccuracy',
  'ptp.v2.an.grandmasterclockvariance', 'ptp.v2.an.priority2', 'ptp.v2.an.grandmasterclockidentity', 'ptp.v2.an.localstepsremoved',
  'ptp.v2.timesource', 'ptp.v2.sig.targetportidentity', 'ptp.v2.mm.targetportidentity', 'ptp.v2.mm.action',
];

function normalise(field: string, value: string): string | number | undefined {
  if (value === '') return undefined;
  if (/identity$/.test(field)) return value;
  // Sub-nanoseconds are printed to 15 digits: back to 2^-16 ns units.
  if (field === 'ptp.v2.correction.subns') return Math.round(Number(value) * 65536);
  return Number(value);
}

describe('engine PTP writer read back by tshark', () => {
  it('random messages of every type: tshark prints every field as written, flags no packet', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 30, maxLength: 60 }), (messages) =>
        withTempDir((dir) => {
          const file = path.join(dir, 'ptp.pcapng');
          const wire = messages.map((m) => native.serializePtp(m));
          writeUdpCapture(file, messages.map((m, i) => ({
            sourceIp: '10.67.110.1', destinationIp: '224.0.1.129', sourcePort: 319,
            destinationPort: TYPES.find(([t]) => t === m.messageType)![1] < 8 ? 319 : 320, payload: wire[i],
          })));
          expect(tsharkProblems(file)).toEqual([]);
          const rows = tsharkFields(file, FIELDS);
          expect(rows.length).toBe(messages.length);
          rows.forEach((r, i) => {
            expect(FIELDS.map((f, k) => normalise(f, r[k])), `message ${i} (${messages[i].messageType})`).toEqual(expected(messages[i]));
          });
          // The engine's parser gives back what the engine's writer was given.
          wire.forEach((w, i) => {
            const p = native.parsePtp(w);
            if (p.error !== undefined) throw new Error(`message ${i}: ${p.error}`);
            const m = messages[i];
            expect([p.messageType, p.domain, p.flags, p.correction, p.sequenceId, p.sourcePortIdentity, p.logMessageInterval, p.control])
              .toEqual([m.messageType, m.domain, m.flags, m.correction, m.sequenceId, m.sourcePortIdentity, m.logMessageInterval, m.control]);
            expect(native.serializePtp({ ...p, tlvs: p.tlvs })).toEqual(w);
          });
        }),
      ),
      // Each run starts tshark: no shrinking (it would run tshark per step); the seed replays a failure.
      { numRuns: 6, seed: 4242, endOnFailure: true },
    );
  });

  it('refuses bad input from a person with the reason', () => {
    expect(() => native.serializePtp({ messageType: 'nonsense' as NativePtpMessageType })).toThrow(/messageType must be one of/);
    expect(() => native.serializePtp({ messageType: 'sync', sourcePortIdentity: { clockIdentity: 'xyz', portNumber: 1 } })).toThrow(/not a clock identity/);
  });
});
