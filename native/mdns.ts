// Types of the engine/mdns binding (native/src/mdns_binding.cc), and EngineRavennaSession:
// the engine finding a RAVENNA session by name through its own DNS-SD browser and
// following it with its own RTSP client (FIELD-NOTES "RAVENNA").
import type { VirtualNetwork } from './index.ts';
import { EngineRtspSession, type NativeRtspClient, type RtspClientEvent, type RtspClientOptions, type RtspStreamConnector } from './rtsp.ts';

export type DnsParseErrorName = 'truncated' | 'bad-name' | 'bad-pointer' | 'bad-rdata' | 'too-many-records';

export interface NativeDnsRecord {
  name: string;
  type: number;
  class: number;
  flush: boolean;
  ttl: number;
  /** A: address; PTR: target; SRV: fields; TXT: strings; others: raw bytes. */
  data: string | { priority: number; weight: number; port: number; target: string } | Buffer[] | Buffer;
}

export type NativeDnsParse =
  | { error: DnsParseErrorName }
  | {
      error?: undefined;
      id: number;
      flags: number;
      response: boolean;
      questions: { name: string; type: number; class: number; unicastResponse: boolean }[];
      answers: NativeDnsRecord[];
      authorities: NativeDnsRecord[];
      additionals: NativeDnsRecord[];
    };

export interface EngineDnsSdInstance {
  name: string;
  fqdn: string;
  host?: string;
  address?: string;
  port: number;
  txt: string[];
}

export interface DnsSdBrowserStats {
  received: number;
  responses: number;
  queriesSent: number;
  recordsCached: number;
  cacheFull: number;
  goodbyes: number;
  sendErrors: number;
  dropped: Record<DnsParseErrorName, number>;
}

export interface NativeDnsSdBrowser {
  /** Receives, expires, asks what is due; when it next wants to run (null: never). */
  poll(): number | null;
  instances(): EngineDnsSdInstance[];
  find(name: string): EngineDnsSdInstance | null;
  stats(): DnsSdBrowserStats;
  close(): void;
}

export type MdnsWhere = { network: VirtualNetwork; host: string } | { interfaceName: string };

export interface MdnsAddon {
  parseDns(data: Uint8Array): NativeDnsParse;
  DnsSdBrowser: new (
    where: MdnsWhere,
    options?: { service?: string; subtype?: string | null; interfaceName?: string; firstIntervalNs?: number; maxIntervalNs?: number; maxRecords?: number },
  ) => NativeDnsSdBrowser;
}

/**
 * A RAVENNA session by name: the engine's DNS-SD browser finds it
 * (`_ravenna_session._sub._rtsp._tcp`, instance = session name) and the engine's RTSP
 * client describes it at the address and port the SRV and A records give, following
 * ANNOUNCE; when the session moves (another address or port) a new client follows it.
 * Poll it as a TimedActor.
 */
export class EngineRavennaSession {
  session?: EngineRtspSession;
  instance?: EngineDnsSdInstance;
  readonly events: RtspClientEvent[] = [];

  constructor(
    private readonly o: {
      browser: NativeDnsSdBrowser;
      makeClient: (options: RtspClientOptions) => NativeRtspClient;
      streams: RtspStreamConnector;
      sessionName: string;
      client?: Omit<RtspClientOptions, 'url'>;
    },
  ) {}

  current(): string | null {
    return this.session?.current() ?? null;
  }

  get url(): string | undefined {
    return this.session?.client.url;
  }

  poll(now: number): number {
    const browserNext = this.o.browser.poll() ?? Infinity;
    const found = this.o.browser.find(this.o.sessionName);
    if (found?.address && found.port && (!this.instance || found.address !== this.instance.address || found.port !== this.instance.port)) {
      this.session?.close();
      this.instance = found;
      const url = `rtsp://${found.address}:${found.port}/by-name/${encodeURIComponent(this.o.sessionName)}`;
      this.session = new EngineRtspSession(this.o.makeClient({ ...this.o.client, url }), this.o.streams, (e) => this.events.push(e));
    }
    return Math.min(browserNext, this.session ? this.session.poll(now) : Infinity);
  }

  close(): void {
    this.session?.close();
  }
}
