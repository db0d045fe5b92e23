// The engine's PTP parser (through native) on every PTP packet of the real captures gives
// what Wireshark's tshark gives, field for field; PTPv1 is recognised and refused.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import type { NativePtpMessage } from '../ptp.ts';
import { openCapture } from '../../lab/net/pcap/reader.ts';
import { UdpDecoder } from '../../lab/net/pcap/udp.ts';
import { sharedCapturesDir } from '../../lab/net/pcap/shared-captures.ts';
import { tsharkFields } from '../../lab/net/tshark.ts';

const native = loadNative();
const ptpDir = path.join(sharedCapturesDir, 'ebu-list', 'ptp');
const files = existsSync(ptpDir) ? readdirSync(ptpDir).filter((f) => f.endsWith('.pcap')).map((f) => path.join(ptpDir, f)) : [];
const ETHERTYPE_PTP = 0x88f7;

/** PTP payloads of a capture by frame number: UDP 319/320 and Ethernet type 0x88F7 (the same message). */
function ptpPayloads(file: string): Map<number, Uint8Array> {
  const udp = new UdpDecoder();
  const out = new Map<number, Uint8Array>();
  for (const frame of openCapture(file)) {
    const d = udp.decode(frame);
    if (d && (d.destinationPort === 319 || d.destinationPort === 320)) out.set(frame.number, Uint8Array.from(d.payload));
    else if (!d && udp.link.etherType === ETHERTYPE_PTP) out.set(frame.number, Uint8Array.from(frame.data.subarray(udp.link.payloadOffset)));
  }
  return out;
}

// tshark field -> how to read the same thing from the engine's parse.
const ts = (t: { seconds: number; nanoseconds: number } | undefined, part: 'seconds' | 'nanoseconds') => t?.[part];
const FIELDS: [string, (m: NativePtpMessage) => string | number | undefined][] = [
  ['ptp.v2.messagetype', (m) => m.messageTypeValue],
  ['ptp.v2.versionptp', (m) => m.version],
  ['ptp.v2.minorversionptp', (m) => m.minorVersion],
  ['ptp.v2.messagelength', (m) => m.messageLength],
  ['ptp.v2.domainnumber', (m) => m.domain],
  ['ptp.v2.flags', (m) => m.flags],
  ['ptp.v2.flags.twostep', (m) => Number(m.flagBits.twoStep)],
  ['ptp.v2.flags.unicast', (m) => Number(m.flagBits.unicast)],
  ['ptp.v2.flags.li61', (m) => Number(m.flagBits.leap61)],
  ['ptp.v2.flags.li59', (m) => Number(m.flagBits.leap59)],
  ['ptp.v2.flags.utcreasonable', (m) => Number(m.flagBits.currentUtcOffsetValid)],
  ['ptp.v2.flags.timescale', (m) => Number(m.flagBits.ptpTimescale)],
  ['ptp.v2.correction.ns', (m) => Number(m.correction >> 16n)],
  ['ptp.v2.correction.subns', (m) => Number(m.correction & 0xffffn) / 65536],
  ['ptp.v2.clockidentity', (m) => m.sourcePortIdentity.clockIdentity],
  ['ptp.v2.sourceportid', (m) => m.sourcePortIdentity.portNumber],
  ['ptp.v2.sequenceid', (m) => m.sequenceId],
  ['ptp.v2.controlfield', (m) => m.control],
  ['ptp.v2.logmessageperiod', (m) => m.logMessageInterval],
  ['ptp.v2.sdr.origintimestamp.seconds', (m) => (m.messageType === 'sync' || m.messageType === 'delay-req' ? ts(m.originTimestamp, 'seconds') : undefined)],
  ['ptp.v2.sdr.origintimestamp.nanoseconds', (m) => (m.messageType === 'sync' || m.messageType === 'delay-req' ? ts(m.originTimestamp, 'nanoseconds') : undefined)],
  ['ptp.v2.fu.preciseorigintimestamp.seconds', (m) => ts(m.preciseOriginTimestamp, 'seconds')],
  ['ptp.v2.fu.preciseorigintimestamp.nanoseconds', (m) => ts(m.preciseOriginTimestamp, 'nanoseconds')],
  ['ptp.v2.dr.receivetimestamp.seconds', (m) => ts(m.receiveTimestamp, 'seconds')],
  ['ptp.v2.dr.receivetimestamp.nanoseconds', (m) => ts(m.receiveTimestamp, 'nanoseconds')],
  ['ptp.v2.dr.requestingsourceportidentity', (m) => (m.messageType === 'delay-resp' ? m.requestingPortIdentity?.clockIdentity : undefined)],
  ['ptp.v2.dr.requestingsourceportid', (m) => (m.messageType === 'delay-resp' ? m.requestingPortIdentity?.portNumber : undefined)],
  ['ptp.v2.pdrq.origintimestamp.seconds', (m) => (m.messageType === 'pdelay-req' ? ts(m.originTimestamp, 'seconds') : undefined)],
  ['ptp.v2.pdrq.origintimestamp.nanoseconds', (m) => (m.messageType === 'pdelay-req' ? ts(m.originTimestamp, 'nanoseconds') : undefined)],
  ['ptp.v2.pdrs.requestreceipttimestamp.seconds', (m) => ts(m.requestReceiptTimestamp, 'seconds')],
  ['ptp.v2.pdrs.requestingportidentity', (m) => (m.messageType === 'pdelay-resp' ? m.requestingPortIdentity?.clockIdentity : undefined)],
  ['ptp.v2.pdfu.responseorigintimestamp.seconds', (m) => ts(m.responseOriginTimestamp, 'seconds')],
  ['ptp.v2.an.origintimestamp.seconds', (m) => (m.messageType === 'announce' ? ts(m.originTimestamp, 'seconds') : undefined)],
  ['ptp.v2.an.origintimestamp.nanoseconds', (m) => (m.messageType === 'announce' ? ts(m.originTimestamp, 'nanoseconds') : undefined)],
  ['ptp.v2.an.origincurrentutcoffset', (m) => m.announce?.currentUtcOffset],
  ['ptp.v2.an.priority1', (m) => m.announce?.grandmasterPriority1],
  ['ptp.v2.an.grandmasterclockclass', (m) => m.announce?.grandmasterClockClass],
  ['ptp.v2.an.grandmasterclockaccuracy', (m) => m.announce?.grandmasterClockAccuracy],
  ['ptp.v2.an.grandmasterclockvariance', (m) => m.announce?.grandmasterClockVariance],
  ['ptp.v2.an.priority2', (m) => m.announce?.grandmasterPriority2],
  ['ptp.v2.an.grandmasterclockidentity', (m) => m.announce?.grandmasterIdentity],
  ['ptp.v2.an.localstepsremoved', (m) => m.announce?.stepsRemoved],
  ['ptp.v2.timesource', (m) => m.announce?.timeSource],
  ['ptp.v2.sig.targetportidentity', (m) => (m.messageType === 'signaling' ? m.targetPortIdentity?.clockIdentity : undefined)],
  ['ptp.v2.sig.targetportid', (m) => (m.messageType === 'signaling' ? m.targetPortIdentity?.portNumber : undefined)],
  ['ptp.v2.mm.targetportidentity', (m) => (m.messageType === 'management' ? m.targetPortIdentity?.clockIdentity : undefined)],
  ['ptp.v2.mm.action', (m) => m.management?.actionField],
];

