// A DNS-SD browser over mDNS (RFC 6762 §5.2 continuous querying, RFC 6763 §4) on a
// LabTransport: it asks for the PTR records of one service (or subtype), keeps every
// record it hears (answers, additionals, unsolicited announcements) until its TTL runs out
// (a goodbye, TTL 0, removes a record one second later, §10.1), asks for SRV/TXT and A
// records an instance still lacks, and lists the instances it can resolve to an address
// and port. Queries go from port 5353 so answers come by multicast; the interval doubles
// from 1 s up to `maxIntervalNs`.
import type { DatagramSocket, LabTransport, TimedActor } from './lab-transport.ts';
import { decodeDns, encodeDns, MDNS_ENDPOINT, MDNS_GROUP, MDNS_PORT, MDNS_TTL, RAVENNA_SESSION_SUBTYPE, RTSP_SERVICE, sameName, type Answer } from './mdns.ts';

export interface DnsSdInstance {
  /** The instance label (RAVENNA: the session name). */
  name: string;
  fqdn: string;
  host?: string;
  address?: string;
  port: number;
  txt: string[];
}

export interface MdnsBrowserOptions {
  transport: LabTransport;
  /** Service type (default "_rtsp._tcp"). */
  service?: string;
  /** Browse this subtype of it (default RAVENNA sessions: "_ravenna_session"); null for the plain type. */
  subtype?: string | null;
  maxIntervalNs?: number;
  /** Records cached at most; beyond it new ones are dropped and counted (default 4096). */
  maxRecords?: number;
}

interface Cached {
  name: string;
  type: string;
  data: unknown;
  expiresAt: number;
}

export class MdnsBrowser implements TimedActor {
  readonly stats = { queries: 0, responses: 0, bad: 0, cacheFull: 0 };
  private readonly socket: DatagramSocket;
  private readonly cache: Cached[] = [];
  private readonly serviceDomain: string;
  private readonly browseName: string;
  private nextQueryAt = -Infinity;
  private interval = 1e9;
  private lastResolveQueryAt = -Infinity;
  private now = 0;

  constructor(private readonly o: MdnsBrowserOptions) {
    const service = o.service ?? RTSP_SERVICE;
    this.serviceDomain = `${service}.local`;
    const subtype = o.subtype === undefined ? RAVENNA_SESSION_SUBTYPE : o.subtype;
    this.browseName = subtype ? `${subtype}._sub.${this.serviceDomain}` : this.serviceDomain;
    this.socket = o.transport.open({ port: MDNS_PORT, ttl: MDNS_TTL, receiveQueueLimit: 4096 });
    this.socket.join(MDNS_GROUP);
  }

  instances(): DnsSdInstance[] {
    const out: DnsSdInstance[] = [];
    for (const ptr of this.live(this.browseName, 'PTR')) {
      const fqdn = String(ptr.data);
      const suffix = `.${this.serviceDomain}`;
      if (!fqdn.toLowerCase().endsWith(suffix.toLowerCase())) continue;
      const srv = this.live(fqdn, 'SRV')[0]?.data as { port: number; target: string } | undefined;
      const txt = this.live(fqdn, 'TXT')[0]?.data as (Buffer | string)[] | undefined;
      const a = srv ? (this.live(srv.target, 'A')[0]?.data as string | undefined) : undefined;
      out.push({
        name: fqdn.slice(0, fqdn.length - suffix.length),
        fqdn,
        ...(srv ? { host: srv.target } : {}),
        ...(a ? { address: a } : {}),
        port: srv?.port ?? 0,
        txt: (txt ?? []).map((t) => t.toString()).filter((t) => t !== ''),
      });
    }
    return out;
  }

  find(name: string): DnsSdInstance | undefined {
    return this.instances().find((i) => i.name === name);
  }

  poll(now: number): number {
    this.now = now;
    for (let d = this.socket.receive(); d; d = this.socket.receive()) this.take(d.data);
    for (let i = this.cache.length - 1; i >= 0; i--) if (this.cache[i].expiresAt <= now) this.cache.splice(i, 1);
    if (now >= this.nextQueryAt) {
      const known = this.live(this.browseName, 'PTR').map((r) => ({ name: this.browseName, type: 'PTR' as const, ttl: Math.max(0, Math.round((r.expiresAt - now) / 1e9)), data: String(r.data) }));
      // RFC 6762 §7.1: list the answers already known (with their remaining TTL) so responders can stay quiet.
      this.query([{ name: this.browseName, type: 'PTR' }], known.filter((k) => k.ttl > 2250));
      this.nextQueryAt = now + this.interval;
      this.interval = Math.min(this.interval * 2, this.o.maxIntervalNs ?? 60e9);
    }
    if (now - this.lastResolveQueryAt >= 1e9) {
      const questions: { name: string; type: 'SRV' | 'TXT' | 'A' }[] = [];
      for (const i of this.instances()) {
        if (!i.host) questions.push({ name: i.fqdn, type: 'SRV' }, { name: i.fqdn, type: 'TXT' });
        else if (!i.address) questions.push({ name: i.host, type: 'A' });
      }
      if (questions.length > 0) {
        this.query(questions, []);
        this.lastResolveQueryAt = now;
      }
    }
    let next = this.nextQueryAt;
    for (const c of this.cache) next = Math.min(next, c.expiresAt);
    if (this.instances().some((i) => !i.address)) next = Math.min(next, this.lastResolveQueryAt + 1e9);
    return next;
  }

  close(): void {
    this.socket.close();
  }

  private live(name: string, type: string): Cached[] {
    return this.cache.filter((c) => c.type === type && sameName(c.name, name) && c.expiresAt > this.now);
  }

  private query(questions: { name: string; type: 'PTR' | 'SRV' | 'TXT' | 'A' }[], answers: Answer[]): void {
    this.socket.send(MDNS_ENDPOINT, encodeDns({ type: 'query', id: 0, flags: 0, questions, answers }));
    this.stats.queries++;
  }

  private take(data: Uint8Array): void {
    let p;
    try {
      p = decodeDns(data);
    } catch {
      this.stats.bad++;
      return;
    }
    if (p.type !== 'response') return;
    this.stats.responses++;
    for (const r of [...(p.answers ?? []), ...(p.additionals ?? [])]) {
      if (!['PTR', 'SRV', 'TXT', 'A'].includes(r.type)) continue;
      const rr = r as Answer & { ttl?: number; flush?: boolean; data: unknown };
      const ttl = rr.ttl ?? 0;
      const expiresAt = ttl === 0 ? this.now + 1e9 : this.now + ttl * 1e9;
      const key = JSON.stringify(rr.data);
      // A unique record with the cache-flush bit replaces what we had (RFC 6762 §10.2).
      for (let i = this.cache.length - 1; i >= 0; i--) {
        const c = this.cache[i];
        if (c.type !== rr.type || !sameName(c.name, rr.name)) continue;
        if (rr.flush || JSON.stringify(c.data) === key) this.cache.splice(i, 1);
      }
      if (this.cache.length >= (this.o.maxRecords ?? 4096)) {
        this.stats.cacheFull++;
        continue;
      }
      this.cache.push({ name: rr.name, type: rr.type, data: rr.data, expiresAt });
    }
  }
}
