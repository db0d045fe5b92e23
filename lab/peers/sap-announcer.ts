// Announces one SDP by SAP (RFC 2974) at a fixed interval. When the SDP changes, the old
// announcement is deleted and the new one sent at once with a new message-id hash
// (RFC 2974 §5: the hash must change with the description; aes67-linux-daemon#56 does
// delete + announce the same way), so a listener never waits an interval for an update.
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { buildSap, SAP_PORT } from '../net/sap.ts';
import { fnv1a } from './aes67-sender.ts';

export interface SapAnnouncerOptions {
  transport: LabTransport;
  /** SAP group (Dante: 239.255.255.255; RFC 2974: 224.2.127.254). */
  group: string;
  port?: number;
  /** Time between announcements (ns). */
  intervalNs: number;
  sdp: string;
  /** Address in the SAP header's originating-source field (default the transport's). */
  origin?: string;
  ttl?: number;
}

export class SapAnnouncer implements TimedActor {
  announcements = 0;
  deletions = 0;
  private readonly socket: DatagramSocket;
  private sdpText: string;
  private hash: number;
  private nextAt = -Infinity;
  private pendingDelete: { hash: number; sdp: string } | null = null;
  private stopped = false;

  constructor(private readonly o: SapAnnouncerOptions) {
    if (!(o.intervalNs > 0)) throw new RangeError(`SAP interval ${o.intervalNs} ns must be positive`);
    this.socket = o.transport.open({ ttl: o.ttl ?? 32 });
    this.sdpText = o.sdp;
    this.hash = SapAnnouncer.hashOf(o.sdp);
  }

  /** A non-zero 16-bit message-id hash of the SDP text. */
  static hashOf(sdp: string): number {
    const h = fnv1a(sdp);
    return ((h >>> 16) ^ (h & 0xffff)) || 1;
  }

  get sdp(): string {
    return this.sdpText;
  }

  get msgIdHash(): number {
    return this.hash;
  }

  /** Changes the announced SDP; the next poll deletes the old one and announces this. */
  update(sdp: string): void {
    if (sdp === this.sdpText) return;
    if (!this.pendingDelete) this.pendingDelete = { hash: this.hash, sdp: this.sdpText };
    this.sdpText = sdp;
    let hash = SapAnnouncer.hashOf(sdp);
    if (hash === this.pendingDelete.hash) hash = (hash % 0xffff) + 1;
    this.hash = hash;
    this.nextAt = -Infinity;
  }

  poll(now: number): number {
    if (this.stopped) return Infinity;
    if (this.pendingDelete) {
      this.send('delete', this.pendingDelete.hash, this.pendingDelete.sdp);
      this.pendingDelete = null;
    }
    if (now >= this.nextAt) {
      this.send('announce', this.hash, this.sdpText);
      this.nextAt = (this.nextAt === -Infinity ? now : this.nextAt) + this.o.intervalNs;
      if (this.nextAt <= now) this.nextAt = now + this.o.intervalNs;
    }
    return this.nextAt;
  }

  /** Sends the deletion (RFC 2974 §3) and stops announcing. */
  stop(): void {
    if (this.stopped) return;
    this.send('delete', this.hash, this.sdpText);
    this.stopped = true;
    this.socket.close();
  }

  private send(type: 'announce' | 'delete', hash: number, sdp: string): void {
    const packet = buildSap({ messageType: type, msgIdHash: hash, origin: this.o.origin ?? this.o.transport.address, sdp });
    this.socket.send(`${this.o.group}:${this.o.port ?? SAP_PORT}`, packet);
    if (type === 'announce') this.announcements++;
    else this.deletions++;
  }
}
