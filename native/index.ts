// The one door from TypeScript into C++: loads the addon that `npm install` built with
// cmake-js and gives it types. Binding files in native/src/ add to `NativeAddon` here.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { RtpAddon } from './rtp.ts';
import type { DriverAddon } from './driver.ts';
import type { SdpAddon } from './sdp.ts';
import type { SapAddon } from './sap.ts';
import type { StreamAddon } from './stream.ts';
import type { BenchAddon } from './bench.ts';
import type { PtpAddon } from './ptp.ts';
import type { RtspAddon } from './rtsp.ts';
import type { MdnsAddon } from './mdns.ts';
import type { VirtualActorsAddon } from './virtual-actors.ts';
import type { GrandmasterAddon } from './grandmaster.ts';
import type { MeasureAddon } from './measure.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const addonPath = path.join(projectRoot, 'build', 'Release', 'aes67_native.node');

export interface VirtualClock {
  /** Virtual nanoseconds. */
  now(): number;
  advanceTo(ns: number | bigint): void;
  advanceBy(ns: number | bigint): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  droppedByImpairment: number;
  duplicatedByImpairment: number;
  noReceiver: number;
  queueOverflow: number;
}

export interface ImpairedPacket {
  source: string;
  destination: string;
  size: number;
  sentAt: number;
  dscp: number;
  data: Buffer;
}

export interface ReceivedDatagram {
  source: string;
  destination: string;
  receivedAt: number;
  dscp: number;
  truncated: boolean;
  data: Buffer;
}

export interface SocketOptions {
  port?: number;
  /** 6-bit DSCP: AES67 media 34 (AF41), PTP event 46 (EF). */
  dscp?: number;
  /** Multicast TTL (default 32). */
  ttl?: number;
  multicastLoop?: boolean;
  receiveQueueLimit?: number;
  bindAddress?: string;
  /** Real sockets: kernel receive buffer (default 4 MiB; 0 keeps the kernel's). */
  receiveBufferBytes?: number;
  /** Real sockets: the interface multicast joins and sends use ("" = routing table). */
  interfaceName?: string;
  /**
   * Real sockets on Linux: ask for the kernel's software transmit time stamps (SO_TIMESTAMPING,
   * taken where the driver transmits, as ptp4l's `time_stamping software`): lastTransmitTime.
   */
  transmitTimestamps?: boolean;
}

/** A socket of the virtual network or of a real UdpTransport: the same calls on both. */
export interface DatagramSocket {
  send(destination: string, data: Uint8Array): void;
  receive(): ReceivedDatagram | null;
  join(group: string, source?: string): void;
  leave(group: string, source?: string): void;
  localEndpoint(): string;
  /** Datagrams dropped before they could be received: the kernel's for a real socket (receive buffer full), the queue limit's on the virtual network. */
  receiveOverflows(): number;
  /**
   * When the last datagram sent left, in the transport's time (ns): the kernel's transmit stamp
   * for a real socket opened with transmitTimestamps, waiting up to `timeoutNs` (default 0) for
   * it; null when it has not come within that time, and always on sockets without them
   * (the virtual network's: there the clock at the send is exact).
   */
  lastTransmitTime(timeoutNs?: number): number | null;
  close(): void;
}

export interface VirtualNetwork {
  addHost(name: string, address: string): void;
  openSocket(hostAddress: string, options?: SocketOptions): DatagramSocket;
  /** The hook returns one extra delay (ns) per copy to deliver: [] loses the packet. */
  setImpairment(hook: ((packet: ImpairedPacket) => number[]) | null): void;
  setBaseDelay(ns: number): void;
  deliverDue(): void;
  nextDeliveryTime(): number | null;
  stats(): NetworkStats;
}

/** Real UDP sockets on an interface; time is CLOCK_MONOTONIC nanoseconds. */
export interface UdpTransport {
  open(options?: SocketOptions): DatagramSocket;
  now(): number;
  /** The interface's IPv4 address ('0.0.0.0' when the routing table chooses). */
  readonly address: string;
}

export interface FrameRingBuffer {
  push(interleaved: Float32Array): number;
  pop(frames: number): Float32Array;
  readonly fill: number;
  readonly capacity: number;
  readonly channels: number;
}

export interface Prng {
  next(): bigint;
  uniform(): number;
  normal(): number;
}

export interface NativeAddon extends RtpAddon, DriverAddon, SdpAddon, SapAddon, StreamAddon, BenchAddon, PtpAddon, RtspAddon, MdnsAddon, VirtualActorsAddon, GrandmasterAddon, MeasureAddon {
  addonVersion: string;
  VirtualClock: new (startNs?: number | bigint) => VirtualClock;
  VirtualNetwork: new (clock: VirtualClock, baseDelayNs?: number) => VirtualNetwork;
  UdpTransport: new (interfaceName?: string) => UdpTransport;
  FrameRingBuffer: new (capacityFrames: number, channels: number) => FrameRingBuffer;
  Prng: new (seed: number | bigint) => Prng;
}

export function addonBuilt(): boolean {
  return existsSync(addonPath);
}

/** For the names of tests skipped without the addon: what is missing and the fix ('' when built). */
export function addonMissingNote(): string {
  return addonBuilt() ? '' : ' (skipped: the native addon build/Release/aes67_native.node is missing: npm run build)';
}

let cached: NativeAddon | undefined;

/** Loads the addon; throws with the fix when it has not been built. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  if (!addonBuilt()) {
    throw new Error(`the native addon is not built (${addonPath} is missing): run 'npm install' or 'npm run build'`);
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as NativeAddon;
  return cached;
}
