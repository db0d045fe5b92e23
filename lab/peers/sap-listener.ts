// The lab's SAP listener: joins the SAP groups (Dante's 239.255.255.255 and RFC 2974's
// 224.2.127.254, FIELD-NOTES "Discovery"), keeps the sessions announced, drops them on a
// deletion or a time-out, and replaces a session's older SDP version by a newer one even
// when the announcer changed its message-id hash without deleting (RFC 8866 §5.2: the o=
// username, session id and address name a session; the version orders its descriptions).
// Bad packets are counted by reason and dropped.
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { parseSap, SAP_GROUP_DANTE, SAP_GROUP_RFC2974, SAP_PORT, SapParseError } from '../net/sap.ts';
import { describeAes67, parseSdp, SdpError, type Aes67StreamDescription } from '../net/sdp.ts';

export interface SapSession {
  /** SAP originating source and message-id hash. */
  origin: string;
  msgIdHash: number;
  /** The announcement's source address and port. */
  from: string;
  sdp: string;
  name: string;
  /** o= username, session id, address: the session's identity across versions. */
  sessionKey: string;
  sessionVersion: bigint;
  /** describeAes67 of the SDP, or why it is not a stream the lab can subscribe to. */
  stream: Aes67StreamDescription | { error: string };
  firstSeen: number;
  lastSeen: number;
  announcements: number;
  /** Mean time between announcements (ns), once two were heard. */
  intervalNs?: number;
}

export interface SapListenerOptions {
  transport: LabTransport;
  groups?: string[];
  port?: number;
  /**
   * Drop a session not re-announced for max(10 × its interval, this) (ns). RFC 2974 §4
   * says 10 intervals or one hour, whichever is greater (the default).
   */
  minTimeoutNs?: number;
  /** Sessions kept at most; beyond it new ones are dropped and counted (default 1024). */
  maxSessions?: number;
}

export interface SdpSource {
  /** The current SDP, or undefined while there is none (not yet discovered, deleted). */
  current(): string | undefined;
}

const HOUR_NS = 3600e9;

export class SapListener implements TimedActor {
  readonly dropped = new Map<string, number>();
  deletions = 0;
  timeouts = 0;
  private readonly socket: DatagramSocket;
  private readonly byHash = new Map<string, SapSession>();
  private nextExpiry = Infinity;

  constructor(private readonly o: SapListenerOptions) {
    this.socket = o.transport.open({ port: o.port ?? SAP_PORT, receiveQueueLimit: 4096 });
    for (const g of o.groups ?? [SAP_GROUP_DANTE, SAP_GROUP_RFC2974]) this.socket.join(g);
  }

  sessions(): SapSession[] {
    return [...this.byHash.values()];
  }

  /** The session whose s= name is `name` (or that the predicate picks). */
  find(match: string | ((s: SapSession) => boolean)): SapSession | undefined {
    const f = typeof match === 'string' ? (s: SapSession) => s.name === match : match;
    return this.sessions().find(f);
  }

  /** A live view of one session's SDP, for a receiver to subscribe from. */
  sdpSource(match: string | ((s: SapSession) => boolean)): SdpSource {
    return { current: () => this.find(match)?.sdp };
  }

  poll(now: number): number {
    for (let d = this.socket.receive(); d; d = this.socket.receive()) this.take(d.data, d.source, d.receivedAt);
    if (now >= this.nextExpiry) this.expire(now);
    return this.nextExpiry;
  }

  close(): void {
    this.socket.close();
  }

  private drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  private take(data: Uint8Array, from: string, at: number): void {
    let packet;
    try {
      packet = parseSap(data);
    } catch (e) {
      if (e instanceof SapParseError) return this.drop(e.reason);
      throw e;
    }
    if (packet.encrypted) return this.drop('encrypted');
    if (packet.payloadType !== 'application/sdp') return this.drop('not-sdp');
    const key = `${packet.origin}/${packet.msgIdHash}`;
    if (packet.messageType === 'delete') {
      if (this.byHash.delete(key)) this.deletions++;
      return;
    }
    const existing = this.byHash.get(key);
    if (existing && existing.sdp === packet.sdp) {
      const n = existing.announcements;
      existing.intervalNs = ((existing.intervalNs ?? 0) * (n - 1) + (at - existing.lastSeen)) / n;
      existing.lastSeen = at;
      existing.announcements++;
      this.schedule();
      return;
    }
    let parsed;
    try {
      parsed = parseSdp(packet.sdp);
    } catch {
      return this.drop('bad-sdp');
    }
    const o = parsed.origin;
    if (!o) return this.drop('bad-sdp');
    let version: bigint;
    try {
      version = BigInt(String(o.sessionVersion));
    } catch {
      return this.drop('bad-sdp');
    }
    const sessionKey = `${o.username} ${o.sessionId} ${o.address}`;
    for (const [k, s] of this.byHash) {
      if (k === key || s.sessionKey !== sessionKey) continue;
      if (s.sessionVersion > version) return this.drop('older-version');
      this.byHash.delete(k); // superseded by a newer version under a new hash
    }
    if (!existing && this.byHash.size >= (this.o.maxSessions ?? 1024)) return this.drop('too-many-sessions');
    let stream: SapSession['stream'];
    try {
      stream = describeAes67(packet.sdp);
    } catch (e) {
      if (!(e instanceof SdpError)) throw e;
      stream = { error: e.message };
    }
    this.byHash.set(key, {
      origin: packet.origin,
      msgIdHash: packet.msgIdHash,
      from,
      sdp: packet.sdp,
      name: String(parsed.name ?? ''),
      sessionKey,
      sessionVersion: version,
      stream,
      firstSeen: existing?.firstSeen ?? at,
      lastSeen: at,
      announcements: (existing?.announcements ?? 0) + 1,
    });
    this.schedule();
  }

  private timeoutOf(s: SapSession): number {
    return Math.max(10 * (s.intervalNs ?? 0), this.o.minTimeoutNs ?? HOUR_NS);
  }

  private schedule(): void {
    let next = Infinity;
    for (const s of this.byHash.values()) next = Math.min(next, s.lastSeen + this.timeoutOf(s));
    this.nextExpiry = next;
  }

  private expire(now: number): void {
    for (const [k, s] of this.byHash) {
      if (now >= s.lastSeen + this.timeoutOf(s)) {
        this.byHash.delete(k);
        this.timeouts++;
      }
    }
    this.schedule();
  }
}
