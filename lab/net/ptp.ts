// PTPv2 (IEEE 1588-2008 §13) messages: parse and serialize. The lab's own codec, written
// from the standard and checked against tshark and against the engine's C++ codec, so each
// finds the other's mistakes. Times are bigint nanoseconds (a PTP timestamp is 48-bit
// seconds + 32-bit nanoseconds: more than a double holds exactly). Parsing never throws:
// bad bytes from the network give a typed reason; serializing checks its fields and throws
// RangeError, since a bad field there is the caller's bug.

export const PTP_EVENT_PORT = 319;
export const PTP_GENERAL_PORT = 320;
/** IEEE 1588 Annex D: all non-peer-delay messages. */
export const PTP_PRIMARY_GROUP = '224.0.1.129';
/** IEEE 1588 Annex D: peer-delay messages. */
export const PTP_PDELAY_GROUP = '224.0.0.107';
export const ETHERTYPE_PTP = 0x88f7;

export const PTP_MESSAGE_TYPE_CODES = {
  sync: 0x0,
  delayReq: 0x1,
  pdelayReq: 0x2,
  pdelayResp: 0x3,
  followUp: 0x8,
  delayResp: 0x9,
  pdelayRespFollowUp: 0xa,
  announce: 0xb,
  signaling: 0xc,
  management: 0xd,
} as const;

export type PtpMessageType = keyof typeof PTP_MESSAGE_TYPE_CODES;

const TYPE_OF_CODE = new Map<number, PtpMessageType>(Object.entries(PTP_MESSAGE_TYPE_CODES).map(([k, v]) => [v, k as PtpMessageType]));

/** Event messages travel on port 319 and are time-stamped; the rest on 320. */
export function isEventMessage(type: PtpMessageType): boolean {
  return PTP_MESSAGE_TYPE_CODES[type] < 0x8;
}

/** The fixed length of each message type (header + body, before any TLV). */
export const PTP_FIXED_LENGTH: Record<PtpMessageType, number> = {
  sync: 44,
  delayReq: 44,
  pdelayReq: 54,
  pdelayResp: 54,
  followUp: 44,
  delayResp: 54,
  pdelayRespFollowUp: 54,
  announce: 64,
  signaling: 44,
  management: 48,
};

/** controlField (Table 23): kept for PTPv1 hardware; 5 for every other type. */
const CONTROL_FIELD: Partial<Record<PtpMessageType, number>> = { sync: 0, delayReq: 1, followUp: 2, delayResp: 3, management: 4 };

export function controlFieldOf(type: PtpMessageType): number {
  return CONTROL_FIELD[type] ?? 5;
}

/** logMessageInterval of messages that have none (Delay_Req, Signaling, Management: Table 24). */
export const LOG_INTERVAL_NONE = 0x7f;

/** flagField (Table 20). Octet 0 is the high byte of `raw`. */
export interface PtpFlags {
  alternateMaster: boolean;
  twoStep: boolean;
  unicast: boolean;
  profileSpecific1: boolean;
  profileSpecific2: boolean;
  /** Reserved in 2008; the security flag in 1588-2019. */
  security: boolean;
  leap61: boolean;
  leap59: boolean;
  currentUtcOffsetValid: boolean;
  ptpTimescale: boolean;
  timeTraceable: boolean;
  frequencyTraceable: boolean;
  /** 1588-2019; reserved in 2008. */
  synchronizationUncertain: boolean;
}

const FLAG_BITS: [keyof PtpFlags, number][] = [
  ['alternateMaster', 0x0100],
  ['twoStep', 0x0200],
  ['unicast', 0x0400],
  ['profileSpecific1', 0x2000],
  ['profileSpecific2', 0x4000],
  ['security', 0x8000],
  ['leap61', 0x0001],
  ['leap59', 0x0002],
  ['currentUtcOffsetValid', 0x0004],
  ['ptpTimescale', 0x0008],
  ['timeTraceable', 0x0010],
  ['frequencyTraceable', 0x0020],
  ['synchronizationUncertain', 0x0040],
];
const KNOWN_FLAG_MASK = FLAG_BITS.reduce((m, [, bit]) => m | bit, 0);

