// Where the lab's emulated devices send and receive. A peer (grandmaster, sender, receiver,
// relay) is written once against LabTransport and TimedActor and runs unchanged on the
// native virtual network in virtual time (deterministic, faster than real time) or on real
// UDP sockets on an interface (live runs, namespaces, HIL). Sockets never block: a peer
// drains them in poll().
import { loadNative, type DatagramSocket, type SocketOptions, type VirtualClock, type VirtualNetwork } from '../../native/index.ts';
import type { NativeActorHandle, SchedulerTimings, VirtualScheduler } from '../../native/virtual-actors.ts';

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
  /**
   * An actor that lives in C++ (native/virtual-actors.ts): runVirtual's scheduler polls it
   * there, with the pollOn it declares, never through poll() (which still works from TS).
   */
  readonly native?: NativeActorHandle;
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
  /**
   * VirtualRun.until only: carry on from where the previous until stopped, without its
   * opening round of polls (every actor at the clock's time; only native actors that say
   * something is pending for them are polled there). For a run cut in slices by a caller
   * that changed no actor in between.
   */
  resume?: boolean;
}

/**
 * Actors on the virtual network, run until a moment at a time (`until`): every actor is
 * polled once at the clock's time, then time jumps to the next moment an actor or a
 * datagram is due, due datagrams are delivered, and every actor is polled in order (but the
 * ones whose `pollOn` says they have nothing to do then). The steps run in C++
 * (native/src/virtual_actors_binding.cc VirtualScheduler), which polls native actors itself
 * and returns here only for a TypeScript actor with something to do: one due, one polled at
 * every step, or one waiting for datagrams when a socket TypeScript opened got some
 * (deliveries to the device's or native actors' sockets wake no TypeScript actor).
 * Keep one VirtualRun for a run of many slices: the native scheduler behind it is made
 * once (one made per slice stayed in native memory until the event loop ran, i.e. for the
 * whole synchronous run: 1.4 KB a slice).
 */
export class VirtualRun {
  private readonly scheduler: VirtualScheduler;
  private readonly dues: Float64Array;
  // [now of the step, steps taken]
  private readonly state = new Float64Array(2);
  private begun = false;

  constructor(
    private readonly actors: TimedActor[],
    network: VirtualNetwork,
    private readonly clock: VirtualClock,
  ) {
    this.dues = new Float64Array(actors.length);
    const when = actors.map((a) => (a.pollOn === 'due' ? 1 : a.pollOn === 'due-or-delivery' ? 2 : 0));
    this.scheduler = new (loadNative().VirtualScheduler)(network, clock, actors.map((a) => a.native ?? null), when);
  }

  /** From now on the native scheduler counts and times its native actors' polls and its deliveries (timings()). */
  setTimed(on: boolean): void {
    this.scheduler.setTimed(on);
  }

  /** What setTimed counted: polls and ns per actor (native ones; TypeScript actors' are 0), delivery ns, steps. */
  timings(): SchedulerTimings {
    return this.scheduler.timings();
  }

  /** Runs until `o.untilNs`; returns the number of steps taken. */
  until(o: VirtualRunOptions): number {
    const { actors, dues, state, scheduler, clock } = this;
    state[1] = 0;
    if (o.resume && this.begun) scheduler.resume();
    else scheduler.begin();
    this.begun = true;
    const stopEachStep = o.onStep !== undefined;
    for (;;) {
      const i = scheduler.run(o.untilNs, dues, state, stopEachStep);
      if (i === -1) break;
      if (i === -2) o.onStep!(state[0]);
      else dues[i] = actors[i].poll(state[0]);
    }
    if (clock.now() < o.untilNs) clock.advanceTo(o.untilNs);
    return state[1];
  }
}

/** One VirtualRun of `actors` until `o.untilNs` (for a single call; a loop of slices keeps a VirtualRun). */
export function runVirtual(actors: TimedActor[], network: VirtualNetwork, clock: VirtualClock, o: VirtualRunOptions): number {
  return new VirtualRun(actors, network, clock).until(o);
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