/** tshark prints numbers in decimal or 0x-hex and identities as 0x + 16 hex digits. */
function normalise(field: string, value: string): string | number | undefined {
  if (value === '') return undefined;
  if (/identity$/.test(field)) return value;
  return Number(value);
}

function tsharkPtpRows(file: string, fields: string[]): Map<number, (string | number | undefined)[]> {
  const rows = tsharkFields(file, ['frame.number', ...fields], ['-Y', 'ptp']);
  return new Map(rows.map((r) => [Number(r[0]), fields.map((f, i) => normalise(f, r[i + 1]))]));
}

describe.skipIf(files.length === 0)('engine PTP parser on the PTP captures (../shared/captures/ebu-list/ptp)', () => {
  it.each(files.filter((f) => !f.endsWith('ptpv1.pcap')).map((f) => [path.basename(f), f]))('%s: every PTP packet matches tshark', (_name, file) => {
    const payloads = ptpPayloads(file);
    const shark = tsharkPtpRows(file, FIELDS.map(([f]) => f));
    expect([...payloads.keys()], 'the same frames are PTP to both').toEqual([...shark.keys()]);
    expect(payloads.size).toBeGreaterThan(0);
    const types = new Set<string>();
    for (const [frame, payload] of payloads) {
      const m = native.parsePtp(payload);
      if (m.error !== undefined) throw new Error(`frame ${frame}: engine says ${m.error}`);
      types.add(m.messageType);
      const ours = FIELDS.map(([, get]) => get(m));
      const theirs = shark.get(frame)!;
      // tshark leaves a field empty where its dissector does not show it (e.g. TLV-only
      // parts): compare every field tshark printed.
      const compared = FIELDS.map(([f], i) => [f, theirs[i] === undefined ? undefined : ours[i]]);
      expect(compared, `frame ${frame}`).toEqual(FIELDS.map(([f], i) => [f, theirs[i]]));
      // And nothing the engine reads that tshark does not.
      FIELDS.forEach(([f], i) => expect(ours[i] === undefined || theirs[i] !== undefined, `frame ${frame}: ${f} only in the engine`).toBe(true));
    }
    console.log(`${path.basename(file)}: ${payloads.size} PTP packets (${[...types].join(', ')}) equal tshark`);
  });

  it.skipIf(!files.some((f) => f.endsWith('ptpv1.pcap')))('ptpv1.pcap: every packet is recognised as PTPv1 and refused, never misread', () => {
    const file = path.join(ptpDir, 'ptpv1.pcap');
    const payloads = ptpPayloads(file);
    const versions = tsharkFields(file, ['frame.number', 'ptp.versionptp'], ['-Y', 'ptp']);
    expect([...payloads.keys()]).toEqual(versions.map((r) => Number(r[0])));
    for (const [frame, payload] of payloads) {
      expect(versions.find((r) => Number(r[0]) === frame)?.[1], 'tshark: version 1').toBe('1');
      expect(native.parsePtp(payload), `frame ${frame}`).toEqual({ error: 'ptpv1-unsupported', version: 1 });
    }
  });
});
