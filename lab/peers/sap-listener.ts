// The lab's SAP listener: joins the SAP groups (Dante's 239.255.255.255 and RFC 2974's
// 224.2.127.254, FIELD-NOTES "Discovery"), keeps the sessions announced, drops them on a
// deletion or a time-out, and replaces a session's older SDP version by a newer one even
// when the announcer changed its message-id hash without deleting (RFC 8866 §5.2: the o=
// username, session id and address name a session; the version orders its descriptions).
// Bad packets are counted by reason and dropped. Bounded: at most maxSessions sessions of at
// most maxSdpBytes each (the engine's SapListener has the same limits); a flood evicts the
// least recently heard session and counts it, so new sessions are never locked out.
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
  /** Sessions kept at most; beyond it the least recently heard is evicted and counted (default 1024). */
  maxSessions?: number;
  /**
   * The longest SDP kept (bytes, default 8192, as the engine): RFC 2974 §6 recommends SAP
   * packets under 1 kB; a longer SDP (a zlib payload inflating to tens of kB) is dropped as
   * 'sdp-too-large' before it is parsed.
   */
  maxSdpBytes?: number;
}

export interface SdpSource {
  /** The current SDP, or undefined while there is none (not yet discovered, deleted). */
  current(): string | undefined;
}

const HOUR_NS = 3600e9;
const DEFAULT_MAX_SESSIONS = 1024;
const DEFAULT_MAX_SDP_BYTES = 8192;

export class SapListener implements TimedActor {
  /** Everything it waits for is SAP datagrams on its socket, or a session's expiry (its due time). */
  readonly pollOn = 'due-or-delivery';
  readonly dropped = new Map<string, number>();
  deletions = 0;
  timeouts = 0;
  /** Sessions evicted to make room for a new one (the least recently heard first). */
  evicted = 0;
  private readonly socket: DatagramSocket;
  /** By origin/hash, least recently heard first (a session heard again moves to the end). */
  private readonly byHash = new Map<string, SapSession>();
  /** o= identity -> byHash key of the session holding it. */
  private readonly bySessionKey = new Map<string, string>();
  /** No session expires before this (it may be early: expire() then finds none and recomputes). */
  private nextExpiry = Infinity;
  private changes = 0;

  /**
   * Bumped whenever a session is added, replaced or removed, or heard again (which moves it
   * in sessions()' order): a reader polling every few ms skips its search while it stands.
   */
  get revision(): number {
    return this.changes;
  }

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
      if (this.remove(key)) this.deletions++;
      return;
    }
    if (Buffer.byteLength(packet.sdp) > (this.o.maxSdpBytes ?? DEFAULT_MAX_SDP_BYTES)) return this.drop('sdp-too-large');
    const existing = this.byHash.get(key);
    if (existing && existing.sdp === packet.sdp) {
      const n = existing.announcements;
      existing.intervalNs = ((existing.intervalNs ?? 0) * (n - 1) + (at - existing.lastSeen)) / n;
      existing.lastSeen = at;
      existing.announcements++;
      this.byHash.delete(key); // heard now: to the end of the eviction order
      this.byHash.set(key, existing);
      this.changes++;
      this.schedule(existing);
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
    const otherKey = this.bySessionKey.get(sessionKey);
    if (otherKey !== undefined && otherKey !== key) {
      const other = this.byHash.get(otherKey)!;
      if (other.sessionVersion > version) return this.drop('older-version');
      this.remove(otherKey); // superseded by a newer version under a new hash
    }
    if (existing) this.remove(key);
    while (this.byHash.size >= (this.o.maxSessions ?? DEFAULT_MAX_SESSIONS)) {
      this.remove(this.byHash.keys().next().value!); // the least recently heard
      this.evicted++;
    }
    let stream: SapSession['stream'];
    try {
      stream = describeAes67(packet.sdp);
    } catch (e) {
      if (!(e instanceof SdpError)) throw e;
      stream = { error: e.message };
    }
    const session: SapSession = {
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
    };
    this.byHash.set(key, session);
    this.bySessionKey.set(sessionKey, key);
    this.changes++;
    this.schedule(session);
  }

  private remove(key: string): boolean {
    const s = this.byHash.get(key);
    if (!s) return false;
    this.byHash.delete(key);
    if (this.bySessionKey.get(s.sessionKey) === key) this.bySessionKey.delete(s.sessionKey);
    this.changes++;
    return true;
  }

  private timeoutOf(s: SapSession): number {
    return Math.max(10 * (s.intervalNs ?? 0), this.o.minTimeoutNs ?? HOUR_NS);
  }

  /** A session was heard: it expires no earlier than this. */
  private schedule(s: SapSession): void {
    this.nextExpiry = Math.min(this.nextExpiry, s.lastSeen + this.timeoutOf(s));
  }

  private expire(now: number): void {
    let next = Infinity;
    for (const [k, s] of [...this.byHash]) {
      const due = s.lastSeen + this.timeoutOf(s);
      if (now >= due) {
        this.remove(k);
        this.timeouts++;
      } else {
        next = Math.min(next, due);
      }
    }
    this.nextExpiry = next;
  }
}
