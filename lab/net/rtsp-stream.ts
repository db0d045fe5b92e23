// Byte streams for RTSP, polled like the lab's datagram sockets, on two carriers:
// - tcpStreams(): real TCP through node:net, for live runs (a peer in a namespace listens
//   on its interface address; data events queue bytes that poll() reads);
// - VirtualStreamHub: an in-process stream pair per connection, in virtual time. A write
//   lands in the peer's inbox stamped `now + latency`; the peer reads only bytes whose
//   stamp has passed, in order, and reports the next stamp through nextArrival() so
//   runVirtual wakes it exactly then. Connect (SYN) and close (FIN) travel the same way.
//   The bytes are the same RTSP bytes a TCP socket would carry; only segmentation,
//   windows and retransmission are absent (a loss-free, in-order pipe, like TCP on a LAN).
import net from 'node:net';

export interface ByteStream {
  /** Bytes that have arrived and were not read yet, or null. */
  read(): Uint8Array | null;
  write(bytes: Uint8Array | string): void;
  /** Half-closes our side (FIN) and stops reading. */
  close(): void;
  /** True once the peer closed (after its bytes were read) or we closed, or it failed. */
  readonly ended: boolean;
  /** Why it failed (refused, reset), if it did. */
  readonly error?: string;
  readonly remote: string;
  readonly local: string;
  /**
   * Local time of the next arrival on this connection in either direction (so the side
   * that wrote also wakes when its bytes land, and the reader, polled then, sees them);
   * Infinity if unknown (real TCP) or none.
   */
  nextArrival(): number;
}

export interface StreamListener {
  /** A connection that arrived and was not taken yet, or null. */
  accept(): ByteStream | null;
  close(): void;
  readonly port: number;
  nextArrival(): number;
}

export interface StreamTransport {
  readonly kind: 'virtual' | 'tcp';
  listen(port: number): StreamListener;
  connect(host: string, port: number): ByteStream;
}

function toBytes(b: Uint8Array | string): Uint8Array {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

// ------------------------------------------------------------------ real TCP

class TcpStream implements ByteStream {
  private chunks: Buffer[] = [];
  ended = false;
  error?: string;
  remote: string;
  local: string;

  constructor(private readonly socket: net.Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.local = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
      this.local = `${socket.localAddress}:${socket.localPort}`;
    });
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('end', () => socket.end());
    socket.on('close', () => (this.ended = true));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message;
      this.ended = true;
    });
  }

  read(): Uint8Array | null {
    if (this.chunks.length === 0) return null;
    const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }

  write(bytes: Uint8Array | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(toBytes(bytes));
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
    this.ended = true;
  }

  nextArrival(): number {
    return Infinity;
  }
}

/** Real TCP; `bindAddress` is the address servers listen on and clients connect from. */
export function tcpStreams(bindAddress?: string): StreamTransport {
  const local = bindAddress && bindAddress !== '0.0.0.0' ? bindAddress : undefined;
  return {
    kind: 'tcp',
    listen(port) {
      const pending: ByteStream[] = [];
      const server = net.createServer((s) => pending.push(new TcpStream(s)));
      let failure: Error | undefined;
      server.on('error', (e) => (failure = e));
      server.listen({ port, host: local, exclusive: true });
      return {
        port,
        accept() {
          if (failure) throw new Error(`RTSP listen on ${local ?? '*'}:${port}: ${failure.message}`);
          return pending.shift() ?? null;
        },
        close: () => server.close(),
        nextArrival: () => Infinity,
      };
    },
    connect(host, port) {
      return new TcpStream(net.connect({ host, port, ...(local ? { localAddress: local } : {}) }));
    },
  };
}

// ------------------------------------------------------------------ virtual time

interface Chunk {
  at: number;
  bytes: Uint8Array | null; // null: FIN
}

class VirtualStream implements ByteStream {
  peer!: VirtualStream;
  readonly inbox: Chunk[] = [];
  ended = false;
  error?: string;
  private finSent = false;

  constructor(
    private readonly hub: VirtualStreamHub,
    readonly local: string,
    readonly remote: string,
  ) {}

  read(): Uint8Array | null {
    const now = this.hub.now();
    const parts: Uint8Array[] = [];
    while (this.inbox.length > 0 && this.inbox[0].at <= now) {
      const c = this.inbox.shift()!;
      if (c.bytes === null) {
        this.ended = true;
        break;
      }
      parts.push(c.bytes);
    }
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  write(bytes: Uint8Array | string): void {
    if (this.finSent || this.ended) return;
    this.peer.deliver({ at: this.hub.now() + this.hub.latencyNs, bytes: Uint8Array.from(toBytes(bytes)) });
  }

  close(): void {
    if (!this.finSent) this.peer.deliver({ at: this.hub.now() + this.hub.latencyNs, bytes: null });
    this.finSent = true;
    this.ended = true;
  }

  deliver(c: Chunk): void {
    if (!this.ended || c.bytes === null) this.inbox.push(c);
  }

  nextArrival(): number {
    const own = this.ended || this.inbox.length === 0 ? Infinity : this.inbox[0].at;
    const theirs = this.peer.ended || this.peer.inbox.length === 0 ? Infinity : this.peer.inbox[0].at;
    return Math.min(own, theirs);
  }
}

/**
 * In-process stream connections between virtual hosts. `now` is the virtual clock; each
 * direction delivers bytes `latencyNs` after they were written, in order.
 */
export class VirtualStreamHub {
  private readonly listeners = new Map<string, { queue: { at: number; stream: VirtualStream }[] }>();
  private nextPort = 40000;

  constructor(
    readonly now: () => number,
    readonly latencyNs = 50_000,
  ) {}

  /** The streams of one virtual host. */
  host(address: string): StreamTransport {
    return {
      kind: 'virtual',
      listen: (port) => this.listen(address, port),
      connect: (host, port) => this.connect(address, host, port),
    };
  }

  private listen(address: string, port: number): StreamListener {
    const key = `${address}:${port}`;
    if (this.listeners.has(key)) throw new Error(`virtual stream listen on ${key}: address in use`);
    const entry = { queue: [] as { at: number; stream: VirtualStream }[] };
    this.listeners.set(key, entry);
    return {
      port,
      accept: () => {
        const head = entry.queue[0];
        if (!head || head.at > this.now()) return null;
        return entry.queue.shift()!.stream;
      },
      close: () => this.listeners.delete(key),
      nextArrival: () => entry.queue[0]?.at ?? Infinity,
    };
  }

  private connect(from: string, host: string, port: number): ByteStream {
    const local = `${from}:${this.nextPort++}`;
    const remote = `${host}:${port}`;
    const client = new VirtualStream(this, local, remote);
    const server = new VirtualStream(this, remote, local);
    client.peer = server;
    server.peer = client;
    const entry = this.listeners.get(remote);
    if (!entry) {
      client.error = 'ECONNREFUSED';
      client.ended = true;
      return client;
    }
    entry.queue.push({ at: this.now() + this.latencyNs, stream: server });
    return client;
  }
}
