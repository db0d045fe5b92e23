import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import {
  clockIdentityFromMac,
  ETHERTYPE_PTP,
  flagsFromBits,
  flagsToBits,
  formatClockIdentity,
  isEventMessage,
  parseClockIdentity,
  parsePtp,
  ptpFlags,
  ptpHeader,
  PTP_EVENT_PORT,
  PTP_FIXED_LENGTH,
  PTP_GENERAL_PORT,
  PTP_MESSAGE_TYPE_CODES,
  serializePtp,
  type PtpMessage,
  type PtpMessageType,
  type PtpParseError,
  type PtpTlv,
} from './ptp.ts';
import { tsharkFields, tsharkProblems } from './tshark.ts';
import { withTempDir, writeUdpCapture } from './test-support.ts';
import { sharedCaptures } from './pcap/shared-captures.ts';
import { CaptureReader } from './pcap/reader.ts';
import { UdpDecoder } from './pcap/udp.ts';

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const identity = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
const port = fc.record({ clockIdentity: identity, portNumber: u16 });
const timestamp = fc.bigInt({ min: 0n, max: (1n << 48n) * 1_000_000_000n - 1n });
const tlv = fc.record({ type: u16, value: fc.uint8Array({ maxLength: 40 }) });

/** Any message this codec writes; `withTlvs` false leaves the TLV list empty. */
export function ptpMessageArb(o: { withTlvs?: boolean; sdo?: boolean; negativeCorrection?: boolean } = {}): fc.Arbitrary<PtpMessage> {
  const header = fc.record({
    majorSdoId: o.sdo === false ? fc.constant(0) : fc.integer({ min: 0, max: 15 }),
    minorVersion: o.sdo === false ? fc.constant(0) : fc.integer({ min: 0, max: 15 }),
    domain: u8,
    minorSdoId: o.sdo === false ? fc.constant(0) : u8,
    rawFlags: u16,
    correction: fc.bigInt({ min: o.negativeCorrection === false ? 0n : -(1n << 63n), max: (1n << 63n) - 1n }),
    messageTypeSpecific: fc.integer({ min: 0, max: 0xffffffff }),
    sourcePortIdentity: port,
    sequenceId: u16,
    controlField: u8,
    logMessageInterval: fc.integer({ min: -128, max: 127 }),
    tlvs: o.withTlvs === false ? fc.constant<PtpTlv[]>([]) : fc.array(tlv, { maxLength: 3 }),
  });
  const type = fc.constantFrom(...(Object.keys(PTP_MESSAGE_TYPE_CODES) as PtpMessageType[]));
  const body = fc.record({
    t: timestamp,
    requesting: port,
    target: port,
    currentUtcOffset: fc.integer({ min: -32768, max: 32767 }),
    p1: u8,
    p2: u8,
    clockClass: u8,
    clockAccuracy: u8,
    variance: u16,
    gm: identity,
    stepsRemoved: u16,
    timeSource: u8,
    hops: u8,
    startHops: u8,
    action: fc.integer({ min: 0, max: 15 }),
  });
  return fc.tuple(type, header, body).map(([type, h, b]) => {
    const { rawFlags, tlvs, ...rest } = h;
    const hdr = {
      ...ptpHeader(type, rest),
      flags: flagsFromBits(rawFlags),
      otherFlagBits: rawFlags & ~flagsToBits(flagsFromBits(0xffff)),
      tlvs,
    };
    hdr.messageLength = PTP_FIXED_LENGTH[type] + tlvs.reduce((n, t) => n + 4 + t.value.length, 0);
    switch (type) {
      case 'sync':
      case 'delayReq':
      case 'pdelayReq':
        return { ...hdr, type, originTimestamp: b.t } as PtpMessage;
      case 'followUp':
        return { ...hdr, type, preciseOriginTimestamp: b.t };
      case 'delayResp':
        return { ...hdr, type, receiveTimestamp: b.t, requestingPortIdentity: b.requesting };
      case 'pdelayResp':
        return { ...hdr, type, requestReceiptTimestamp: b.t, requestingPortIdentity: b.requesting };
      case 'pdelayRespFollowUp':
        return { ...hdr, type, responseOriginTimestamp: b.t, requestingPortIdentity: b.requesting };
      case 'announce':
        return {
          ...hdr,
          type,
          originTimestamp: b.t,
          currentUtcOffset: b.currentUtcOffset,
          grandmasterPriority1: b.p1,
          grandmasterClockQuality: { clockClass: b.clockClass, clockAccuracy: b.clockAccuracy, offsetScaledLogVariance: b.variance },
          grandmasterPriority2: b.p2,
          grandmasterIdentity: b.gm,
          stepsRemoved: b.stepsRemoved,
          timeSource: b.timeSource,
        };
      case 'signaling':
        return { ...hdr, type, targetPortIdentity: b.target };
      case 'management':
        return { ...hdr, type, targetPortIdentity: b.target, startingBoundaryHops: b.startHops, boundaryHops: b.hops, actionField: b.action };
    }
  });
}

