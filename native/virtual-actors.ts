// Types of native/src/virtual_actors_binding.cc: the lab's AES67 sender and receiver in C++
// for virtual-time runs, and the scheduler that polls them (and the emulated DUT) without
// crossing into JavaScript per packet. lab/peers/native-aes67-sender.ts and
// native-aes67-receiver.ts wrap them as TimedActors; lab/net/lab-transport.ts runVirtual
// drives the scheduler.
import type { SocketOptions, VirtualClock, VirtualNetwork } from './index.ts';

/** An actor the scheduler polls in C++ (TimedActor.native): an opaque handle. */
export type NativeActorHandle = { readonly __nativeActor: unique symbol };

/** lab/net/ptp-timescale.ts linearTimescale(epochNs, ppm), which both take their times from. */
export interface NativeLinearTimescale {
  epochNs: bigint;
  ppm: number;
}

export interface NativeAes67SenderConfig extends NativeLinearTimescale {
  /** The virtual host it sends from. */
  host: string;
  socket: SocketOptions;
  /** 'group:port'. */
  destination: string;
  sampleRate: number;
  channels: number;
  framesPerPacket: number;
  encoding: 'L16' | 'L24' | 'L32';
  payloadType: number;
  ssrc: number;
  /** The first packet's sequence number. */
  sequence: number;
  mediaclkOffset: number;
  sendDelayNs?: number;
  startAtNs?: number;
  /**
   * Per channel, one period of its signal encoded by lab/net/pcm.ts encodePcm (sample k of
   * the channel is the k mod length'th sample of these bytes).
   */
  encoded: Uint8Array[];
}

export interface NativeAes67Sender {
  poll(now: number): number;
  nativeActor(): NativeActorHandle;
  /**
   * payloadsCached: its payloads repeat within the cache's bounds; payloadsPartlyCached: some
   * channels' do (the rest rendered over them); payloadSharers: senders (itself included)
   * sending from the same payloads.
   */
  stats(): { packets: number; skipped: number; firstSample: bigint; payloadsCached: boolean; payloadsPartlyCached: boolean; payloadSharers: number };
}

export interface NativeAes67ReceiverConfig extends NativeLinearTimescale {
  host: string;
  /** The stream's c= address (group or unicast) and m= port. */
  destination: string;
  port: number;
  sourceFilter?: string;
  sampleRate: number;
  channels: number;
  encoding: 'L16' | 'L24' | 'L32';
  payloadType: number;
  mediaclkOffset: number;
  playoutDelayNs?: number;
  recordSeconds?: number;
}

/** What the receiver recorded: the payload bytes by one-second block of media time. */
export interface NativeRecording {
  firstSample: bigint;
  lastFrameEnd: number;
  blocks: ({ bytes: Uint8Array; filled: Uint8Array } | null)[];
  /** Distinct chunk contents kept (a packet that repeats one is recorded by reference: native/src/chunked_recording.hpp). */
  storedChunks: number;
  /** Chunks copied privately (written by packets that did not fill one chunk exactly). */
  privateChunks: number;
}

export interface NativeAes67Receiver {
  poll(now: number): number;
  nativeActor(): NativeActorHandle;
  /** lab/peers/rtp-subscription.ts RtpMetrics. */
  metrics(): import('../lab/peers/rtp-subscription.ts').RtpMetrics;
  recording(): NativeRecording;
  /** The recording without its blocks (`blocks`: how many). */
  /** hashedLookups: lookups of the shared chunk store that hashed a chunk (native/src/chunk_store.hpp). */
  recordingSpan(): Omit<NativeRecording, 'blocks'> & { blocks: number; hashedLookups: number };
  /** Block `i` of the recording (NativeRecording's blocks[i]), copied out alone. */
  recordingBlock(i: number): { bytes: Uint8Array; filled: Uint8Array } | null;
  /** lab/peers/rtp-subscription.ts RecordingReader's, on the recording where it is held (native/src/recorded_channel.hpp). */
  countDifferingInRecording(comparisons: import('../lab/peers/rtp-subscription.ts').ChannelComparison[]): number[];
  readRecordedChannel(k: number, from: number, len: number, out: Float32Array, at: number): void;
  /** Flips bits `mask` of byte `byte` of recorded frame `frame` (tests of the measurement); false where nothing was recorded. */
  alterRecording(frame: number, byte: number, mask: number): boolean;
  close(): void;
}

export interface VirtualScheduler {
  /**
   * Starts a run (a scheduler serves many): run's first calls poll every actor once at the
   * clock's time, in order (returning a TypeScript actor's index as in the steps), then step.
   */
  begin(): void;
  /** Carries a run on (after begin and a run that returned -1): only native actors with something pending are polled first. */
  resume(): void;
  /**
   * Steps until a TypeScript actor has something to do (returns its index; poll it at
   * state[0] and call again), the end of a step when `stopEachStep` (-2), or the next
   * moment is after `untilNs` (-1). dues: one entry per actor; state[1] counts steps.
   */
  run(untilNs: number, dues: Float64Array, state: Float64Array, stopEachStep: boolean): number;
  /** From now on count and time each native actor's polls and the network's deliveries (steady clock), from zero. */
  setTimed(on: boolean): void;
  /** What setTimed counted: per actor (TypeScript actors' stay 0), the deliveries, the steps. */
  timings(): SchedulerTimings;
}

export interface SchedulerTimings {
  polls: Float64Array;
  ns: Float64Array;
  deliverNs: number;
  steps: number;
}

export interface VirtualActorsAddon {
  NativeAes67Sender: new (network: VirtualNetwork, config: NativeAes67SenderConfig) => NativeAes67Sender;
  NativeAes67Receiver: new (network: VirtualNetwork, config: NativeAes67ReceiverConfig) => NativeAes67Receiver;
  /** pollOn per actor: 0 every step, 1 when due, 2 when due or a TypeScript socket got datagrams (native actors say their own). */
  VirtualScheduler: new (network: VirtualNetwork, clock: VirtualClock, actors: (NativeActorHandle | null)[], pollOn: number[]) => VirtualScheduler;
}
