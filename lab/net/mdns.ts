// Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) basics shared by the lab's responder and
// browser. Packets are built and read with dns-packet (the codec multicast-dns uses) and
// travel over a LabTransport, so discovery runs on the virtual network in virtual time as
// well as on real sockets in a namespace.
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';

export type { Answer, DecodedPacket, Packet };

export const MDNS_GROUP = '224.0.0.251';
export const MDNS_PORT = 5353;
export const MDNS_ENDPOINT = `${MDNS_GROUP}:${MDNS_PORT}`;
/** RFC 6762 §11: mDNS packets go out with IP TTL 255. */
export const MDNS_TTL = 255;
/** RFC 6762 §10: host-bound records (A, SRV) 120 s, the others 75 minutes. */
export const HOST_RECORD_TTL = 120;
export const OTHER_RECORD_TTL = 4500;
export const DNS_SD_META = '_services._dns-sd._udp.local';

/** RAVENNA sessions and devices (FIELD-NOTES "RAVENNA"). */
export const RTSP_SERVICE = '_rtsp._tcp';
export const RAVENNA_SESSION_SUBTYPE = '_ravenna_session';
export const RAVENNA_DEVICE_SUBTYPE = '_ravenna';

export function encodeDns(p: Packet): Buffer {
  return dnsPacket.encode(p);
}

/** A datagram that is not a DNS message: what decodeDns throws, whatever dns-packet threw. */
export class DnsParseError extends Error {
  constructor(detail: string) {
    super(`DNS message does not parse: ${detail}`);
    this.name = 'DnsParseError';
  }
}

/** Decodes a DNS / mDNS message; throws DnsParseError (only) when the bytes are not one. */
export function decodeDns(b: Uint8Array): DecodedPacket {
  try {
    return dnsPacket.decode(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  } catch (e) {
    // dns-packet reads past the end (RangeError), meets unknown shapes (Error) or worse:
    // network input is counted and dropped by the caller, so one documented error.
    throw new DnsParseError(e instanceof Error ? e.message : String(e));
  }
}

export const AUTHORITATIVE_ANSWER = dnsPacket.AUTHORITATIVE_ANSWER;

/**
 * A DNS-SD instance name must be one DNS label: at most 63 bytes of UTF-8, and (a limit of
 * dns-packet, which splits names on dots without escapes) no dot.
 */
export function checkInstanceName(name: string): void {
  if (name.length === 0) throw new Error('DNS-SD instance name is empty');
  if (Buffer.byteLength(name, 'utf8') > 63) throw new Error(`DNS-SD instance name "${name}" is ${Buffer.byteLength(name, 'utf8')} bytes of UTF-8: one DNS label holds 63`);
  if (name.includes('.')) throw new Error(`DNS-SD instance name "${name}" contains a dot, which the DNS codec (dns-packet) cannot escape: rename the session`);
}

export function checkHostLabel(label: string): void {
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) throw new Error(`mDNS host name "${label}": letters, digits and inner hyphens, 1-63 characters`);
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Questions with the unicast-response bit set decode with class "UNKNOWN_32769" in dns-packet. */
export function isInClass(cls: string | undefined): boolean {
  return cls === undefined || cls === 'IN' || cls === 'ANY' || cls === 'UNKNOWN_32769' || cls === 'UNKNOWN_33023';
}