export function flagsFromBits(raw: number): PtpFlags {
  const f = {} as PtpFlags;
  for (const [name, bit] of FLAG_BITS) f[name] = (raw & bit) !== 0;
  return f;
}

export function flagsToBits(flags: Partial<PtpFlags>): number {
  let raw = 0;
  for (const [name, bit] of FLAG_BITS) if (flags[name]) raw |= bit;
  return raw;
}

export function ptpFlags(set: Partial<PtpFlags> = {}): PtpFlags {
  return flagsFromBits(flagsToBits(set));
}

/** A clock identity (EUI-64) as 16 lower-case hex digits, and a port on that clock. */
export interface PortIdentity {
  clockIdentity: string;
  portNumber: number;
}

export interface PtpHeader {
  /** transportSpecific in 2008 (1 = 802.1AS), majorSdoId in 2019. */
  majorSdoId: number;
  version: 2;
  minorVersion: number;
  /** As the message says; serialize writes the real length. */
  messageLength: number;
  domain: number;
  minorSdoId: number;
  flags: PtpFlags;
  /** Flag bits this codec does not name, kept so a message survives a round trip. */
  otherFlagBits: number;
  /** correctionField: nanoseconds x 2^16, signed. */
  correction: bigint;
  messageTypeSpecific: number;
  sourcePortIdentity: PortIdentity;
  sequenceId: number;
  controlField: number;
  /** Signed log2 seconds; 0x7f (127) where the message has no interval. */
  logMessageInterval: number;
}

export interface PtpTlv {
  type: number;
  value: Uint8Array;
}

export interface ClockQuality {
  clockClass: number;
  clockAccuracy: number;
  offsetScaledLogVariance: number;
}

interface Base<T extends PtpMessageType> extends PtpHeader {
  type: T;
  /** TLVs after the fixed part (Announce path trace, Signaling, Management, 802.1AS...). */
  tlvs: PtpTlv[];
}

export interface SyncMessage extends Base<'sync'> {
  originTimestamp: bigint;
}
export interface DelayReqMessage extends Base<'delayReq'> {
  originTimestamp: bigint;
}
export interface FollowUpMessage extends Base<'followUp'> {
  preciseOriginTimestamp: bigint;
}
export interface DelayRespMessage extends Base<'delayResp'> {
  receiveTimestamp: bigint;
  requestingPortIdentity: PortIdentity;
}
export interface PdelayReqMessage extends Base<'pdelayReq'> {
  originTimestamp: bigint;
}
export interface PdelayRespMessage extends Base<'pdelayResp'> {
  requestReceiptTimestamp: bigint;
  requestingPortIdentity: PortIdentity;
}
export interface PdelayRespFollowUpMessage extends Base<'pdelayRespFollowUp'> {
  responseOriginTimestamp: bigint;
  requestingPortIdentity: PortIdentity;
}
export interface AnnounceMessage extends Base<'announce'> {
  originTimestamp: bigint;
  currentUtcOffset: number;
  grandmasterPriority1: number;
  grandmasterClockQuality: ClockQuality;
  grandmasterPriority2: number;
  grandmasterIdentity: string;
  stepsRemoved: number;
  timeSource: number;
}
export interface SignalingMessage extends Base<'signaling'> {
  targetPortIdentity: PortIdentity;
}
export interface ManagementMessage extends Base<'management'> {
  targetPortIdentity: PortIdentity;
  startingBoundaryHops: number;
  boundaryHops: number;
  /** GET 0, SET 1, RESPONSE 2, COMMAND 3, ACKNOWLEDGE 4. */
  actionField: number;
}

export type PtpMessage =
  | SyncMessage
  | DelayReqMessage
  | FollowUpMessage
  | DelayRespMessage
  | PdelayReqMessage
  | PdelayRespMessage
  | PdelayRespFollowUpMessage
  | AnnounceMessage
  | SignalingMessage
  | ManagementMessage;

export type PtpParseError =
  /** Shorter than its header, its messageLength or its type's fixed part. */
  | 'truncated'
  /** IEEE 1588-2002: a different format this lab does not decode. */
  | 'ptpv1'
  /** versionPTP other than 1 or 2. */
  | 'unsupported-version'
  /** messageType 4-7, e-f. */
  | 'unknown-message-type'
  /** messageLength shorter than the fixed part of its type. */
  | 'bad-length'
  /** A timestamp's nanoseconds field is 10^9 or more. */
  | 'bad-timestamp'
  /** The bytes after the fixed part are not whole TLVs. */
  | 'bad-tlv';

