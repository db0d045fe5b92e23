// Types of the driver bindings (native/src/driver_binding.cc): the emulated DUT — RTP
// receivers, playout buffers, the device core, the HAL host emulator with its loopback
// client, RTP transmitters — on a VirtualNetwork host, stepped in virtual time.
import type { VirtualNetwork } from './index.ts';
import type { NativePcmEncoding } from './rtp.ts';

/** One RTP stream as a parsed SDP describes it (driver/host/rtp_stream_description.hpp). */
export interface DutStreamConfig {
  /** SDP s=. */
  name: string;
  /** c= address and m= port, 'a.b.c.d:port'. */
  destination: string;
  /** a=source-filter source (receive only). */
  source?: string;
  encoding: NativePcmEncoding;
  channels: number;
  sampleRate: number;
  payloadType?: number;
  /** a=mediaclk:direct= offset. */
  mediaclkOffset?: number;
  /** a=ptime in frames (or a=framecount). */
  framesPerPacket: number;
  channelLabels?: string[];
  ttl?: number;
  /** Stream channel i <-> device channel deviceChannels[i] (0-based). */
  deviceChannels: number[];
}

export interface DutTransmitConfig extends DutStreamConfig {
  ssrc?: number;
  /** Default 34 (AF41). */
  dscp?: number;
}

export interface EmulatedDutConfig {
  device?: {
    name?: string;
    uid?: string;
    inputChannels?: number;
    outputChannels?: number;
    sampleRate?: number;
    zeroTimeStampPeriod?: number;
  };
  ioBufferFrames?: number;
  /** Received audio is presented this many frames after its media time. */
  linkOffsetFrames?: number;
  /** PTP time (ns) at local time 0: the DUT's media clock is (local + epoch) x rate, a perfectly locked PTP stand-in. */
  ptpEpochNs?: bigint | number;
  /** Rate error of that media clock (LocalMediaClock's ppm). */
  mediaClockPpm?: number;
  receive?: DutStreamConfig[];
  transmit?: DutTransmitConfig[];
  /** Output o takes input loopbackMap[o] (-1: silent); absent: identity. */
  loopbackMap?: number[];
}

export interface DutProperties {
  name: string;
  uid: string;
  inputChannels: number;
  outputChannels: number;
  sampleRate: number;
  ioBufferFrames: number;
  minIoBufferFrames: number;
  maxIoBufferFrames: number;
  zeroTimeStampPeriod: number;
  inputLatencyFrames: number;
  inputSafetyOffsetFrames: number;
  outputLatencyFrames: number;
  outputSafetyOffsetFrames: number;
  inputChannelNames: string[];
  outputChannelNames: string[];
}

export interface DutTimeline {
  running: boolean;
  /** Media time of device sample 0. */
  anchor: number;
  seed: number;
  hostTicksPerFrame: number;
  rateScalar: number;
  zeroTimeStampsPublished: number;
}

export interface DutCounters {
  device: {
    ioCycles: number;
    zeroTimeStampCalls: number;
    readInputCalls: number;
    writeMixCalls: number;
    framesRead: number;
    framesWritten: number;
    inputDiscontinuities: number;
    outputDiscontinuities: number;
    oversizeRequests: number;
    callsWhileStopped: number;
    unsupportedOperations: number;
  };
  host: {
    cycles: number;
    zeroTimeStampCalls: number;
    zeroTimeStampsSeen: number;
    ioErrors: number;
    maxLatenessNs: number;
    cycleLogDropped: number;
  };
  receivers: Array<{
    received: number;
    accepted: number;
    lost: number;
    reordered: number;
    ssrcChanges: number;
    transitMinNs: number;
    transitMaxNs: number;
    socketOverflows: number;
    oversizeDatagrams: number;
    dropped: Record<string, number>;
    playout: {
      framesWritten: number;
      framesPlayed: number;
      framesMissing: number;
      framesPriming: number;
      glitches: number;
      latePackets: number;
      earlyPackets: number;
      duplicatePackets: number;
      fillFrames: number;
    };
  }>;
  transmitters: Array<{
    packetsSent: number;
    sendErrors: number;
    framesSent: number;
    latenessMaxNs: number;
    waitingForAudio: number;
    ringOverflowFrames: number;
    ringGaps: number;
    ringGapFrames: number;
    firstMediaTime: number | null;
  }>;
  packetLogDropped: number;
}

/** One IO cycle of the HAL host emulator. Sample times are device time; mediaCurrentTime is currentTime on the media clock. */
export interface DutCycleStamp {
  cycle: number;
  predictedHostTime: number;
  wakeHostTime: number;
  currentTime: number;
  inputTime: number;
  outputTime: number;
  mediaCurrentTime: number;
  frames: number;
  hostTicksPerFrame: number;
}

/** A packet the DUT received or sent. deviceTime: input presentation time (received) or output sample time (sent). */
export interface DutPacketStamp {
  direction: 'received' | 'sent';
  accepted: boolean;
  stream: number;
  sequence: number;
  rtpTimestamp: number;
  frames: number;
  mediaTime: number;
  hostTime: number;
  deviceTime: number;
}

export interface EmulatedDut {
  /** Starts IO (once). */
  start(): void;
  stop(): void;
  /** Does what is due at the network clock's now; the next time (ns) it wants to run, or null when stopped. */
  poll(): number | null;
  properties(): DutProperties;
  timeline(): DutTimeline;
  counters(): DutCounters;
  /** Drains the IO cycle log. */
  cycleStamps(): DutCycleStamp[];
  /** Drains the packet log. */
  packetStamps(): DutPacketStamp[];
}

/** One IO-cycle measurement (driver/host/io_cycle_benchmark.hpp): medians of 100-cycle batches. */
export interface IoCycleMeasurement {
  channels: number;
  bufferFrames: number;
  cycles: number;
  ioNsPerCycle: number;
  /** memcpy of the same bytes (input + output buffers), timed the same way in the same run. */
  memcpyNsPerCycle: number;
  bytesPerCycle: number;
}

export interface DriverAddon {
  EmulatedDut: new (network: VirtualNetwork, hostAddress: string, config: EmulatedDutConfig) => EmulatedDut;
  measureIoCycle(options: { channels: number; bufferFrames: number; cycles: number }): IoCycleMeasurement;
}
