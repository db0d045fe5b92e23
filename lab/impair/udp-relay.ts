// A user-space UDP relay that applies an ImpairmentModel: it receives on one side (a port,
// optionally a multicast group) and forwards each datagram to a destination after the
// delays the model decides (none if lost, two if duplicated). This is how live runs get
// loss, jitter and reordering between namespaces, because the kernel here has no netem
// (netem.test.ts checks, rather than assumes, that `tc qdisc add ... netem` fails).
// Times are the transport's: a datagram's kernel receive time plus the extra delay.
import type { DatagramSocket, LabTransport, TimedActor } from '../net/lab-transport.ts';
import { ImpairmentModel } from './impairment.ts';

export interface UdpRelayOptions {
  /** Port to receive on. */
  listenPort: number;
  /** Multicast group to join on the receiving side. */
  join?: string;
  /** Where every datagram goes ("ip:port"). */
  forwardTo: string;
  /** What decides each datagram's copies (an ImpairmentModel, or one gated in time around it). */
  impairment: Pick<ImpairmentModel, 'decide'>;
  /** Told every decision (the datagram, its receive time, the copies' extra delays; [] lost): a LossLedger keeps them. */
  onDecided?: (data: Buffer, receivedAt: number, copies: readonly number[]) => void;
  /** DSCP of forwarded datagrams (default 34, AES67 media). */
  dscp?: number;
  /** Datagrams held at once; beyond it new ones are dropped and counted (default 65536). */
  maxQueued?: number;
  /** Keep each datagram's scheduled and actual send times (tests). */
  keepLog?: boolean;
}

export interface RelayLogEntry {
  receivedAt: number;
  dueAt: number;
  sentAt: number;
  data: Buffer;
}

export interface UdpRelayStats {
  received: number;
  forwarded: number;
  queueOverflow: number;
  /** How late sends left after their due time (ns): scheduler lateness, not impairment. */
  maxLatenessNs: number;
  meanLatenessNs: number;
}

interface Pending {
  dueAt: number;
  order: number;
  receivedAt: number;
  data: Buffer;
}

export class UdpRelay implements TimedActor {
  readonly log: RelayLogEntry[] = [];
  private readonly rx: DatagramSocket;
  private readonly tx: DatagramSocket;
  private readonly queue: Pending[] = []; // binary heap by (dueAt, order)
  private order = 0;
  private latenessSum = 0;
  private readonly statsValue: UdpRelayStats = { received: 0, forwarded: 0, queueOverflow: 0, maxLatenessNs: 0, meanLatenessNs: 0 };

  constructor(
    private readonly transport: LabTransport,
    private readonly o: UdpRelayOptions,
  ) {
    if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(o.forwardTo)) throw new Error(`relay forwardTo "${o.forwardTo}": write ip:port`);
    this.rx = transport.open({ port: o.listenPort, receiveQueueLimit: 1 << 16, ...(o.join ? { bindAddress: o.join } : {}) });
    if (o.join) this.rx.join(o.join);
    this.tx = transport.open({ dscp: o.dscp ?? 34 });
  }

  get stats(): UdpRelayStats {
    const s = this.statsValue;
    return { ...s, meanLatenessNs: s.forwarded ? this.latenessSum / s.forwarded : 0 };
  }

  poll(now: number): number {
    for (let d = this.rx.receive(); d; d = this.rx.receive()) {
      this.statsValue.received++;
      const delays = this.o.impairment.decide({ source: d.source, destination: d.destination, sentAt: d.receivedAt, dscp: d.dscp });
      this.o.onDecided?.(d.data, d.receivedAt, delays);
      for (const extra of delays) {
        if (this.queue.length >= (this.o.maxQueued ?? 65536)) {
          this.statsValue.queueOverflow++;
          continue;
        }
        this.push({ dueAt: d.receivedAt + extra, order: this.order++, receivedAt: d.receivedAt, data: d.data });
      }
    }
    const t = Math.max(now, this.transport.now());
    while (this.queue.length > 0 && this.queue[0].dueAt <= t) {
      const p = this.pop();
      this.tx.send(this.o.forwardTo, p.data);
      const lateness = Math.max(0, t - p.dueAt);
      this.statsValue.forwarded++;
      this.latenessSum += lateness;
      if (lateness > this.statsValue.maxLatenessNs) this.statsValue.maxLatenessNs = lateness;
      if (this.o.keepLog) this.log.push({ receivedAt: p.receivedAt, dueAt: p.dueAt, sentAt: t, data: p.data });
    }
    return this.queue.length > 0 ? this.queue[0].dueAt : Infinity;
  }

  close(): void {
    this.rx.close();
    this.tx.close();
  }

  private less(a: Pending, b: Pending): boolean {
    return a.dueAt !== b.dueAt ? a.dueAt < b.dueAt : a.order < b.order;
  }

  private push(p: Pending): void {
    const q = this.queue;
    q.push(p);
    for (let i = q.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(q[i], q[parent])) break;
      [q[i], q[parent]] = [q[parent], q[i]];
      i = parent;
    }
  }

  private pop(): Pending {
    const q = this.queue;
    const top = q[0];
    const last = q.pop()!;
    if (q.length > 0) {
      q[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && this.less(q[l], q[m])) m = l;
        if (r < q.length && this.less(q[r], q[m])) m = r;
        if (m === i) break;
        [q[i], q[m]] = [q[m], q[i]];
        i = m;
      }
    }
    return top;
  }
}
