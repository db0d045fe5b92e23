// Types of the engine/rtsp binding (native/src/rtsp_binding.cc), and EngineRtspSession,
// which carries the engine's sans-IO RtspClient over any byte stream that connects by
// host and port — the lab's VirtualStreamHub (virtual time) or its node:net streams. The
// stream interface is written here structurally so native/ does not import lab/.

export type RtspParseErrorName =
  | 'line-too-long'
  | 'header-too-long'
  | 'too-many-headers'
  | 'bad-start-line'
  | 'bad-header'
  | 'bad-content-length'
  | 'body-too-long';

/** A parsed message; text fields that may hold any byte are Buffers (decode as the caller wants). */
export type NativeRtspMessage =
  | { kind: 'request'; method: string; url: string; version: string; headers: [Buffer, Buffer][]; body: Buffer }
  | { kind: 'response'; status: number; reason: Buffer; version: string; headers: [Buffer, Buffer][]; body: Buffer };

export interface NativeRtspParserStats {
  messages: number;
  requests: number;
  responses: number;
  bytes: number;
  blankLines: number;
  refused: Record<RtspParseErrorName, number>;
}

export interface NativeRtspParser {
  /** Every message these bytes complete; `error` once the stream is refused (it stays refused until reset()). */
  push(bytes: Uint8Array): { messages: NativeRtspMessage[]; error?: RtspParseErrorName; detail?: string };
  reset(): void;
  /** Nothing of a next message read yet. */
  idle(): boolean;
  stats(): NativeRtspParserStats;
}

export type RtspClientStateName = 'idle' | 'connecting' | 'requesting' | 'described' | 'backoff' | 'stopped';

export type RtspClientErrorName =
  | 'connect-failed'
  | 'connect-timeout'
  | 'response-timeout'
  | 'closed'
  | 'not-found'
  | 'method-not-allowed'
  | 'not-acceptable'
  | 'status'
  | 'not-sdp'
  | 'bad-sdp'
  | 'protocol'
  | 'bad-announce'
  | 'overflow';

export type RtspClientEvent =
  | { kind: 'description'; at: number; sdp: string; changed: boolean }
  | { kind: 'changed'; at: number; sdp: string; changed: true }
  | { kind: 'error'; at: number; error: RtspClientErrorName; message: string; status?: number };

export interface RtspClientStats {
  connects: number;
  connected: number;
  requests: number;
  describes: number;
  announcements: number;
  unchangedAnnouncements: number;
  serverRequests: number;
  refusedServerRequests: number;
  unexpectedResponses: number;
  ignoredBytes: number;
  droppedEvents: number;
  errors: Partial<Record<RtspClientErrorName, number>>;
  parser: NativeRtspParserStats;
}

export interface RtspClientOptions {
  /** rtsp://host[:port]/by-name/<url-encoded name> or /by-id/<n> */
  url: string;
  sendOptions?: boolean;
  userAgent?: string;
  connectTimeoutNs?: number;
  responseTimeoutNs?: number;
  /** First retry delay after a failure; it doubles up to retryMaxNs. */
  retryNs?: number;
  retryMaxNs?: number;
  /** OPTIONS this often while described (0: never, the default). */
  keepaliveNs?: number;
  maxOutgoingBytes?: number;
  maxQueuedEvents?: number;
}

