// An mDNS responder for DNS-SD services (RFC 6762, RFC 6763) over a LabTransport. Per
// service it probes three times 250 ms apart (§8.1), then announces twice one second
// apart (§8.3), answers queries for the service type, its subtypes, the DNS-SD meta-query,
// the instance's SRV/TXT and the host's A record with the additional records §12 of
// RFC 6763 lists, and says goodbye with TTL 0 when a service is removed (§10.1). A name
// conflict found while probing renames the instance "name (2)", "name (3)"... (§9).
// Answers go out at once rather than after §6's 20-120 ms random delay (there is one
// responder per name in the lab), and known-answer suppression (§7.1) is not done.
import type { DatagramSocket, LabTransport, TimedActor } from './lab-transport.ts';
import {
  AUTHORITATIVE_ANSWER,
  checkHostLabel,
  checkInstanceName,
  decodeDns,
  DNS_SD_META,
  encodeDns,
  HOST_RECORD_TTL,
  isInClass,
  MDNS_ENDPOINT,
  MDNS_GROUP,
  MDNS_PORT,
  MDNS_TTL,
  OTHER_RECORD_TTL,
  sameName,
  type Answer,
} from './mdns.ts';

export interface DnsSdService {
  /** Instance name (RAVENNA: the session name). */
  instance: string;
  /** Service type, e.g. "_rtsp._tcp". */
  service: string;
  /** Subtypes, e.g. ["_ravenna_session"]. */
  subtypes?: string[];
  port: number;
  txt?: string[];
}

interface Entry {
  s: DnsSdService;
  instance: string;
  phase: 'probing' | 'announcing' | 'ready';
  step: number;
  nextAt: number;
}

export interface MdnsResponderOptions {
  transport: LabTransport;
  /** Host label; the host is "<label>.local". */
  hostLabel: string;
  /** The address of the A record (default the transport's). */
  address?: string;
}

export class MdnsResponder implements TimedActor {
  readonly stats = { queries: 0, responses: 0, probes: 0, announcements: 0, goodbyes: 0, conflicts: 0, bad: 0 };
  private readonly socket: DatagramSocket;
  private readonly entries: Entry[] = [];
  private readonly host: string;
  private readonly address: string;
  private now = 0;