const captures = sharedCaptures().filter((c) => c.includes(`${path.sep}ptp${path.sep}`));
if (captures.length === 0) console.warn('../shared/captures is absent: the PTP capture-vs-tshark tests are skipped');

// tshark's fields, and how our message gives each. Values compare as normalized strings.
const COMMON: [string, (m: PtpMessage) => unknown][] = [
  ['ptp.v2.messagetype', (m) => PTP_MESSAGE_TYPE_CODES[m.type]],
  ['ptp.v2.majorsdoid', (m) => m.majorSdoId],
  ['ptp.v2.minorversionptp', (m) => m.minorVersion],
  ['ptp.v2.versionptp', () => 2],
  ['ptp.v2.messagelength', (m) => m.messageLength],
  ['ptp.v2.domainnumber', (m) => m.domain],
  ['ptp.v2.minorsdoid', (m) => m.minorSdoId],
  ['ptp.v2.flags', (m) => flagsToBits(m.flags) | m.otherFlagBits],
  ['ptp.v2.flags.alternatemaster', (m) => m.flags.alternateMaster],
  ['ptp.v2.flags.twostep', (m) => m.flags.twoStep],
  ['ptp.v2.flags.unicast', (m) => m.flags.unicast],
  ['ptp.v2.flags.li61', (m) => m.flags.leap61],
  ['ptp.v2.flags.li59', (m) => m.flags.leap59],
  ['ptp.v2.flags.utcreasonable', (m) => m.flags.currentUtcOffsetValid],
  ['ptp.v2.flags.timescale', (m) => m.flags.ptpTimescale],
  ['ptp.v2.flags.timetraceable', (m) => m.flags.timeTraceable],
  ['ptp.v2.flags.frequencytraceable', (m) => m.flags.frequencyTraceable],
  // tshark shows the signed nanoseconds as an unsigned 64-bit field.
  ['ptp.v2.correction.ns', (m) => BigInt.asUintN(64, m.correction >> 16n)],
  // tshark prints this double with %.15g: compare to 12 places.
  ['ptp.v2.correction.subns', (m) => (Number(m.correction & 0xffffn) / 65536).toFixed(12)],
  ['ptp.v2.clockidentity', (m) => BigInt(`0x${m.sourcePortIdentity.clockIdentity}`)],
  ['ptp.v2.sourceportid', (m) => m.sourcePortIdentity.portNumber],
  ['ptp.v2.sequenceid', (m) => m.sequenceId],
  ['ptp.v2.controlfield', (m) => m.controlField],
  ['ptp.v2.logmessageperiod', (m) => m.logMessageInterval],
];

const sec = (t: bigint) => t / 1_000_000_000n;
const nsec = (t: bigint) => t % 1_000_000_000n;
const pid = (p: { clockIdentity: string }) => BigInt(`0x${p.clockIdentity}`);

