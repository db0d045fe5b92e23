// A RAVENNA-style RTSP server (FIELD-NOTES "RAVENNA"): DESCRIBE
// rtsp://host:port/by-name/<url-encoded session name> (or /by-id/<n>) with
// "Accept: application/sdp" returns the session's SDP; the connection stays open and,
// when a session the client described changes, the server pushes an ANNOUNCE carrying the
// new SDP (as bondagit/aes67-linux-daemon rtsp_server.cpp does). OPTIONS is answered;
// other methods get 405 with Allow. Bad requests are answered 400 and counted; a peer
// that breaks framing is disconnected and counted, never crashes the server.
import type { TimedActor } from './lab-transport.ts';
import { formatRequest, formatResponse, parseRtspUrl, RtspParseError, RtspParser, type RtspMessage } from './rtsp-message.ts';
import type { ByteStream, StreamListener, StreamTransport } from './rtsp-stream.ts';

export interface RtspServerOptions {
  streams: StreamTransport;
  port: number;
  /** Host part of the URLs in ANNOUNCE (the server's address). */
  host: string;
  serverName?: string;
  maxConnections?: number;
}

interface Session {
  id: number;
  name: string;
  sdp: string;
}

interface Connection {
  stream: ByteStream;
  parser: RtspParser;
  described: Set<number>;
  announceCseq: number;
}

export interface RtspServerStats {
  connections: number;
  requests: number;
  describes: number;
  announces: number;
  announceReplies: number;
  errors: Record<string, number>;
}

export class RtspServer implements TimedActor {
  readonly stats: RtspServerStats = { connections: 0, requests: 0, describes: 0, announces: 0, announceReplies: 0, errors: {} };
  private readonly listener: StreamListener;
  private readonly connections: Connection[] = [];
  private readonly sessions = new Map<string, Session>();
  private nextId = 1;

  constructor(private readonly o: RtspServerOptions) {
    this.listener = o.streams.listen(o.port);
  }

  /** Adds or replaces a session; a changed SDP is ANNOUNCEd to every connection that described it. */
  setSession(name: string, sdp: string): void {
    const existing = this.sessions.get(name);
    if (existing) {
      if (existing.sdp === sdp) return;
      existing.sdp = sdp;
      for (const c of this.connections) if (c.described.has(existing.id)) this.announce(c, existing);
      return;
    }
    this.sessions.set(name, { id: this.nextId++, name, sdp });
  }

  removeSession(name: string): void {
    this.sessions.delete(name);
  }

  urlOf(name: string): string {
    return `rtsp://${this.o.host}:${this.o.port}/by-name/${encodeURIComponent(name)}`;
  }

  idOf(name: string): number | undefined {
    return this.sessions.get(name)?.id;
  }

  get openConnections(): number {
    return this.connections.length;
  }

  poll(): number {
    for (let s = this.listener.accept(); s; s = this.listener.accept()) {
      if (this.connections.length >= (this.o.maxConnections ?? 64)) {
        this.count('too-many-connections');
        s.close();
        continue;
      }
      this.stats.connections++;
      this.connections.push({ stream: s, parser: new RtspParser(), described: new Set(), announceCseq: 1 });
    }
    let next = this.listener.nextArrival();
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const c = this.connections[i];
      const bytes = c.stream.read();
      if (bytes) {
        let messages: RtspMessage[] = [];
        try {
          messages = c.parser.push(bytes);
        } catch (e) {
          if (!(e instanceof RtspParseError)) throw e;
          this.count(e.reason);
          c.stream.write(formatResponse(400, 'Bad Request', []));
          c.stream.close();
        }
        for (const m of messages) this.handle(c, m);
      }
      if (c.stream.ended) {
        this.connections.splice(i, 1);
        continue;
      }
      next = Math.min(next, c.stream.nextArrival());
    }
    return next;
  }

  close(): void {
    for (const c of this.connections) c.stream.close();
    this.connections.length = 0;
    this.listener.close();
  }

  private count(reason: string): void {
    this.stats.errors[reason] = (this.stats.errors[reason] ?? 0) + 1;
  }

  private announce(c: Connection, s: Session): void {
    this.stats.announces++;
    c.stream.write(formatRequest('ANNOUNCE', this.urlOf(s.name), [['CSeq', c.announceCseq++], ['Content-Type', 'application/sdp'], ...this.serverHeader()], s.sdp));
  }

  private serverHeader(): [string, string][] {
    return [['Server', this.o.serverName ?? 'aes67-lab RAVENNA emulator']];
  }

  private handle(c: Connection, m: RtspMessage): void {
    if (m.kind === 'response') {
      // The client's answer to our ANNOUNCE.
      this.stats.announceReplies++;
      if (m.status !== 200) this.count(`announce-${m.status}`);
      return;
    }
    this.stats.requests++;
    const cseq = m.headers.get('cseq');
    const reply = (status: number, reason: string, headers: [string, string | number][] = [], body = '') =>
      c.stream.write(formatResponse(status, reason, [...(cseq !== undefined ? [['CSeq', cseq] as [string, string]] : []), ...this.serverHeader(), ...headers], body));
    if (cseq === undefined || !/^\d+$/.test(cseq)) {
      this.count('no-cseq');
      return reply(400, 'Bad Request');
    }
    if (m.version !== 'RTSP/1.0') {
      this.count('version');
      return reply(505, 'RTSP Version Not Supported');
    }
    if (m.method === 'OPTIONS') return reply(200, 'OK', [['Public', 'OPTIONS, DESCRIBE']]);
    if (m.method !== 'DESCRIBE') {
      this.count('method');
      return reply(405, 'Method Not Allowed', [['Allow', 'OPTIONS, DESCRIBE']]);
    }
    const accept = m.headers.get('accept');
    if (accept !== undefined && !/application\/sdp|\*\/\*/i.test(accept)) {
      this.count('not-acceptable');
      return reply(406, 'Not Acceptable');
    }
    let session: Session | undefined;
    try {
      const { path } = parseRtspUrl(m.url);
      const byName = /^\/by-name\/(.+)$/.exec(path);
      const byId = /^\/by-id\/(\d+)$/.exec(path);
      if (byName) session = this.sessions.get(decodeURIComponent(byName[1]));
      else if (byId) session = [...this.sessions.values()].find((s) => s.id === Number(byId[1]));
    } catch {
      this.count('bad-url');
      return reply(400, 'Bad Request');
    }
    if (!session) {
      this.count('not-found');
      return reply(404, 'Not Found');
    }
    this.stats.describes++;
    c.described.add(session.id);
    reply(200, 'OK', [['Content-Base', `${this.urlOf(session.name)}/`], ['Content-Type', 'application/sdp']], session.sdp);
  }
}
