// Types of the engine/stream binding (native/src/stream_binding.cc).
import type { VirtualNetwork } from './index.ts';
import type { RtpFormat } from './rtp.ts';

export interface RxStreamOptions {
  id: string;
  sdp: string;
  /** Stream channel i -> device input channel (1-128, 0 = not routed); default 1..N. */
  channelMap?: number[];
  linkOffset?: number;
}

export interface TxStreamOptions {
  id: string;
  name?: string;
  destination: string;
  ttl?: number;
  format: RtpFormat;
  framesPerPacket?: number;
  channelMap?: number[];
  /** 'recvonly' (default: what AES67 and Dante senders announce), 'sendonly', 'sendrecv', 'inactive' or '' (omitted). */
  direction?: string;
  ssrc?: number;
  channelLabels?: string[];
}

export interface StreamManager {
  addRx(options: RxStreamOptions): void;
  addTx(options: TxStreamOptions): void;
  remove(id: string): void;
  txSdp(id: string): string;
  startIo(): void;
  stopIo(): void;
  ioRunning(): boolean;
  /** Receives and sends what is due; the next TX due time (ns) or null. */
  poll(): number | null;
  pushTx(id: string, interleaved: Float32Array): number;
  readRx(id: string, mediaTime: number, frames: number): Float32Array;
  channelMap(id: string): number[];
  framesPerPacket(id: string): number;
  configJson(): string;
  applyJson(json: string): void;
  save(folder: string): void;
  load(folder: string): { source: 'file' | 'last-good' | 'empty'; problem?: string; movedAside?: string };
  stats(id: string): { received?: number; accepted?: number; lost?: number; packetsSent?: number };
}

export interface StreamAddon {
  StreamManager: new (network: VirtualNetwork, hostAddress: string, options?: { sampleRate?: number }) => StreamManager;
}