export type PtpParseResult = { ok: true; message: PtpMessage } | { ok: false; reason: PtpParseError; detail: string };

const fail = (reason: PtpParseError, detail: string): { ok: false; reason: PtpParseError; detail: string } => ({ ok: false, reason, detail });

export const PTP_HEADER_LENGTH = 34;
const NS_PER_S = 1_000_000_000n;

/** The version of a PTP message without parsing it (low nibble of octet 1, both versions). */
export function ptpVersionOf(b: Uint8Array): number | undefined {
  return b.length >= 2 ? b[1] & 0x0f : undefined;
}

function hex(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += b[at + i].toString(16).padStart(2, '0');
  return s;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u48(b: Uint8Array, at: number): bigint {
  return (BigInt(u16(b, at)) << 32n) | BigInt(((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function portIdentity(b: Uint8Array, at: number): PortIdentity {
  return { clockIdentity: hex(b, at, 8), portNumber: u16(b, at + 8) };
}

/** A Timestamp (§5.3.3) at `at` as nanoseconds, or null when its nanoseconds are out of range. */
function timestamp(b: Uint8Array, at: number): bigint | null {
  const ns = u32(b, at + 6);
  if (ns >= 1_000_000_000) return null;
  return u48(b, at) * NS_PER_S + BigInt(ns);
}

export type PtpHeaderResult = { ok: true; header: PtpHeader; messageType: number } | { ok: false; reason: PtpParseError; detail: string };

/**
 * The common header alone (versions checked, message type left as its 4-bit code), for
 * readers that look at every message whatever its body holds.
 */
export function parsePtpHeader(b: Uint8Array): PtpHeaderResult {
  if (b.length < 2) return fail('truncated', `${b.length} bytes is shorter than the version field`);
  const version = b[1] & 0x0f;
  if (version === 1) return fail('ptpv1', 'IEEE 1588-2002 (PTPv1) message');
  if (version !== 2) return fail('unsupported-version', `versionPTP ${version}`);
  if (b.length < PTP_HEADER_LENGTH) return fail('truncated', `${b.length} bytes is shorter than the 34-byte header`);
  const rawFlags = u16(b, 6);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const header: PtpHeader = {
    majorSdoId: b[0] >> 4,
    version: 2,
    minorVersion: b[1] >> 4,
    messageLength: u16(b, 2),
    domain: b[4],
    minorSdoId: b[5],
    flags: flagsFromBits(rawFlags),
    otherFlagBits: rawFlags & ~KNOWN_FLAG_MASK,
    correction: view.getBigInt64(8),
    messageTypeSpecific: u32(b, 16),
    sourcePortIdentity: portIdentity(b, 20),
    sequenceId: u16(b, 30),
    controlField: b[32],
    logMessageInterval: view.getInt8(33),
  };
  return { ok: true, header, messageType: b[0] & 0x0f };
}

/** Parses one PTPv2 message from a UDP payload or an Ethernet (0x88f7) payload. */
export function parsePtp(b: Uint8Array): PtpParseResult {
  const h = parsePtpHeader(b);
  if (!h.ok) return h;
  const { header, messageType: code } = h;
  const type = TYPE_OF_CODE.get(code);
  if (!type) return fail('unknown-message-type', `messageType 0x${code.toString(16)}`);
  const messageLength = header.messageLength;
  const fixed = PTP_FIXED_LENGTH[type];
  if (messageLength < fixed) return fail('bad-length', `messageLength ${messageLength} is shorter than ${type}'s ${fixed} bytes`);
  if (b.length < messageLength) return fail('truncated', `${b.length} bytes for messageLength ${messageLength}`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // TLVs fill the rest of messageLength; bytes past it (Ethernet padding) are not the message's.
  const tlvs: PtpTlv[] = [];
  for (let p = fixed; p < messageLength; ) {
    if (messageLength - p < 4) return fail('bad-tlv', `${messageLength - p} bytes after the last TLV`);
    const length = u16(b, p + 2);
    if (p + 4 + length > messageLength) return fail('bad-tlv', `TLV 0x${u16(b, p).toString(16)} of ${length} bytes runs past messageLength`);
    tlvs.push({ type: u16(b, p), value: b.slice(p + 4, p + 4 + length) });
    p += 4 + length;
  }
  const ts = (at: number, field: string): bigint | PtpParseResult => timestamp(b, at) ?? fail('bad-timestamp', `${type} ${field} nanoseconds ${u32(b, at + 6)} >= 10^9`);
  const isFail = (x: bigint | PtpParseResult): x is PtpParseResult => typeof x !== 'bigint';
  const t34 = ts(34, type === 'followUp' ? 'preciseOriginTimestamp' : type === 'delayResp' ? 'receiveTimestamp' : 'originTimestamp');
  const withTs = type !== 'signaling' && type !== 'management';
  if (withTs && isFail(t34)) return t34;
  const t = t34 as bigint;
  let message: PtpMessage;
  switch (type) {
    case 'sync':
    case 'delayReq':
    case 'pdelayReq':
      message = { ...header, type, tlvs, originTimestamp: t } as SyncMessage | DelayReqMessage | PdelayReqMessage;
      break;
    case 'followUp':
      message = { ...header, type, tlvs, preciseOriginTimestamp: t };
      break;
    case 'delayResp':
      message = { ...header, type, tlvs, receiveTimestamp: t, requestingPortIdentity: portIdentity(b, 44) };
      break;
    case 'pdelayResp':
      message = { ...header, type, tlvs, requestReceiptTimestamp: t, requestingPortIdentity: portIdentity(b, 44) };
      break;
    case 'pdelayRespFollowUp':
      message = { ...header, type, tlvs, responseOriginTimestamp: t, requestingPortIdentity: portIdentity(b, 44) };
      break;
    case 'announce':
      message = {
        ...header,
        type,
        tlvs,
        originTimestamp: t,
        currentUtcOffset: view.getInt16(44),
        grandmasterPriority1: b[47],
        grandmasterClockQuality: { clockClass: b[48], clockAccuracy: b[49], offsetScaledLogVariance: u16(b, 50) },
        grandmasterPriority2: b[52],
        grandmasterIdentity: hex(b, 53, 8),
        stepsRemoved: u16(b, 61),
        timeSource: b[63],
      };
      break;
    case 'signaling':
      message = { ...header, type, tlvs, targetPortIdentity: portIdentity(b, 34) };
      break;
    case 'management':
      message = { ...header, type, tlvs, targetPortIdentity: portIdentity(b, 34), startingBoundaryHops: b[44], boundaryHops: b[45], actionField: b[46] & 0x0f };
      break;
  }
  return { ok: true, message };
}

function check(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`PTP ${name} must be an integer ${min}..${max}, got ${v}`);
}

const CLOCK_IDENTITY = /^[0-9a-f]{16}$/;

function writePortIdentity(out: Uint8Array, at: number, p: PortIdentity, name: string): void {
  if (!CLOCK_IDENTITY.test(p.clockIdentity)) throw new RangeError(`PTP ${name}.clockIdentity must be 16 lower-case hex digits, got "${p.clockIdentity}"`);
  for (let i = 0; i < 8; i++) out[at + i] = parseInt(p.clockIdentity.slice(2 * i, 2 * i + 2), 16);
  check(`${name}.portNumber`, p.portNumber, 0, 0xffff);
  out[at + 8] = p.portNumber >> 8;
  out[at + 9] = p.portNumber & 0xff;
}

const MAX_TIMESTAMP = (1n << 48n) * NS_PER_S - 1n;

function writeTimestamp(view: DataView, at: number, ns: bigint, name: string): void {
  if (typeof ns !== 'bigint' || ns < 0n || ns > MAX_TIMESTAMP) throw new RangeError(`PTP ${name} must be a bigint 0..2^48 s in nanoseconds, got ${ns}`);
  const s = ns / NS_PER_S;
  view.setUint16(at, Number(s >> 32n));
  view.setUint32(at + 2, Number(s & 0xffffffffn));
  view.setUint32(at + 6, Number(ns % NS_PER_S));
}

/** The message's bytes; messageLength is computed from its type and TLVs. */
export function serializePtp(m: PtpMessage): Uint8Array {
  const code = PTP_MESSAGE_TYPE_CODES[m.type];
  if (code === undefined) throw new RangeError(`PTP message type "${m.type}" is not one this codec writes`);
  const fixed = PTP_FIXED_LENGTH[m.type];
  const length = fixed + m.tlvs.reduce((n, t) => n + 4 + t.value.length, 0);
  if (length > 0xffff) throw new RangeError(`PTP message of ${length} bytes exceeds messageLength's 65535`);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  check('majorSdoId', m.majorSdoId, 0, 15);
  check('minorVersion', m.minorVersion, 0, 15);
  check('domain', m.domain, 0, 255);
  check('minorSdoId', m.minorSdoId, 0, 255);
  check('otherFlagBits', m.otherFlagBits, 0, 0xffff);
  check('messageTypeSpecific', m.messageTypeSpecific, 0, 0xffffffff);
  check('sequenceId', m.sequenceId, 0, 0xffff);
  check('controlField', m.controlField, 0, 255);
  check('logMessageInterval', m.logMessageInterval, -128, 127);
  if (typeof m.correction !== 'bigint' || m.correction < -(1n << 63n) || m.correction >= 1n << 63n) throw new RangeError(`PTP correction must be a signed 64-bit bigint, got ${m.correction}`);
  out[0] = (m.majorSdoId << 4) | code;
  out[1] = (m.minorVersion << 4) | 2;
  view.setUint16(2, length);
  out[4] = m.domain;
  out[5] = m.minorSdoId;
  view.setUint16(6, (flagsToBits(m.flags) | m.otherFlagBits) & 0xffff);
  view.setBigInt64(8, m.correction);
  view.setUint32(16, m.messageTypeSpecific);
  writePortIdentity(out, 20, m.sourcePortIdentity, 'sourcePortIdentity');
  view.setUint16(30, m.sequenceId);
  out[32] = m.controlField;
  view.setInt8(33, m.logMessageInterval);
  switch (m.type) {
    case 'sync':
    case 'delayReq':
    case 'pdelayReq':
      writeTimestamp(view, 34, m.originTimestamp, 'originTimestamp');
      break;
    case 'followUp':
      writeTimestamp(view, 34, m.preciseOriginTimestamp, 'preciseOriginTimestamp');
      break;
    case 'delayResp':
      writeTimestamp(view, 34, m.receiveTimestamp, 'receiveTimestamp');
      writePortIdentity(out, 44, m.requestingPortIdentity, 'requestingPortIdentity');
      break;
    case 'pdelayResp':
      writeTimestamp(view, 34, m.requestReceiptTimestamp, 'requestReceiptTimestamp');
      writePortIdentity(out, 44, m.requestingPortIdentity, 'requestingPortIdentity');
      break;
    case 'pdelayRespFollowUp':
      writeTimestamp(view, 34, m.responseOriginTimestamp, 'responseOriginTimestamp');
      writePortIdentity(out, 44, m.requestingPortIdentity, 'requestingPortIdentity');
      break;
    case 'announce': {
      writeTimestamp(view, 34, m.originTimestamp, 'originTimestamp');
      check('currentUtcOffset', m.currentUtcOffset, -32768, 32767);
      view.setInt16(44, m.currentUtcOffset);
      check('grandmasterPriority1', m.grandmasterPriority1, 0, 255);
      out[47] = m.grandmasterPriority1;
      const q = m.grandmasterClockQuality;
      check('clockClass', q.clockClass, 0, 255);
      check('clockAccuracy', q.clockAccuracy, 0, 255);
      check('offsetScaledLogVariance', q.offsetScaledLogVariance, 0, 0xffff);
      out[48] = q.clockClass;
      out[49] = q.clockAccuracy;
      view.setUint16(50, q.offsetScaledLogVariance);
      check('grandmasterPriority2', m.grandmasterPriority2, 0, 255);
      out[52] = m.grandmasterPriority2;
      writePortIdentity(out, 53, { clockIdentity: m.grandmasterIdentity, portNumber: 0 }, 'grandmasterIdentity');
      check('stepsRemoved', m.stepsRemoved, 0, 0xffff);
      view.setUint16(61, m.stepsRemoved);
      check('timeSource', m.timeSource, 0, 255);
      out[63] = m.timeSource;
      break;
    }
    case 'signaling':
      writePortIdentity(out, 34, m.targetPortIdentity, 'targetPortIdentity');
      break;
    case 'management':
      writePortIdentity(out, 34, m.targetPortIdentity, 'targetPortIdentity');
      check('startingBoundaryHops', m.startingBoundaryHops, 0, 255);
      check('boundaryHops', m.boundaryHops, 0, 255);
      check('actionField', m.actionField, 0, 15);
      out[44] = m.startingBoundaryHops;
      out[45] = m.boundaryHops;
      out[46] = m.actionField;
      break;
  }
  let p = fixed;
  for (const t of m.tlvs) {
    check('tlv.type', t.type, 0, 0xffff);
    view.setUint16(p, t.type);
    view.setUint16(p + 2, t.value.length);
    out.set(t.value, p + 4);
    p += 4 + t.value.length;
  }
  return out;
}

/**
 * Rewrites the timestamp at offset 34 (origin, preciseOrigin, receive...) of serialized
 * message bytes in place: a sender serializes first and stamps last, just before send().
 */
export function patchPtpTimestamp(bytes: Uint8Array, ns: bigint): void {
  if (bytes.length < 44) throw new RangeError(`PTP message of ${bytes.length} bytes has no timestamp at offset 34`);
  writeTimestamp(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 34, ns, 'timestamp');
}

/** A header with the defaults of a message of `type`; override what the message needs. */
export function ptpHeader(type: PtpMessageType, fields: Partial<PtpHeader> & Pick<PtpHeader, 'sourcePortIdentity'>): PtpHeader {
  return {
    majorSdoId: 0,
    version: 2,
    minorVersion: 0,
    messageLength: PTP_FIXED_LENGTH[type],
    domain: 0,
    minorSdoId: 0,
    flags: ptpFlags(),
    otherFlagBits: 0,
    correction: 0n,
    messageTypeSpecific: 0,
    sequenceId: 0,
    controlField: controlFieldOf(type),
    logMessageInterval: LOG_INTERVAL_NONE,
    ...fields,
  };
}

/** "xxxxxx.xxxx.xxxxxx": how ptp4l and pmc print a clock identity. */
export function formatClockIdentity(id: string): string {
  return `${id.slice(0, 6)}.${id.slice(6, 10)}.${id.slice(10, 16)}`;
}

/** "xxxxxx.xxxx.xxxxxx-N": how ptp4l prints a port identity. */
export function formatPortIdentity(p: PortIdentity): string {
  return `${formatClockIdentity(p.clockIdentity)}-${p.portNumber}`;
}

/** Accepts ptp4l's form, "0x" + 16 hex digits (tshark), an EUI-64 with - or :, or plain hex. */
export function parseClockIdentity(text: string): string | undefined {
  const h = text.trim().toLowerCase().replace(/^0x/, '').replace(/[.:-]/g, '');
  return CLOCK_IDENTITY.test(h) ? h : undefined;
}

/**
 * EUI-64 clock identity from a 48-bit MAC (IEEE 1588-2008 §7.5.2.2.2): the OUI, ff fe, then
 * the rest, as ptp4l derives it from an interface's address.
 */
export function clockIdentityFromMac(mac: string): string {
  const b = mac.toLowerCase().split(/[:-]/);
  if (b.length !== 6 || b.some((x) => !/^[0-9a-f]{1,2}$/.test(x))) throw new RangeError(`"${mac}" is not a MAC address (6 hex octets)`);
  const o = b.map((x) => x.padStart(2, '0'));
  return [...o.slice(0, 3), 'ff', 'fe', ...o.slice(3)].join('');
}

/** 2^log seconds in nanoseconds. */
export function logIntervalNs(log: number): number {
  return 1e9 * 2 ** log;
}

/** Nanoseconds of correctionField (it carries nanoseconds x 2^16), rounded toward minus infinity. */
export function correctionNs(correction: bigint): bigint {
  return correction >> 16n;
}