const BY_TYPE: Record<PtpMessageType, [string, (m: any) => unknown][]> = {
  sync: [
    ['ptp.v2.sdr.origintimestamp.seconds', (m) => sec(m.originTimestamp)],
    ['ptp.v2.sdr.origintimestamp.nanoseconds', (m) => nsec(m.originTimestamp)],
  ],
  delayReq: [
    ['ptp.v2.sdr.origintimestamp.seconds', (m) => sec(m.originTimestamp)],
    ['ptp.v2.sdr.origintimestamp.nanoseconds', (m) => nsec(m.originTimestamp)],
  ],
  followUp: [
    ['ptp.v2.fu.preciseorigintimestamp.seconds', (m) => sec(m.preciseOriginTimestamp)],
    ['ptp.v2.fu.preciseorigintimestamp.nanoseconds', (m) => nsec(m.preciseOriginTimestamp)],
  ],
  delayResp: [
    ['ptp.v2.dr.receivetimestamp.seconds', (m) => sec(m.receiveTimestamp)],
    ['ptp.v2.dr.receivetimestamp.nanoseconds', (m) => nsec(m.receiveTimestamp)],
    ['ptp.v2.dr.requestingsourceportidentity', (m) => pid(m.requestingPortIdentity)],
    ['ptp.v2.dr.requestingsourceportid', (m) => m.requestingPortIdentity.portNumber],
  ],
  pdelayReq: [
    ['ptp.v2.pdrq.origintimestamp.seconds', (m) => sec(m.originTimestamp)],
    ['ptp.v2.pdrq.origintimestamp.nanoseconds', (m) => nsec(m.originTimestamp)],
  ],
  pdelayResp: [
    ['ptp.v2.pdrs.requestreceipttimestamp.seconds', (m) => sec(m.requestReceiptTimestamp)],
    ['ptp.v2.pdrs.requestreceipttimestamp.nanoseconds', (m) => nsec(m.requestReceiptTimestamp)],
    ['ptp.v2.pdrs.requestingportidentity', (m) => pid(m.requestingPortIdentity)],
    ['ptp.v2.pdrs.requestingsourceportid', (m) => m.requestingPortIdentity.portNumber],
  ],
  pdelayRespFollowUp: [
    ['ptp.v2.pdfu.responseorigintimestamp.seconds', (m) => sec(m.responseOriginTimestamp)],
    ['ptp.v2.pdfu.responseorigintimestamp.nanoseconds', (m) => nsec(m.responseOriginTimestamp)],
    ['ptp.v2.pdfu.requestingportidentity', (m) => pid(m.requestingPortIdentity)],
    ['ptp.v2.pdfu.requestingsourceportid', (m) => m.requestingPortIdentity.portNumber],
  ],
  announce: [
    ['ptp.v2.an.origintimestamp.seconds', (m) => sec(m.originTimestamp)],
    ['ptp.v2.an.origintimestamp.nanoseconds', (m) => nsec(m.originTimestamp)],
    ['ptp.v2.an.origincurrentutcoffset', (m) => m.currentUtcOffset],
    ['ptp.v2.an.priority1', (m) => m.grandmasterPriority1],
    ['ptp.v2.an.grandmasterclockclass', (m) => m.grandmasterClockQuality.clockClass],
    ['ptp.v2.an.grandmasterclockaccuracy', (m) => m.grandmasterClockQuality.clockAccuracy],
    ['ptp.v2.an.grandmasterclockvariance', (m) => m.grandmasterClockQuality.offsetScaledLogVariance],
    ['ptp.v2.an.priority2', (m) => m.grandmasterPriority2],
    ['ptp.v2.an.grandmasterclockidentity', (m) => pid({ clockIdentity: m.grandmasterIdentity })],
    ['ptp.v2.an.localstepsremoved', (m) => m.stepsRemoved],
    ['ptp.v2.timesource', (m) => m.timeSource],
    ['ptp.v2.an.tlvType', (m) => m.tlvs.map((t: { type: number }) => t.type)],
    ['ptp.v2.an.lengthField', (m) => m.tlvs.map((t: { value: Uint8Array }) => t.value.length)],
  ],
  signaling: [
    ['ptp.v2.sig.targetportidentity', (m) => pid(m.targetPortIdentity)],
    ['ptp.v2.sig.targetportid', (m) => m.targetPortIdentity.portNumber],
    ['ptp.v2.sig.tlv.tlvType', (m) => m.tlvs.map((t: { type: number }) => t.type)],
    ['ptp.v2.sig.tlv.lengthField', (m) => m.tlvs.map((t: { value: Uint8Array }) => t.value.length)],
  ],
  management: [
    ['ptp.v2.mm.targetportidentity', (m) => pid(m.targetPortIdentity)],
    ['ptp.v2.mm.targetportid', (m) => m.targetPortIdentity.portNumber],
    ['ptp.v2.mm.startingboundaryhops', (m) => m.startingBoundaryHops],
    ['ptp.v2.mm.boundaryhops', (m) => m.boundaryHops],
    ['ptp.v2.mm.action', (m) => m.actionField],
    ['ptp.v2.mm.tlvType', (m) => m.tlvs.map((t: { type: number }) => t.type)],
    ['ptp.v2.mm.lengthField', (m) => m.tlvs.map((t: { value: Uint8Array }) => t.value.length)],
  ],
};

