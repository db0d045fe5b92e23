// IPv4 and UDP from captured frames, with IPv4 fragments reassembled within bounds
// (RFC 791): at most `maxPending` datagrams in progress, each at most 65535 bytes, dropped
// when unfinished after `fragmentTimeoutSec` of capture time.
import type { CapturedFrame } from './reader.ts';
import { locateIpv4, type LinkInfo } from './link.ts';

export interface UdpDatagram {
  frame: CapturedFrame;
  /** Source and destination IPv4 addresses as unsigned 32-bit numbers. */
  sourceIp: number;
  destinationIp: number;
  sourcePort: number;
  destinationPort: number;
  dscp: number;
  ttl: number;
  vlan: number;
  /** Destination MAC (6 bytes) for Ethernet frames. */
  destinationMac?: Uint8Array;
  payload: Uint8Array;
  /** True when the datagram was rebuilt from IPv4 fragments. */
  reassembled: boolean;
  /** The UDP length field: header and payload as sent, even when the capture cut it. */
  udpLength: number;
  /** True when the capture holds less than the datagram (snapshot length). */
  truncated: boolean;
}

export interface UdpDecodeCounters {
  frames: number;
  notIpv4: number;
  unsupportedLink: number;
  truncated: number;
  badIpHeader: number;
  notUdp: number;
  fragments: number;
  reassembled: number;
  fragmentsDropped: number;
  udp: number;
}

interface PendingDatagram {
  firstSeenSec: number;
  parts: { offset: number; data: Uint8Array }[];
  totalLength: number; // known once the last fragment arrived
  received: number;
  header: Uint8Array; // IPv4 header of the first fragment (offset 0)
}

export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

export function parseIpv4Number(text: string): number {
  const o = text.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`"${text}" is not an IPv4 address`);
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export class UdpDecoder {
  readonly counters: UdpDecodeCounters = { frames: 0, notIpv4: 0, unsupportedLink: 0, truncated: 0, badIpHeader: 0, notUdp: 0, fragments: 0, reassembled: 0, fragmentsDropped: 0, udp: 0 };
  /** The link layer of the last frame decoded (for non-IP payloads such as PTP over Ethernet). */
  readonly link: LinkInfo = { ipOffset: -1, macOffset: -1, vlan: -1, etherType: -1, payloadOffset: -1 };
  private readonly pending = new Map<string, PendingDatagram>();

  constructor(
    private readonly maxPending = 64,
    private readonly fragmentTimeoutSec = 30,
  ) {}

  /** The UDP datagram a frame carries, or undefined (counted by reason). */
  decode(frame: CapturedFrame): UdpDatagram | undefined {
    this.counters.frames++;
    const d = frame.data;
    const link = locateIpv4(frame.linkType, d, this.link);
    if (link.ipOffset < 0) {
      if (link.skip === 'unsupported-link') this.counters.unsupportedLink++;
      else if (link.skip === 'truncated-link') this.counters.truncated++;
      else this.counters.notIpv4++;
      return undefined;
    }
    const ip = link.ipOffset;
    if (d.length < ip + 20) return void this.counters.truncated++;
    const ihl = (d[ip] & 0x0f) * 4;
    const totalLength = (d[ip + 2] << 8) | d[ip + 3];
    if (d[ip] >> 4 !== 4 || ihl < 20 || totalLength < ihl) return void this.counters.badIpHeader++;
    if (d[ip + 9] !== 17) return void this.counters.notUdp++;
    // A frame cut by the snapshot length still has its headers: keep what is there.
    const truncated = d.length < ip + totalLength;
    const flagsFrag = (d[ip + 6] << 8) | d[ip + 7];
    const moreFragments = (flagsFrag & 0x2000) !== 0;
    const fragOffset = (flagsFrag & 0x1fff) * 8;
    let ipPayload = d.subarray(ip + ihl, Math.min(d.length, ip + totalLength));
    let reassembled = false;
    if (moreFragments || fragOffset > 0) {
      if (truncated) return void this.counters.truncated++;
      this.counters.fragments++;
      const whole = this.addFragment(frame, d.subarray(ip, ip + ihl), ipPayload, fragOffset, moreFragments);
      if (!whole) return undefined;
      ipPayload = whole;
      reassembled = true;
      this.counters.reassembled++;
    }
    if (ipPayload.length < 8) return void this.counters.truncated++;
    const udpLength = (ipPayload[4] << 8) | ipPayload[5];
    if (udpLength < 8 || (udpLength > ipPayload.length && !truncated)) return void this.counters.badIpHeader++;
    if (truncated) this.counters.truncated++;
    this.counters.udp++;
    const datagram: UdpDatagram = {
      frame,
      sourceIp: ((d[ip + 12] << 24) | (d[ip + 13] << 16) | (d[ip + 14] << 8) | d[ip + 15]) >>> 0,
      destinationIp: ((d[ip + 16] << 24) | (d[ip + 17] << 16) | (d[ip + 18] << 8) | d[ip + 19]) >>> 0,
      sourcePort: (ipPayload[0] << 8) | ipPayload[1],
      destinationPort: (ipPayload[2] << 8) | ipPayload[3],
      dscp: d[ip + 1] >> 2,
      ttl: d[ip + 8],
      vlan: link.vlan,
      payload: ipPayload.subarray(8, udpLength),
      reassembled,
      udpLength,
      truncated,
    };
    if (link.macOffset >= 0) datagram.destinationMac = d.subarray(link.macOffset, link.macOffset + 6);
    return datagram;
  }

  private addFragment(frame: CapturedFrame, header: Uint8Array, data: Uint8Array, offset: number, more: boolean): Uint8Array | undefined {
    const key = `${header[12]}.${header[13]}.${header[14]}.${header[15]}>${header[16]}.${header[17]}.${header[18]}.${header[19]}#${(header[4] << 8) | header[5]}`;
    this.expire(frame.tsSec);
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.maxPending) {
        const oldest = this.pending.keys().next().value as string;
        this.counters.fragmentsDropped += this.pending.get(oldest)!.parts.length;
        this.pending.delete(oldest);
      }
      p = { firstSeenSec: frame.tsSec, parts: [], totalLength: -1, received: 0, header: header.slice() };
      this.pending.set(key, p);
    }
    if (offset + data.length > 65535 || p.parts.some((q) => q.offset === offset)) {
      this.counters.fragmentsDropped++; // oversize or duplicate fragment
      return undefined;
    }
    p.parts.push({ offset, data: data.slice() }); // frame data is only valid until the next read
    p.received += data.length;
    if (!more) p.totalLength = offset + data.length;
    if (p.totalLength < 0 || p.received < p.totalLength) return undefined;
    this.pending.delete(key);
    const whole = new Uint8Array(p.totalLength);
    for (const q of p.parts) whole.set(q.data.subarray(0, Math.max(0, Math.min(q.data.length, p.totalLength - q.offset))), q.offset);
    return whole;
  }

  private expire(nowSec: number): void {
    for (const [key, p] of this.pending) {
      if (nowSec - p.firstSeenSec <= this.fragmentTimeoutSec) break; // insertion order = age order
      this.counters.fragmentsDropped += p.parts.length;
      this.pending.delete(key);
    }
  }

  /** Fragments of datagrams never completed, counted as dropped. */
  finish(): void {
    for (const p of this.pending.values()) this.counters.fragmentsDropped += p.parts.length;
    this.pending.clear();
  }
}
