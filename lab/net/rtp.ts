// RTP fixed header (RFC 3550 §5.1) with CSRCs, header extension and padding.
// Written independently of engine/rtp so each implementation checks the other.

export interface RtpPacket {
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: { profile: number; data: Uint8Array };
  payload: Uint8Array;
}

export type RtpParseErrorReason =
  | 'bad-version'
  | 'truncated'
  | 'padding'
  | 'csrc-overflow'
  | 'extension-overflow';

export class RtpParseError extends Error {
  constructor(
    readonly reason: RtpParseErrorReason,
    message: string,
  ) {
    super(`RTP ${reason}: ${message}`);
    this.name = 'RtpParseError';
  }
}

export const RTP_HEADER_BYTES = 12;

/** Parses one RTP packet; payload and extension data are views into `buf` (no copy). */
export function parseRtp(buf: Uint8Array): RtpPacket {
  if (buf.length < RTP_HEADER_BYTES) {
    throw new RtpParseError('truncated', `${buf.length} bytes, the fixed header needs 12`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const b0 = buf[0];
  const version = b0 >> 6;
  if (version !== 2) throw new RtpParseError('bad-version', `version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + 4 * csrcCount;
  if (offset > buf.length) {
    throw new RtpParseError('csrc-overflow', `${csrcCount} CSRCs need ${offset} bytes, have ${buf.length}`);
  }
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(view.getUint32(RTP_HEADER_BYTES + 4 * i));
  let extension: RtpPacket['extension'];
  if (hasExtension) {
    if (offset + 4 > buf.length) {
      throw new RtpParseError('extension-overflow', `extension header at ${offset} beyond ${buf.length} bytes`);
    }
    const profile = view.getUint16(offset);
    const words = view.getUint16(offset + 2);
    const end = offset + 4 + 4 * words;
    if (end > buf.length) {
      throw new RtpParseError('extension-overflow', `extension of ${words} words ends at ${end}, have ${buf.length}`);
    }
    extension = { profile, data: buf.subarray(offset + 4, end) };
    offset = end;
  }
  let end = buf.length;
  if (padding) {
    const padBytes = buf[buf.length - 1];
    if (padBytes === 0 || offset + padBytes > buf.length) {
      throw new RtpParseError('padding', `padding count ${padBytes} invalid for ${buf.length - offset} bytes after header`);
    }
    end -= padBytes;
  }
  return {
    padding,
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    csrcs,
    extension,
    payload: buf.subarray(offset, end),
  };
}

/**
 * Serializes a packet. With `padding` set, adds the minimum padding that makes the packet
 * a multiple of 4 bytes (at least one byte, as RFC 3550 requires the count octet).
 */
export function serializeRtp(p: RtpPacket): Uint8Array {
  if (p.csrcs.length > 15) throw new RangeError(`RTP allows at most 15 CSRCs, got ${p.csrcs.length}`);
  if (p.extension && p.extension.data.length % 4 !== 0) {
    throw new RangeError(`RTP extension data must be a multiple of 4 bytes, got ${p.extension.data.length}`);
  }
  const extBytes = p.extension ? 4 + p.extension.data.length : 0;
  const unpadded = RTP_HEADER_BYTES + 4 * p.csrcs.length + extBytes + p.payload.length;
  const padBytes = p.padding ? 4 - (unpadded % 4) : 0;
  const out = new Uint8Array(unpadded + padBytes);
  const view = new DataView(out.buffer);
  out[0] = 0x80 | (p.padding ? 0x20 : 0) | (p.extension ? 0x10 : 0) | p.csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  view.setUint16(2, p.sequenceNumber & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  let offset = RTP_HEADER_BYTES;
  for (const c of p.csrcs) {
    view.setUint32(offset, c >>> 0);
    offset += 4;
  }
  if (p.extension) {
    view.setUint16(offset, p.extension.profile & 0xffff);
    view.setUint16(offset + 2, p.extension.data.length / 4);
    out.set(p.extension.data, offset + 4);
    offset += 4 + p.extension.data.length;
  }
  out.set(p.payload, offset);
  if (padBytes > 0) out[out.length - 1] = padBytes;
  return out;
}
