// SAP (RFC 2974) announcement packets. Dante announces to 239.255.255.255:9875, not RFC
// 2974's 224.2.127.254 (FIELD-NOTES "Dante in AES67 mode", Discovery).
import { deflateSync, inflateSync } from 'node:zlib';

export const SAP_PORT = 9875;
export const SAP_GROUP_DANTE = '239.255.255.255';
export const SAP_GROUP_RFC2974 = '224.2.127.254';
/** Decompressed SAP payloads beyond this are refused: a UDP datagram cannot need more. */
const MAX_DECOMPRESSED_BYTES = 65536;

export interface SapPacket {
  version: number;
  messageType: 'announce' | 'delete';
  encrypted: boolean;
  compressed: boolean;
  msgIdHash: number;
  /** Originating source address (IPv4 dotted, or IPv6 as 8 hex groups). */
  origin: string;
  /** MIME type of the payload; "application/sdp" when the packet omits it (RFC 2974 §5). */
  payloadType: string;
  /** The SDP text; empty when the payload is encrypted (it cannot be read). */
  sdp: string;
}

export type SapParseErrorReason = 'truncated' | 'bad-version' | 'decompress-failed' | 'bad-payload-type';

export class SapParseError extends Error {
  constructor(
    readonly reason: SapParseErrorReason,
    message: string,
  ) {
    super(`SAP ${reason}: ${message}`);
    this.name = 'SapParseError';
  }
}

export function parseSap(buf: Uint8Array): SapPacket {
  if (buf.length < 4) throw new SapParseError('truncated', `${buf.length} bytes, the header needs 4`);
  const b0 = buf[0];
  const version = b0 >> 5;
  if (version !== 1) throw new SapParseError('bad-version', `version ${version}, expected 1`);
  const ipv6 = (b0 & 0x10) !== 0;
  const messageType = b0 & 0x04 ? 'delete' : 'announce';
  const encrypted = (b0 & 0x02) !== 0;
  const compressed = (b0 & 0x01) !== 0;
  const authBytes = buf[1] * 4;
  const msgIdHash = (buf[2] << 8) | buf[3];
  const originBytes = ipv6 ? 16 : 4;
  const payloadStart = 4 + originBytes + authBytes;
  if (payloadStart > buf.length) {
    throw new SapParseError('truncated', `origin and ${authBytes} bytes of authentication data end at ${payloadStart}, have ${buf.length}`);
  }
  const originRaw = buf.subarray(4, 4 + originBytes);
  const origin = ipv6 ? formatIpv6(originRaw) : Array.from(originRaw).join('.');
  const base = { version, messageType, encrypted, compressed, msgIdHash, origin } as const;
  if (encrypted) return { ...base, payloadType: '', sdp: '' };

  let payload = buf.subarray(payloadStart);
  if (compressed) {
    try {
      payload = inflateSync(payload, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch (e) {
      throw new SapParseError('decompress-failed', `zlib: ${(e as Error).message}`);
    }
  }
  let payloadType = 'application/sdp';
  let sdpStart = 0;
  // RFC 2974 §5: the payload type is optional; an SDP starting "v=0" means it is absent.
  if (!(payload[0] === 0x76 && payload[1] === 0x3d && payload[2] === 0x30)) {
    const nul = payload.indexOf(0);
    if (nul < 0) throw new SapParseError('bad-payload-type', 'payload type is not NUL-terminated and payload is not "v=0..."');
    payloadType = new TextDecoder().decode(payload.subarray(0, nul));
    if (!/^[\x21-\x7e]+\/[\x21-\x7e]+$/.test(payloadType)) {
      throw new SapParseError('bad-payload-type', `"${payloadType.slice(0, 40)}" is not a MIME type`);
    }
    sdpStart = nul + 1;
  }
  const sdp = new TextDecoder().decode(payload.subarray(sdpStart));
  return { ...base, payloadType, sdp };
}

function formatIpv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}

export interface SapBuildOptions {
  messageType: 'announce' | 'delete';
  msgIdHash: number;
  /** IPv4 dotted address of the announcer. */
  origin: string;
  sdp: string;
  payloadType?: string;
  /** Omit the payload type field (RFC 2974 allows it; some receivers expect it). */
  omitPayloadType?: boolean;
  compressed?: boolean;
}

export function buildSap(o: SapBuildOptions): Uint8Array {
  const octets = o.origin.split('.').map(Number);
  if (octets.length !== 4 || octets.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new RangeError(`SAP origin "${o.origin}" is not an IPv4 address`);
  }
  if (!Number.isInteger(o.msgIdHash) || o.msgIdHash < 0 || o.msgIdHash > 0xffff) {
    throw new RangeError(`SAP msgIdHash ${o.msgIdHash} must be 0..65535`);
  }
  const enc = new TextEncoder();
  const typeBytes = o.omitPayloadType ? new Uint8Array(0) : enc.encode(`${o.payloadType ?? 'application/sdp'}\0`);
  const sdpBytes = enc.encode(o.sdp);
  let payload = new Uint8Array(typeBytes.length + sdpBytes.length);
  payload.set(typeBytes, 0);
  payload.set(sdpBytes, typeBytes.length);
  if (o.compressed) payload = deflateSync(payload);
  const out = new Uint8Array(8 + payload.length);
  out[0] = 0x20 | (o.messageType === 'delete' ? 0x04 : 0) | (o.compressed ? 0x01 : 0);
  out[1] = 0;
  out[2] = o.msgIdHash >> 8;
  out[3] = o.msgIdHash & 0xff;
  out.set(octets, 4);
  out.set(payload, 8);
  return out;
}
