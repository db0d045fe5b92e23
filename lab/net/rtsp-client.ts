// The lab's RTSP client for RAVENNA sessions: DESCRIBE with "Accept: application/sdp",
// keep the connection, answer the server's ANNOUNCE with 200 and take its SDP as the
// session's new description (FIELD-NOTES "RAVENNA"; the behaviour bondagit/aes67-linux-
// daemon rtsp_client.cpp has). It is an SdpSource, so an Aes67Receiver subscribes from it
// and follows every ANNOUNCE. A dropped connection is retried with a bounded backoff.
// RavennaSessionClient adds discovery: it finds the session by DNS-SD over mDNS
// (MdnsBrowser) and describes it at the address and port the SRV and A records give.
import type { TimedActor } from './lab-transport.ts';
import { MdnsBrowser, type DnsSdInstance } from './mdns-browser.ts';
import { formatRequest, formatResponse, parseRtspUrl, ravennaSessionUrl, RtspParseError, RtspParser, type RtspMessage } from './rtsp-message.ts';
import type { ByteStream, StreamTransport } from './rtsp-stream.ts';

export type RtspClientState = 'idle' | 'connecting' | 'described' | 'failed';

export interface RtspClientOptions {
  streams: StreamTransport;
  url: string;
  userAgent?: string;
  /** First retry delay after a failure (ns, default 1 s), doubling up to 30 s. */
  retryNs?: number;
}

export class RtspClient implements TimedActor {
  state: RtspClientState = 'idle';
  /** The last failure (status line, refusal, parse error). */
  error?: string;
  describes = 0;
  announcements = 0;
  connects = 0;
  private stream?: ByteStream;
  private parser = new RtspParser();
  private sdp?: string;
  private cseq = 1;
  private describeCseq = -1;
  private retryAt = -Infinity;
  private backoff: number;

  constructor(readonly o: RtspClientOptions) {
    parseRtspUrl(o.url);
    this.backoff = o.retryNs ?? 1e9;
  }

  /** The session's current SDP (from DESCRIBE or the latest ANNOUNCE). */
  current(): string | undefined {
    return this.sdp;
  }

  poll(now: number): number {
    if (!this.stream) {
      if (now < this.retryAt) return this.retryAt;
      this.open();
    }
    const s = this.stream!;
    const bytes = s.read();
    if (bytes) {
      try {
        for (const m of this.parser.push(bytes)) this.handle(m);
      } catch (e) {
        if (!(e instanceof RtspParseError)) throw e;
        this.fail(now, e.message);
        return this.retryAt;
      }
    }
    if (s.ended) {
      this.fail(now, s.error ? `connection to ${this.o.url} failed: ${s.error}` : `server closed the connection to ${this.o.url}`);
      return this.retryAt;
    }
    return s.nextArrival();
  }

  close(): void {
    this.stream?.close();
    this.stream = undefined;
    this.state = 'idle';
    this.retryAt = Infinity;
  }

  private open(): void {
    const u = parseRtspUrl(this.o.url);
    this.stream = this.o.streams.connect(u.host, u.port);
    this.parser = new RtspParser();
    this.connects++;
    this.state = 'connecting';
    this.describeCseq = this.cseq++;
    this.stream.write(formatRequest('DESCRIBE', this.o.url, [['CSeq', this.describeCseq], ['User-Agent', this.o.userAgent ?? 'aes67-lab'], ['Accept', 'application/sdp']]));
  }

  private fail(now: number, why: string): void {
    this.error = why;
    this.state = 'failed';
    this.stream?.close();
    this.stream = undefined;
    this.retryAt = now + this.backoff;
    this.backoff = Math.min(this.backoff * 2, 30e9);
  }

  private handle(m: RtspMessage): void {
    const s = this.stream!;
    if (m.kind === 'response') {
      if (Number(m.headers.get('cseq')) !== this.describeCseq) return; // an answer to nothing we await
      if (m.status !== 200) {
        this.error = `DESCRIBE ${this.o.url}: ${m.status} ${m.reason}`;
        this.state = 'failed';
        return;
      }
      const type = m.headers.get('content-type') ?? '';
      if (!/^application\/sdp/i.test(type)) {
        this.error = `DESCRIBE ${this.o.url}: Content-Type "${type}", expected application/sdp`;
        this.state = 'failed';
        return;
      }
      this.sdp = m.body;
      this.describes++;
      this.state = 'described';
      this.backoff = this.o.retryNs ?? 1e9;
      return;
    }
    const cseq = m.headers.get('cseq') ?? '0';
    if (m.method === 'ANNOUNCE' && /^application\/sdp/i.test(m.headers.get('content-type') ?? '') && m.body.length > 0) {
      this.sdp = m.body;
      this.announcements++;
      s.write(formatResponse(200, 'OK', [['CSeq', cseq]]));
      return;
    }
    s.write(formatResponse(405, 'Method Not Allowed', [['CSeq', cseq], ['Allow', 'ANNOUNCE']]));
  }
}

export interface RavennaSessionClientOptions {
  browser: MdnsBrowser;
  streams: StreamTransport;
  sessionName: string;
  userAgent?: string;
}

/**
 * A RAVENNA session by name: discovered through DNS-SD (`_ravenna_session._sub._rtsp._tcp`,
 * instance name = session name) and described over RTSP at the advertised host and port.
 * Poll the browser too (it is its own actor).
 */
export class RavennaSessionClient implements TimedActor {
  client?: RtspClient;
  instance?: DnsSdInstance;

  constructor(readonly o: RavennaSessionClientOptions) {}

  current(): string | undefined {
    return this.client?.current();
  }

  get url(): string | undefined {
    return this.client?.o.url;
  }

  poll(now: number): number {
    const found = this.o.browser.find(this.o.sessionName);
    if (found && found.address && (!this.instance || found.address !== this.instance.address || found.port !== this.instance.port)) {
      this.client?.close();
      this.instance = found;
      this.client = new RtspClient({ streams: this.o.streams, url: ravennaSessionUrl(found.address, found.port, this.o.sessionName), userAgent: this.o.userAgent });
    }
    return this.client ? this.client.poll(now) : Infinity;
  }

  close(): void {
    this.client?.close();
  }
}