const ALL_FIELDS = [...new Set([...COMMON, ...Object.values(BY_TYPE).flat()].map(([f]) => f))];

/** One spelling for both sides: decimal integers, booleans as 1/0, lists joined by ",". */
function norm(v: unknown): string {
  if (Array.isArray(v)) return v.map(norm).join(',');
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  const s = String(v);
  if (s === 'True') return '1';
  if (s === 'False') return '0';
  return s
    .split(',')
    .map((x) => (/^-?\d+$/.test(x) ? BigInt(x).toString() : /^0x[0-9a-f]+$/i.test(x) ? BigInt(x).toString() : x))
    .join(',');
}

/** Our view and tshark's of one message, as { field: value } over the fields its type has. */
function compareWithTshark(m: PtpMessage, row: Map<string, string>): void {
  const fields = [...COMMON, ...BY_TYPE[m.type]];
  const ours = Object.fromEntries(fields.map(([f, get]) => [f, norm(get(m))]));
  const theirs = Object.fromEntries(fields.map(([f]) => [f, f === 'ptp.v2.correction.subns' ? Number(row.get(f)).toFixed(12) : norm(row.get(f) ?? '')]));
  expect(ours).toEqual(theirs);
}

function tsharkRows(file: string, extra: string[] = []): Map<number, Map<string, string>> {
  const fields = ['frame.number', 'ptp.versionptp', ...ALL_FIELDS];
  const rows = tsharkFields(file, fields, ['-Y', 'ptp', ...extra], 'a');
  return new Map(rows.map((r) => [Number(r[0]), new Map(fields.map((f, i) => [f, r[i]]))]));
}

/** Every PTP payload in a capture (UDP 319/320 or Ethernet 0x88f7), by frame number. */
function ptpPayloads(file: string): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const decoder = new UdpDecoder();
  let n = 0;
  for (const f of new CaptureReader(file)) {
    n++;
    const d = decoder.decode(f);
    if (d && (d.destinationPort === PTP_EVENT_PORT || d.destinationPort === PTP_GENERAL_PORT)) out.set(n, d.payload);
    else if (!d && decoder.link.etherType === ETHERTYPE_PTP) out.set(n, f.data.subarray(decoder.link.payloadOffset));
  }
  return out;
}

