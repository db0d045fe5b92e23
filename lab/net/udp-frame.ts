// Ethernet II + IPv4 + UDP framing of a datagram, for writing captures the lab made itself.

export interface UdpFrameSpec {
  sourceIp: string;
  destinationIp: string;
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
  dscp?: number;
  ttl?: number;
  sourceMac?: string;
  /** Defaults to the multicast MAC for a multicast destination (RFC 1112 §6.4). */
  destinationMac?: string;
  identification?: number;
}

export function ipv4Octets(ip: string): number[] {
  const o = ip.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`"${ip}" is not an IPv4 address`);
  return o;
}

export function isMulticastIpv4(ip: string): boolean {
  const first = ipv4Octets(ip)[0];
  return first >= 224 && first <= 239;
}

/** 01:00:5e + the low 23 bits of the group address. */
export function multicastMac(ip: string): string {
  const o = ipv4Octets(ip);
  return ['01', '00', '5e', (o[1] & 0x7f).toString(16), o[2].toString(16), o[3].toString(16)]
    .map((h) => h.padStart(2, '0'))
    .join(':');
}

function macBytes(mac: string): number[] {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !(x >= 0 && x <= 255))) throw new RangeError(`"${mac}" is not a MAC address`);
  return b;
}

function onesComplementSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function buildUdpFrame(s: UdpFrameSpec): Uint8Array {
  const ipLen = 20 + 8 + s.payload.length;
  const out = new Uint8Array(14 + ipLen);
  const view = new DataView(out.buffer);
  const dstMac = s.destinationMac ?? (isMulticastIpv4(s.destinationIp) ? multicastMac(s.destinationIp) : '02:00:00:00:00:02');
  out.set(macBytes(dstMac), 0);
  out.set(macBytes(s.sourceMac ?? '02:00:00:00:00:01'), 6);
  view.setUint16(12, 0x0800);
  const ip = 14;
  out[ip] = 0x45;
  out[ip + 1] = ((s.dscp ?? 0) & 0x3f) << 2;
  view.setUint16(ip + 2, ipLen);
  view.setUint16(ip + 4, s.identification ?? 0);
  view.setUint16(ip + 6, 0x4000); // don't fragment
  out[ip + 8] = s.ttl ?? 32;
  out[ip + 9] = 17;
  out.set(ipv4Octets(s.sourceIp), ip + 12);
  out.set(ipv4Octets(s.destinationIp), ip + 16);
  view.setUint16(ip + 10, ~onesComplementSum(out, ip, ip + 20) & 0xffff);
  const udp = ip + 20;
  view.setUint16(udp, s.sourcePort);
  view.setUint16(udp + 2, s.destinationPort);
  view.setUint16(udp + 4, 8 + s.payload.length);
  out.set(s.payload, udp + 8);
  // Pseudo-header: source, destination, protocol, UDP length.
  let pseudo = onesComplementSum(out, ip + 12, ip + 20);
  pseudo = onesComplementSum(Uint8Array.of(0, 17, (8 + s.payload.length) >> 8, (8 + s.payload.length) & 0xff), 0, 4, pseudo);
  const sum = ~onesComplementSum(out, udp, out.length, pseudo) & 0xffff;
  view.setUint16(udp + 6, sum === 0 ? 0xffff : sum);
  return out;
}
