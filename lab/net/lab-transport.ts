// Where the lab's emulated devices send and receive. A peer (grandmaster, sender, receiver,
// relay) is written once against LabTransport and TimedActor and runs unchanged on the
// native virtual network in virtual time (deterministic, faster than real time) or on real
// UDP sockets on an interface (live runs, namespaces, HIL). Sockets never block: a peer
// drains them in poll().
import { loadNative, type DatagramSocket, type SocketOptions, type VirtualClock, type VirtualNetwork } from '../../native/index.ts';

export type { DatagramSocket, SocketOptions };

export interface LabTransport {
  readonly kind: 'virtual' | 'udp';
  /** The IPv4 address this host's packets leave from. */
  readonly address: string;
  /** Local monotonic nanoseconds: the virtual clock, or CLOCK_MONOTONIC for real sockets. */
  now(): number;
  open(options?: SocketOptions): DatagramSocket;
}

/**
 * Something that lives in time. `poll(now)` does everything due at or before `now`, drains
 * its sockets, and returns the time it next wants to run (Infinity: only when packets come).
 */
export interface TimedActor {
  poll(now: number): number;
  /**
   * When the virtual scheduler may leave it out (runVirtual; real time ignores it). Absent:
   * polled at every step. 'due': only at the time it returned (it never reads a socket).
   * 'due-or-delivery': at that time and at every step on which the virtual network
   * delivered datagrams (everything it waits for comes through VirtualNetwork sockets).
   */
  readonly pollOn?: 'due' | 'due-or-delivery';
}

/** A host on the virtual network (added if it does not exist yet). */
export function virtualHost(network: VirtualNetwork, clock: VirtualClock, address: string, name = `host-${address}`): LabTransport {
  try {
    network.addHost(name, address);
  } catch (e) {
    if (!/taken|exists/.test((e as Error).message)) throw e;
  }
  return {
    kind: 'virtual',
    address,
    now: () => clock.now(),
    open: (options) => network.openSocket(address, options),
  };
}

/** Real UDP on `interfaceName` ("" or absent: the routing table chooses). */
export function udpTransport(interfaceName = ''): LabTransport {
  const native = loadNative();
  const t = new native.UdpTransport(interfaceName);
  return {
    kind: 'udp',
    address: t.address,
    now: () => t.now(),
    open: (options) => t.open({ interfaceName, ...options }),
  };
}

export interface VirtualRunOptions {
  /** Stop when virtual time reaches this (ns). */
  untilNs: number;
  /** Called after every step (the runner samples stats here). */
  onStep?: (now: number) => void;
}

/**
 * Runs actors on the virtual network until `untilNs`: time jumps to the next moment an
 * actor or a datagram is due, due datagrams are delivered, and every actor is polled (but
 * the ones whose `pollOn` says they have nothing to do then). Returns the number of steps taken.
 */
export function runVirtual(actors: TimedActor[], network: VirtualNetwork, clock: VirtualClock, o: VirtualRunOptions): number {
  const due = actors.map((a) => a.poll(clock.now()));
  const when = actors.map((a) => (a.pollOn === 'due' ? 1 : a.pollOn === 'due-or-delivery' ? 2 : 0));
  const native = loadNative();
  // [now, delivered since the previous step, the network's delivered count] (virtual-step.ts).
  const state = new Float64Array([0, 0, -1]);
  let steps = 0;
  for (;;) {
    let next = Infinity;
    for (const d of due) if (d < next) next = d;
    if (!native.virtualStep(network, clock, o.untilNs, next, state)) break;
    const now = state[0];
    const delivered = state[1] !== 0;
    for (let i = 0; i < actors.length; i++) {
      const w = when[i];
      if (w === 0 || due[i] <= now || (w === 2 && delivered)) due[i] = actors[i].poll(now);
    }
    o.onStep?.(now);
    steps++;
  }
  if (clock.now() < o.untilNs) clock.advanceTo(o.untilNs);
  return steps;
}

export interface RealRunOptions {
  durationNs: number;
  /** Longest sleep between polls, so sockets are drained while no timer is due (default 1 ms). */
  maxIdleNs?: number;
  signal?: AbortSignal;
  /**
   * 'timer' (default): sleep on a Node timer to the next due time, never less than one
   * timer tick (~1 ms), so a 1 ms-paced peer costs a few percent of a core and packets due
   * within a tick leave together when it fires. 'spin': yield with setImmediate whenever the
   * next due time is under 1 ms away, for sub-millisecond send times at the price of a whole
   * core per process (on a 2-core host shared with a DUT, the spin is what stalls the lab).
   */
  pacing?: 'timer' | 'spin';
}

/**
 * Runs actors in real time for `durationNs` (or until the signal aborts). Node timers have
 * about 1 ms granularity, so sub-millisecond packet times leave in small bursts per tick;
 * due times themselves are absolute, so no drift accumulates.
 */
export async function runRealTime(actors: TimedActor[], transport: LabTransport, o: RealRunOptions): Promise<void> {
  const maxIdle = o.maxIdleNs ?? 1_000_000;
  const spin = o.pacing === 'spin';
  const end = transport.now() + o.durationNs;
  while (!o.signal?.aborted) {
    const now = transport.now();
    if (now >= end) break;
    let next = end;
    for (const a of actors) next = Math.min(next, a.poll(now));
    const wait = Math.min(next, now + maxIdle) - transport.now();
    if (spin) await new Promise((r) => (wait >= 1e6 ? setTimeout(r, Math.floor(wait / 1e6)) : setImmediate(r)));
    // A timer of 0 fires on the next tick (Node makes it 1 ms): never a spin, even for an
    // actor that keeps saying "now".
    else await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(wait / 1e6))));
  }
}