interface RtspClientView {
  /** Drains what happened: description, changed, error. */
  events(): RtspClientEvent[];
  state(): RtspClientStateName;
  /** The session's current SDP. */
  current(): string | null;
  stats(): RtspClientStats;
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/** The engine's sans-IO client: the owner of the byte stream carries out its link commands. */
export interface NativeRtspClient extends RtspClientView {
  /** 'connect': close any stream held and open one to host:port; 'close': close it. */
  takeLinkCommand(): 'connect' | 'close' | null;
  connected(now: number): void;
  connectFailed(now: number, why: string): void;
  closed(now: number, why?: string): void;
  receive(bytes: Uint8Array, now: number): void;
  takeOutgoing(): Buffer;
  /** Time-outs and retries; when it next wants to be polled (null: never). */
  poll(now: number): number | null;
  stop(): void;
}

/** The same client on a real TCP socket (time: CLOCK_MONOTONIC, as UdpTransport.now()). */
export interface NativeRtspTcpClient extends RtspClientView {
  poll(): number | null;
  now(): number;
  stop(): void;
  /** The connection's local address:port, or null. */
  local(): string | null;
}

export interface RtspAddon {
  RtspParser: new () => NativeRtspParser;
  writeRtspRequest(method: string, url: string, headers: [string, string][], body?: string | Uint8Array): Buffer;
  writeRtspResponse(status: number, reason: string, headers: [string, string][], body?: string | Uint8Array): Buffer;
  RtspClient: new (options: RtspClientOptions) => NativeRtspClient;
  RtspTcpClient: new (options: RtspClientOptions & { bindAddress?: string; dscp?: number }) => NativeRtspTcpClient;
  rtspLimits: { maxLineBytes: number; maxHeaderBlockBytes: number; maxHeaders: number; maxBodyBytes: number };
}

/** A byte stream as lab/net/rtsp-stream.ts defines it (structurally). */
export interface RtspByteStream {
  read(): Uint8Array | null;
  write(bytes: Uint8Array | string): void;
  close(): void;
  readonly ended: boolean;
  readonly error?: string;
  nextArrival(): number;
}

export interface RtspStreamConnector {
  connect(host: string, port: number): RtspByteStream;
}

/**
 * The engine's RtspClient on a lab byte stream, polled like a TimedActor: it opens and
 * closes the stream when the client says, feeds it what arrives, writes what it answers.
 * A stream refused at once (the virtual hub with nothing listening) is a connect failure;
 * otherwise the stream counts as connected at once, as a TCP socket that may be written
 * before the handshake completes.
 */
export class EngineRtspSession {
  private stream?: RtspByteStream;
  private readonly log: RtspClientEvent[] = [];

  constructor(
    readonly client: NativeRtspClient,
    private readonly streams: RtspStreamConnector,
    private readonly onEvent?: (e: RtspClientEvent) => void,
  ) {}

  /** Every event so far (also given to onEvent as they happen). */
  get events(): readonly RtspClientEvent[] {
    return this.log;
  }

  current(): string | null {
    return this.client.current();
  }

  poll(now: number): number {
    let next = Infinity;
    // A few rounds: one step's output (a command, bytes to write) is the next one's input.
    for (let round = 0; round < 4; round++) {
      let progress = this.link(now);
      const s = this.stream;
      if (s) {
        const bytes = s.read();
        if (bytes && bytes.length > 0) {
          this.client.receive(bytes, now);
          progress = true;
        }
        if (s.ended && this.stream === s) {
          this.stream = undefined;
          this.client.closed(now, s.error ?? 'EOF');
          progress = true;
        }
      }
      progress = this.link(now) || progress;
      const due = this.client.poll(now);
      next = due ?? Infinity;
      progress = this.link(now) || progress;
      const out = this.client.takeOutgoing();
      if (out.length > 0 && this.stream) {
        this.stream.write(out);
        progress = true;
      }
      this.drainEvents();
      if (!progress) break;
    }
    return Math.min(next, this.stream?.nextArrival() ?? Infinity);
  }

  close(): void {
    this.client.stop();
    this.link(0);
    this.drainEvents();
  }

  private link(now: number): boolean {
    const command = this.client.takeLinkCommand();
    if (command === null) return false;
    this.stream?.close();
    this.stream = undefined;
    if (command === 'connect') {
      const s = this.streams.connect(this.client.host, this.client.port);
      if (s.ended) {
        this.client.connectFailed(now, s.error ?? 'refused');
      } else {
        this.stream = s;
        this.client.connected(now);
      }
    }
    return true;
  }

  private drainEvents(): void {
    for (const e of this.client.events()) {
      this.log.push(e);
      this.onEvent?.(e);
    }
  }
}