describe('PTP codec against tshark', () => {
  it.skipIf(captures.length === 0).each(captures)('%s: every PTP packet gives tshark\'s fields; PTPv1 is reported unsupported', (file) => {
    const rows = tsharkRows(file);
    const payloads = ptpPayloads(file);
    expect([...payloads.keys()]).toEqual([...rows.keys()]);
    let v2 = 0;
    for (const [frame, payload] of payloads) {
      const row = rows.get(frame)!;
      const r = parsePtp(payload);
      if (row.get('ptp.versionptp') === '1') {
        expect(r).toMatchObject({ ok: false, reason: 'ptpv1' });
        continue;
      }
      if (!r.ok) throw new Error(`frame ${frame}: ${r.reason} (${r.detail})`);
      compareWithTshark(r.message, row);
      // Our bytes for it are the original bytes.
      expect(Buffer.from(serializePtp(r.message))).toEqual(Buffer.from(payload.subarray(0, r.message.messageLength)));
      v2++;
    }
    if (file.endsWith('ptpv1.pcap')) expect(v2).toBe(0);
    else expect(v2).toBeGreaterThan(0);
  });

  it('writes random messages of every type that tshark reads without complaint and with our fields', () => {
    // A Management message carries one MANAGEMENT TLV (§15.5.2); a GET of a data set has no data.
    const managementIds = [0x2000, 0x2001, 0x2002, 0x2003, 0x2004];
    const messages = fc
      .sample(ptpMessageArb({ withTlvs: false, sdo: false }), { numRuns: 300, seed: 1588 })
      .map((m, i): PtpMessage => {
        if (m.type !== 'management') return m;
        const id = managementIds[i % managementIds.length];
        return { ...m, actionField: 0, messageLength: 54, tlvs: [{ type: 0x0001, value: Uint8Array.of(id >> 8, id & 0xff) }] };
      });
    // TLVs tshark knows, so it dissects them rather than flagging unknown ones.
    const base = { ...ptpHeader('announce', { sourcePortIdentity: { clockIdentity: '001d7ffffe80024a', portNumber: 1 } }), sequenceId: 7, logMessageInterval: 1 };
    messages.push(
      {
        ...base,
        type: 'announce',
        flags: ptpFlags({ ptpTimescale: true, currentUtcOffsetValid: true }),
        originTimestamp: 0n,
        currentUtcOffset: 37,
        grandmasterPriority1: 128,
        grandmasterClockQuality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4e5d },
        grandmasterPriority2: 128,
        grandmasterIdentity: '001d7ffffe80024a',
        stepsRemoved: 0,
        timeSource: 0x20,
        tlvs: [{ type: 0x0008, value: Uint8Array.of(0x00, 0x1d, 0x7f, 0xff, 0xfe, 0x80, 0x02, 0x4a) }], // PATH_TRACE
      },
      {
        ...ptpHeader('management', { sourcePortIdentity: { clockIdentity: '0242acfffe110002', portNumber: 1 } }),
        type: 'management',
        targetPortIdentity: { clockIdentity: 'ffffffffffffffff', portNumber: 0xffff },
        startingBoundaryHops: 0,
        boundaryHops: 0,
        actionField: 0, // GET
        tlvs: [{ type: 0x0001, value: Uint8Array.of(0x20, 0x02) }], // MANAGEMENT, PARENT_DATA_SET
      },
    );
    withTempDir((dir) => {
      const file = path.join(dir, 'ptp.pcapng');
      writeUdpCapture(
        file,
        messages.map((m) => {
          const p = isEventMessage(m.type) ? PTP_EVENT_PORT : PTP_GENERAL_PORT;
          return { sourceIp: '10.67.120.1', destinationIp: '224.0.1.129', sourcePort: p, destinationPort: p, payload: serializePtp(m) };
        }),
      );
      // Two-step Sync without its Follow_Up, and the reverse, are expert notes about the
      // exchange, not about a message's bytes; everything else must be clean.
      const problems = tsharkProblems(file, ['-o', 'ptp.analyze_ptp_messages:FALSE']);
      expect(problems).toEqual([]);
      const rows = tsharkRows(file, ['-o', 'ptp.analyze_ptp_messages:FALSE']);
      expect(rows.size).toBe(messages.length);
      messages.forEach((m, i) => {
        const r = parsePtp(serializePtp(m));
        if (!r.ok) throw new Error(`message ${i}: ${r.reason}`);
        compareWithTshark(r.message, rows.get(i + 1)!);
      });
    });
  });
});

