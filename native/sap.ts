// Types of the engine/sap binding (native/src/sap_binding.cc). parseSap's result has the
// shape of lab/net/sap.ts's SapPacket so the two can be compared directly.
import type { VirtualNetwork } from './index.ts';

export type NativeSapParse =
  | { error: 'truncated' | 'bad-version' | 'decompress-failed' | 'no-zlib' | 'bad-payload-type' }
  | {
      error?: undefined;
      version: number;
      messageType: 'announce' | 'delete';
      encrypted: boolean;
      compressed: boolean;
      msgIdHash: number;
      origin: string;
      payloadType: string;
      sdp: string;
      /** The SDP as bytes (sdp is their UTF-8 decoding). */
      sdpBytes: Buffer;
    };

export interface NativeSapBuild {
  messageType: 'announce' | 'delete';
  msgIdHash: number;
  origin: string;
  sdp: string;
  payloadType?: string;
  omitPayloadType?: boolean;
  compressed?: boolean;
}

/** Where a listener or announcer runs: a host of the virtual network, or real UDP on an interface. */
export type SapTransport = { network: VirtualNetwork; host: string } | { interfaceName: string };

export interface SapSessionInfo {
  origin: string;
  msgIdHash: number;
  sdp: string;
  source: string;
  firstHeard: number;
  lastHeard: number;
  interval: number;
  announcements: number;
}

export interface SapListenerStats {
  received: number;
  announcements: number;
  deletions: number;
  added: number;
  changed: number;
  deleted: number;
  timedOut: number;
  evicted: number;
  unknownDeletions: number;
  dropped: Record<string, number>;
}

export interface SapListener {
  poll(): number;
  sessions(): SapSessionInfo[];
  /** Drains what happened since the last call: added, changed, deleted, timed-out, evicted. */
  events(): Array<SapSessionInfo & { event: string }>;
  stats(): SapListenerStats;
  close(): void;
}

export interface SapAnnouncer {
  add(sdp: string): number;
  update(handle: number, sdp: string): void;
  remove(handle: number): void;
  stop(): void;
  /** Sends what is due; the time (ns) it next wants to run, or null. */
  poll(): number | null;
  hashOf(handle: number): number;
  stats(): { announcementsSent: number; deletionsSent: number; sendErrors: number };
}

export interface SapAddon {
  parseSap(data: Uint8Array): NativeSapParse;
  buildSap(options: NativeSapBuild): Buffer;
  sapHasZlib: boolean;
  SapListener: new (
    where: SapTransport,
    options?: { groups?: string[]; maxSessions?: number; minimumTimeoutNs?: number; interfaceName?: string },
  ) => SapListener;
  SapAnnouncer: new (
    where: SapTransport,
    options?: { group?: string; origin?: string; intervalNs?: number; useBandwidthRule?: boolean; compress?: boolean; ttl?: number; seed?: number; interfaceName?: string },
  ) => SapAnnouncer;
}