  constructor(private readonly o: MdnsResponderOptions) {
    checkHostLabel(o.hostLabel);
    this.host = `${o.hostLabel}.local`;
    this.address = o.address ?? o.transport.address;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(this.address) || this.address === '0.0.0.0') throw new Error(`mDNS responder needs the host's IPv4 address, got "${this.address}"`);
    this.socket = o.transport.open({ port: MDNS_PORT, ttl: MDNS_TTL, receiveQueueLimit: 1024 });
    this.socket.join(MDNS_GROUP);
    this.now = o.transport.now();
  }

  get hostName(): string {
    return this.host;
  }

  /** The instance name a service ended up with (after conflict renaming). */
  instanceOf(instance: string, service: string): string | undefined {
    return this.entries.find((e) => e.s.instance === instance && e.s.service === service)?.instance;
  }

  addService(s: DnsSdService): void {
    checkInstanceName(s.instance);
    if (!/^_[a-z0-9-]+\._(tcp|udp)$/i.test(s.service)) throw new Error(`DNS-SD service type "${s.service}": write _name._tcp or _name._udp`);
    for (const sub of s.subtypes ?? []) if (!/^_[A-Za-z0-9_-]+$/.test(sub)) throw new Error(`DNS-SD subtype "${sub}": write _name`);
    if (!(Number.isInteger(s.port) && s.port > 0 && s.port < 65536)) throw new Error(`DNS-SD port ${s.port} is not 1-65535`);
    if (this.entries.some((e) => e.s.instance === s.instance && e.s.service === s.service)) throw new Error(`DNS-SD service "${s.instance}.${s.service}" is already registered`);
    this.entries.push({ s, instance: s.instance, phase: 'probing', step: 0, nextAt: this.now });
  }

  /** Sends goodbye records (TTL 0) and forgets the service. */
  removeService(instance: string, service: string): void {
    const i = this.entries.findIndex((e) => e.s.instance === instance && e.s.service === service);
    if (i < 0) return;
    const [e] = this.entries.splice(i, 1);
    if (e.phase !== 'probing') {
      this.send({ type: 'response', id: 0, flags: AUTHORITATIVE_ANSWER, answers: this.records(e, 0).filter((r) => r.type === 'PTR') }, MDNS_ENDPOINT);
      this.stats.goodbyes++;
    }
  }

  poll(now: number): number {
    this.now = now;
    for (let d = this.socket.receive(); d; d = this.socket.receive()) this.take(d.data, d.source);
    let next = Infinity;
    for (const e of this.entries) {
      if (e.phase !== 'ready' && now >= e.nextAt) this.advance(e, now);
      if (e.phase !== 'ready') next = Math.min(next, e.nextAt);
    }
    return next;
  }

  close(): void {
    for (const e of [...this.entries]) this.removeService(e.s.instance, e.s.service);
    this.socket.close();
  }

  private fqdn(e: Entry): string {
    return `${e.instance}.${e.s.service}.local`;
  }

  private records(e: Entry, ttlScale = 1): Answer[] {
    const type = `${e.s.service}.local`;
    const fqdn = this.fqdn(e);
    const ttl = (t: number) => Math.round(t * ttlScale);
    return [
      { name: type, type: 'PTR', ttl: ttl(OTHER_RECORD_TTL), data: fqdn },
      ...(e.s.subtypes ?? []).map((sub) => ({ name: `${sub}._sub.${type}`, type: 'PTR' as const, ttl: ttl(OTHER_RECORD_TTL), data: fqdn })),
      { name: DNS_SD_META, type: 'PTR', ttl: ttl(OTHER_RECORD_TTL), data: type },
      { name: fqdn, type: 'SRV', ttl: ttl(HOST_RECORD_TTL), flush: true, data: { priority: 0, weight: 0, port: e.s.port, target: this.host } },
      { name: fqdn, type: 'TXT', ttl: ttl(OTHER_RECORD_TTL), flush: true, data: e.s.txt && e.s.txt.length > 0 ? e.s.txt : [''] },
      { name: this.host, type: 'A', ttl: ttl(HOST_RECORD_TTL), flush: true, data: this.address },
    ];
  }

  private advance(e: Entry, now: number): void {
    if (e.phase === 'probing') {
      const recs = this.records(e);
      const srv = recs.find((r) => r.type === 'SRV')!;
      const txt = recs.find((r) => r.type === 'TXT')!;
      this.send({ type: 'query', id: 0, flags: 0, questions: [{ name: this.fqdn(e), type: 'ANY' as 'A' }], authorities: [srv, txt] }, MDNS_ENDPOINT);
      this.stats.probes++;
      e.step++;
      e.nextAt = now + 250e6;
      if (e.step === 3) {
        e.phase = 'announcing';
        e.step = 0;
      }
      return;
    }
    this.send({ type: 'response', id: 0, flags: AUTHORITATIVE_ANSWER, answers: this.records(e) }, MDNS_ENDPOINT);
    this.stats.announcements++;
    e.step++;
    e.nextAt = now + 1e9;
    if (e.step === 2) e.phase = 'ready';
  }

  private send(p: Parameters<typeof encodeDns>[0], to: string): void {
    this.socket.send(to, encodeDns(p));
  }

  private take(data: Uint8Array, from: string): void {
    let p;
    try {
      p = decodeDns(data);
    } catch {
      this.stats.bad++;
      return;
    }
    const fromAddress = from.split(':')[0];
    if (p.type === 'response') {
      if (fromAddress === this.address) return; // our own, looped back
      for (const e of this.entries) {
        if (e.phase !== 'probing') continue;
        if ((p.answers ?? []).some((a) => sameName(a.name, this.fqdn(e)))) this.conflict(e);
      }
      return;
    }
    this.stats.queries++;
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    const add = (list: Answer[], r: Answer) => {
      if (!answers.some((x) => sameRecord(x, r)) && !list.some((x) => sameRecord(x, r))) list.push(r);
    };
    for (const q of p.questions ?? []) {
      if (!isInClass(q.class as string | undefined)) continue;
      for (const e of this.entries) {
        if (e.phase === 'probing') continue;
        const recs = this.records(e);
        for (const r of recs) {
          if (!sameName(r.name, q.name) || ((q.type as string) !== 'ANY' && q.type !== r.type)) continue;
          add(answers, r);
          if (r.type === 'PTR' && sameName(r.data as string, this.fqdn(e))) for (const x of recs.filter((y) => y.type === 'SRV' || y.type === 'TXT' || y.type === 'A')) add(additionals, x);
          if (r.type === 'SRV') add(additionals, recs.find((y) => y.type === 'A')!);
        }
      }
    }
    if (answers.length === 0) return;
    const legacy = Number(from.split(':')[1]) !== MDNS_PORT;
    if (legacy) {
      // RFC 6762 §6.7: a legacy resolver gets a unicast reply echoing its ID and question, TTL <= 10 s.
      const cap = (r: Answer) => ({ ...r, ttl: Math.min((r as { ttl?: number }).ttl ?? 10, 10), flush: false }) as Answer;
      this.send({ type: 'response', id: p.id, flags: AUTHORITATIVE_ANSWER, questions: p.questions, answers: answers.map(cap), additionals: additionals.map(cap) }, from);
    } else {
      this.send({ type: 'response', id: 0, flags: AUTHORITATIVE_ANSWER, answers, additionals }, MDNS_ENDPOINT);
    }
    this.stats.responses++;
  }

  private conflict(e: Entry): void {
    this.stats.conflicts++;
    const m = /^(.*) \((\d+)\)$/.exec(e.instance);
    e.instance = m ? `${m[1]} (${Number(m[2]) + 1})` : `${e.instance} (2)`;
    checkInstanceName(e.instance);
    e.phase = 'probing';
    e.step = 0;
    e.nextAt = this.now + 1e9; // RFC 6762 §8.1: wait before probing again after a conflict
  }
}

function sameRecord(a: Answer, b: Answer): boolean {
  return a.type === b.type && sameName(a.name, b.name) && JSON.stringify((a as { data?: unknown }).data) === JSON.stringify((b as { data?: unknown }).data);
}