describe('PTP codec', () => {
  it('parses what it serializes, for every type, header field, flag and TLV', () => {
    fc.assert(
      fc.property(ptpMessageArb(), (m) => {
        const r = parsePtp(serializePtp(m));
        expect(r).toEqual({ ok: true, message: m });
      }),
      { numRuns: 2000 },
    );
  });

  const reasons: PtpParseError[] = ['truncated', 'ptpv1', 'unsupported-version', 'unknown-message-type', 'bad-length', 'bad-timestamp', 'bad-tlv'];

  it('never throws on arbitrary bytes: a message or a typed reason with a detail', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const r = parsePtp(bytes);
        if (r.ok) expect(r.message.messageLength).toBeLessThanOrEqual(bytes.length);
        else {
          expect(reasons).toContain(r.reason);
          expect(r.detail.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000 },
    );
    // Mutations of valid messages reach the deeper checks that random bytes rarely do.
    fc.assert(
      fc.property(ptpMessageArb(), fc.integer({ min: 0, max: 200 }), u8, fc.integer({ min: 0, max: 200 }), (m, at, value, cut) => {
        const b = serializePtp(m);
        if (at < b.length) b[at] = value;
        const r = parsePtp(b.subarray(0, Math.max(0, b.length - cut)));
        if (!r.ok) expect(reasons).toContain(r.reason);
      }),
      { numRuns: 3000 },
    );
  });

  it('names the reason for each kind of bad message', () => {
    const sync: PtpMessage = { ...ptpHeader('sync', { sourcePortIdentity: { clockIdentity: '0011223344556677', portNumber: 1 } }), type: 'sync', tlvs: [], originTimestamp: 5_000_000_001n };
    const good = serializePtp(sync);
    const reason = (b: Uint8Array) => {
      const r = parsePtp(b);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(good)).toBe('ok');
    for (let n = 0; n < good.length; n++) expect(reason(good.subarray(0, n))).toBe('truncated');
    const v1 = good.slice();
    v1[0] = 0x00;
    v1[1] = 0x01;
    expect(reason(v1)).toBe('ptpv1');
    const v3 = good.slice();
    v3[1] = 0x03;
    expect(reason(v3)).toBe('unsupported-version');
    const type5 = good.slice();
    type5[0] = 0x05;
    expect(reason(type5)).toBe('unknown-message-type');
    const short = good.slice();
    short[3] = 40;
    expect(reason(short)).toBe('bad-length');
    const ns = good.slice();
    new DataView(ns.buffer).setUint32(40, 1_000_000_000);
    expect(reason(ns)).toBe('bad-timestamp');
    const tlvOverrun = serializePtp({ ...sync, tlvs: [{ type: 3, value: new Uint8Array(6) }] });
    new DataView(tlvOverrun.buffer).setUint16(46, 7);
    expect(reason(tlvOverrun)).toBe('bad-tlv');
    const tlvStub = new Uint8Array(47);
    tlvStub.set(good);
    new DataView(tlvStub.buffer).setUint16(2, 47);
    expect(reason(tlvStub)).toBe('bad-tlv');
    // Bytes past messageLength (Ethernet padding) are not part of the message.
    const padded = new Uint8Array(60);
    padded.set(good);
    expect(parsePtp(padded)).toEqual({ ok: true, message: sync });
  });

  it('rejects fields out of range when serializing, naming the field', () => {
    const sync: PtpMessage = { ...ptpHeader('sync', { sourcePortIdentity: { clockIdentity: '0011223344556677', portNumber: 1 } }), type: 'sync', tlvs: [], originTimestamp: 0n };
    expect(() => serializePtp({ ...sync, domain: 256 })).toThrow(/domain/);
    expect(() => serializePtp({ ...sync, originTimestamp: -1n })).toThrow(/originTimestamp/);
    expect(() => serializePtp({ ...sync, sourcePortIdentity: { clockIdentity: 'xyz', portNumber: 1 } })).toThrow(/clockIdentity/);
  });

  it('derives and prints clock identities like ptp4l', () => {
    expect(clockIdentityFromMac('02:42:AC:11:00:02')).toBe('0242acfffe110002');
    expect(formatClockIdentity('0242acfffe110002')).toBe('0242ac.fffe.110002');
    expect(parseClockIdentity('0242ac.fffe.110002')).toBe('0242acfffe110002');
    expect(parseClockIdentity('0x0242ACFFFE110002')).toBe('0242acfffe110002');
    expect(parseClockIdentity('02-42-AC-FF-FE-11-00-02')).toBe('0242acfffe110002');
    expect(parseClockIdentity('0242ac')).toBeUndefined();
    expect(() => clockIdentityFromMac('02:42:ac')).toThrow(/MAC/);
  });
});
