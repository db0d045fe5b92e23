// Types of the engine/sdp binding (native/src/sdp_binding.cc). describeSdp's result has the
// shape of lab/net/sdp.ts's Aes67StreamDescription so the two can be compared directly.
import type { Aes67StreamDescription } from '../lab/net/sdp.ts';

/** A refusal: the reason (names shared with lab/net/sdp.ts where they overlap), the 1-based line (0: whole text). */
export interface NativeSdpError {
  error: string;
  line: number;
  message: string;
}

export interface NativeSdpAttribute {
  name: string;
  value?: string;
  line: number;
}

export interface NativeSdpConnection {
  netType: string;
  addrType: string;
  address: string;
  ttl?: number;
  count?: number;
  line: number;
}

export interface NativeSdpSession {
  error?: undefined;
  origin: { username: string; sessionId: string; sessionVersion: string; netType: string; addrType: string; address: string };
  name: string;
  information?: string;
  connection?: NativeSdpConnection;
  attributes: NativeSdpAttribute[];
  media: Array<{
    media: string;
    port: number;
    portCount?: number;
    proto: string;
    formats: string[];
    information?: string;
    connections: NativeSdpConnection[];
    attributes: NativeSdpAttribute[];
    line: number;
  }>;
}

export type NativeSdpDescription = Aes67StreamDescription & { error?: undefined; notes: Array<{ message: string; line: number }> };

export interface NativeSdpFinding {
  severity: 'error' | 'warning' | 'info';
  code: string;
  clause: string;
  message: string;
  line?: number;
}

export interface SdpAddon {
  parseSdp(text: string): NativeSdpSession | NativeSdpError;
  /** Parse then write: RFC 8866 field order, CRLF. */
  writeSdp(text: string): string | NativeSdpError;
  describeSdp(text: string, mediaIndex?: number): NativeSdpDescription | NativeSdpError;
  lintSdp(text: string): NativeSdpFinding[];
  /** Samples per packet of an `a=ptime:` value at a rate (exact decimal arithmetic). */
  ptimeFrames(ptime: string, rate: number): number | NativeSdpError;
}
