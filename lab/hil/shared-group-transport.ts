// The HIL runner's window receivers share one real socket per group and port, opened and
// joined once for the whole run. Opening a socket and joining its group (with a source
// filter) for every 5 s window cost a returned packet now and then: in 60 s runs the lab's
// receivers lost 0-2 packets, each at a window's opening (glitch at 5.000363 s and 20.000363
// s into the span, on the stream whose socket was opened last; rtp.lab.lost 2, the DUT's
// counters clean), which is the kernel's multicast source filter being rebuilt while a
// datagram of that group arrived. Each open() here returns a handle with its own queue:
// what the shared socket receives is handed to every handle open at that moment.
import type { DatagramSocket, ReceivedDatagram, SocketOptions } from '../../native/index.ts';
import type { LabTransport } from '../net/lab-transport.ts';

interface Shared {
  socket: DatagramSocket;
  handles: Set<Handle>;
  joined: Set<string>;
  limit: number;
}

class Handle implements DatagramSocket {
  private queue: ReceivedDatagram[] = [];
  private head = 0;
  dropped = 0;
  constructor(private readonly shared: Shared) {}

  push(d: ReceivedDatagram): void {
    if (this.queue.length - this.head >= this.shared.limit) {
      this.dropped++;
      return;
    }
    this.queue.push(d);
  }

  receive(): ReceivedDatagram | null {
    pump(this.shared);
    if (this.head >= this.queue.length) {
      if (this.head > 0) this.queue = [];
      this.head = 0;
      return null;
    }
    return this.queue[this.head++];
  }

  send(destination: string, data: Uint8Array): void {
    this.shared.socket.send(destination, data);
  }

  join(group: string, source?: string): void {
    const key = `${group}|${source ?? ''}`;
    if (this.shared.joined.has(key)) return;
    this.shared.socket.join(group, source);
    this.shared.joined.add(key);
  }

  /** The membership stays with the shared socket (leaving and joining again is what lost packets). */
  leave(): void {}

  localEndpoint(): string {
    return this.shared.socket.localEndpoint();
  }

  close(): void {
    this.shared.handles.delete(this);
  }
}

function pump(s: Shared): void {
  for (let d = s.socket.receive(); d; d = s.socket.receive()) for (const h of s.handles) h.push(d);
}

export interface SharedGroupTransport extends LabTransport {
  /** Datagrams a handle's full queue dropped (its receiver counts them lost). */
  dropped(): number;
  /** Closes the shared sockets (the handles then receive nothing). */
  close(): void;
}

/** A transport whose sockets bound to the same address and port share one real socket (see above). */
export function sharedGroupTransport(inner: LabTransport): SharedGroupTransport {
  const shared = new Map<string, Shared>();
  let droppedByClosed = 0;
  return {
    kind: inner.kind,
    address: inner.address,
    now: () => inner.now(),
    open(options?: SocketOptions): DatagramSocket {
      if (!options?.port) throw new Error('sharedGroupTransport: a shared socket needs a fixed port (an ephemeral one cannot be shared)');
      const key = `${options.bindAddress ?? ''}:${options.port}`;
      let s = shared.get(key);
      if (!s) shared.set(key, (s = { socket: inner.open(options), handles: new Set(), joined: new Set(), limit: options.receiveQueueLimit ?? 4096 }));
      // What arrived before this handle opened goes to the handles open then, not to it.
      pump(s);
      const h = new Handle(s);
      const close = h.close.bind(h);
      let closed = false;
      h.close = () => {
        if (closed) return;
        closed = true;
        droppedByClosed += h.dropped;
        close();
      };
      s.handles.add(h);
      return h;
    },
    dropped() {
      let n = droppedByClosed;
      for (const s of shared.values()) for (const h of s.handles) n += h.dropped;
      return n;
    },
    close() {
      for (const s of shared.values()) s.socket.close();
      shared.clear();
    },
  };
}
