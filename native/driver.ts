// Types of the driver bindings (native/src/driver_binding.cc): the emulated DUT — RTP
// receivers, playout buffers, the device core, the HAL host emulator with its loopback
// client, RTP transmitters — on a VirtualNetwork host, stepped in virtual time.
import type { VirtualNetwork } from './index.ts';
import type { NativePcmEncoding } from './rtp.ts';
import type { NativeActorHandle } from './virtual-actors.ts';

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
  /** Stream id (default 'tx<n>'); unique among RX and TX streams. */
  id?: string;
  /** Announce the stream's SDP by SAP (re-announced at once when its SDP changes). */
  announce?: boolean;
  /** The SDP's direction attribute (default 'recvonly', as Dante expects); '' omits it. */
  direction?: string;
  /** Added to every packet's send time (ns, default 0): a device that sends late on purpose. */
  sendOffsetNs?: number;
}

/**
 * How an RX stream's RTP timestamps relate to the device's media clock: from the SDP by
 * default (RFC 7273: mediaclk:sender, or neither ts-refclk nor mediaclk, is sender-clocked),
 * or forced. A sender-clocked stream is anchored on arrival (driver/host/sender_clock_aligner.hpp).
 */
export type DutRxTiming = 'media-clock' | 'sender';

/** An RX stream by its SDP text (the first m=audio). */
export interface DutSdpReceiveConfig {
  id?: string;
  sdp: string;
  /** Stream channel i -> device input channel (0-based); default the first device channels. */
  deviceChannels?: number[];
  timing?: DutRxTiming;
}

/** An RX stream that follows the SAP session whose s= is `sapName` (subscribes when announced, follows changes, waits again on deletion or time-out). */
export interface DutSapReceiveConfig {
  id?: string;
  sapName: string;
  deviceChannels?: number[];
  timing?: DutRxTiming;
}

/** An RX stream of a RAVENNA session by its RTSP URL: it waits until provideSdp(id, sdp) hands it the DESCRIBE answer (and follows each ANNOUNCE handed on the same way). */
export interface DutRtspReceiveConfig {
  id: string;
  rtspUrl: string;
  deviceChannels?: number[];
  timing?: DutRxTiming;
}

export type DutReceiveConfig = DutStreamConfig | DutSdpReceiveConfig | DutSapReceiveConfig | DutRtspReceiveConfig;

/** The DUT's media clock from the engine's PTP slave on the DUT's host (native/ptp.ts PtpSlaveOptions names). */
export interface DutPtpConfig {
  /** Default true when the object is given. */
  enabled?: boolean;
  domain?: number;
  clockIdentity?: string;
  announceReceiptTimeout?: number;
  logMinDelayReqInterval?: number;
  seed?: number;
  /** 'after' (default, exact on the virtual network) or 'before'. */
  transmitStamp?: 'before' | 'after';
  /** Steps at least this large restart the device's time line (default: half the link offset); smaller ones are absorbed. */
  resyncThresholdNs?: number;
  servo?: import('./ptp.ts').PtpServoOptions;
}

export interface DutSapConfig {
  /** Run the SAP listener even when no RX stream follows a session by name. */
  listen?: boolean;
  /** 'a.b.c.d:port' groups to listen on (default 239.255.255.255:9875 and 224.2.127.254:9875). */
  groups?: string[];
  /** Floor of a session's time-out (RFC 2974: one hour). */
  minimumTimeoutNs?: number;
  assumedIntervalNs?: number;
  /** Where TX streams are announced (default 239.255.255.255:9875). */
  announceGroup?: string;
  /** Announcement interval (default 30 s). */
  announceIntervalNs?: number;
  announceTtl?: number;
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
  /** Host load (virtual-time IO): each IO cycle wakes up to this many ns after its predicted time, uniform, seeded by ioWakeSeed. */
  ioWakeDelayMaxNs?: number;
  ioWakeSeed?: number;
  /** On its own PTP clock, keep each TX stream's next due time while nothing it depends on changed (default true; false: recompute at every poll). */
  reuseTransmitDue?: boolean;
  /** IO cycle stamps kept until drained (default 65536; a full log drops the newest and counts them). */
  cycleLogCapacity?: number;
  /** Packet stamps (received and sent) kept until drained (default 65536; a full log drops the newest and counts them). */
  packetLogCapacity?: number;
  /** PTP time (ns) at local time 0: the DUT's media clock is (local + epoch) x rate, a perfectly locked PTP stand-in. */
  ptpEpochNs?: bigint | number;
  /** Rate error of that media clock: PTP time at local t is ptpEpochNs + t x (1 + ppm/1e6) (locked at local 0, drifting from there). */
  mediaClockPpm?: number;
  receive?: DutReceiveConfig[];
  transmit?: DutTransmitConfig[];
  /** AES67 media clock from the engine's PTP slave (replaces ptpEpochNs / mediaClockPpm). */
  ptp?: DutPtpConfig;
  sap?: DutSapConfig;
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
    id: string;
    /** Receiving (a SAP stream: its session is announced). */
    active: boolean;
    senderClocked: boolean;
    /** Why an inactive stream is not receiving. */
    problem: string;
    activations: number;
    /** Sender-clocked streams: the anchoring's counters. */
    aligner: { anchors: number; driftRealigns: number; ssrcRealigns: number; continued: number; transitMinFrames: number; transitMaxFrames: number } | null;
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
    id: string;
    announced: boolean;
    sapUpdates: number;
  }>;
  packetLogDropped: number;
  /** Restarts of the device's time line and why. */
  resync: {
    /** Media clock steps beyond the threshold: the time line restarted. */
    clockSteps: number;
    /** Smaller steps, left to the HAL's predictor. */
    absorbedSteps: number;
    largestStepNs: number;
    /** The HAL's configuration changes (stream changes and clock steps). */
    configurationChanges: number;
    /** Zero time stamps that jumped by more than a period without a restart (the HAL re-anchored). */
    timelineJumps: number;
  };
}

export interface DutPtpStatus {
  clockIdentity: string;
  domain: number;
  portState: 'LISTENING' | 'UNCALIBRATED' | 'SLAVE';
  servoState: 'unlocked' | 'stepping' | 'locked' | 'locked-stable';
  locked: boolean;
  /** The grandmaster followed now (ptp4l's form), or null. */
  grandmaster: string | null;
  /** The grandmaster the TX SDPs name: the current one, or the last one through a loss. */
  followedGrandmaster: string | null;
  parentPort: string | null;
  hasOffset: boolean;
  offsetNs: number;
  pathDelayNs: number;
  frequencyPpb: number;
  lockedSince: number | null;
  startedAt: number;
  /** Local time of the first lock (lock time = firstLockAt - startedAt). */
  firstLockAt: number | null;
  /** Local time the current grandmaster was first followed. */
  grandmasterSince: number | null;
  resyncThresholdNs: number;
  /** The device's rate scalar (zero time stamps) and the media clock's drift estimate. */
  rateScalar: number;
  driftPpm: number;
  counters: {
    syncSamples: number;
    delaySamples: number;
    announceTimeouts: number;
    parentChanges: number;
    grandmasterChanges: number;
    servoSamples: number;
    steps: number;
    lastStepNs: number;
    locks: number;
    lockLosses: number;
    spikes: number;
    sampleTimeouts: number;
    sendFailures: number;
  };
}

export interface DutStreams {
  receive: Array<{
    id: string;
    active: boolean;
    sapName: string | null;
    senderClocked: boolean;
    problem: string;
    activations: number;
    name: string | null;
    destination: string | null;
    deviceChannels: number[];
  }>;
  transmit: Array<{ id: string; announced: boolean; sapUpdates: number; sdp: string }>;
}

export interface DutSapSession {
  origin: string;
  msgIdHash: number;
  sdp: string;
  lastHeard: number;
  announcements: number;
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
  /** The PTP slave's state as the DUT uses it; null without `ptp`. */
  ptpStatus(): DutPtpStatus | null;
  /** The SDP of a TX stream (index or id). */
  txSdp(stream: number | string): string;
  streams(): DutStreams;
  /** SAP sessions the DUT's listener holds (empty without one). */
  sapSessions(): DutSapSession[];
  /** Adds a stream at run time (a configuration change: IO restarts); returns its index. */
  addReceive(stream: DutReceiveConfig): number;
  addTransmit(stream: DutTransmitConfig): number;
  removeStream(id: string): void;
  /** The DUT's media clock at a local time. */
  mediaTimeAt(localNs: number): number;
  /** The DUT's PTP time (ns) at a local time, by its PTP slave; null without `ptp` or before the slave has an offset. */
  ptpTimeAt(localNs: number): bigint | null;
  /** Hands an RTSP stream (rtspUrl) its SDP: the DESCRIBE answer, or an ANNOUNCE's new one. */
  provideSdp(id: string, sdp: string): void;
  /** Drains what the DUT reported (activations, clock steps, grandmaster changes), with the virtual time. */
  events(): Array<{ at: number; what: string }>;
  /**
   * The DUT as lab/net/lab-transport.ts runVirtual's native scheduler polls it
   * (native/virtual-actors.ts): when due, when a datagram reached its host, and after any
   * change made to it; everyStep: at every step (the straightforward way, kept to check the
   * other). One per DUT: the same everyStep at every call.
   */
  nativeActor(everyStep?: boolean): NativeActorHandle;
  /**
   * packetStamps() and cycleStamps() drained at once as rows of 9 numbers each (DutPacketStamp
   * fields in order, direction as received 1 / sent 0 and accepted as 1/0; DutCycleStamp
   * fields in order): lab/scenario/device-log.ts addStampColumns reads them.
   */
  stampColumns(): { packets: Float64Array; cycles: Float64Array };
  /** Empties both stamp logs unread. */
  discardStamps(): void;
  /**
   * From now on foldStamps() folds the stamp rings in C++ as lab/scenario/device-log.ts
   * DeviceLog does (native/src/device_stamp_fold.hpp), with the device's local time of a
   * media sample on one of the runner's two closed-form time lines.
   */
  startStampFold(options: { framesPerPacket: number[]; transmitStreams: number; time: DutFoldTime }): void;
  /** Drains both stamp rings into the fold: one slice, as DeviceLog.addSlice. */
  foldStamps(): void;
  /** What the fold holds, as DeviceLog's fields (ranges as [from, to] pairs): DeviceLog.absorb takes it. */
  stampFold(): DutStampFold;
  /**
   * What the runner samples of the PTP slave every slice, into `out` (6 numbers): locked
   * (1/0), hasOffset (1/0), firstLockAt (-1 before), syncSamples, a version that changes
   * whenever ptpStatus()'s grandmaster or grandmasterSince would, and 0. False without PTP.
   */
  ptpBrief(out: Float64Array): boolean;
  /** counters().receivers[i].playout.fillFrames for every receive stream, into `out`. */
  playoutFills(out: Float64Array): void;
}

/** The device's local time of media sample m (lab/scenario/runner.ts deviceLocalTimeOf). */
export interface DutFoldTime {
  /** 'linear-ptp': linearTimescale(epochNs, ppm).localTimeOf(ptpTimeOfSample(m, rate)); 'stand-in': the stand-in media clock's, at ppm. */
  kind: 'linear-ptp' | 'stand-in';
  epochNs: bigint;
  ppm: number;
  rate: number;
}

export interface DutStampFold {
  receive: {
    framesPerPacket: number;
    firstAccepted?: number;
    acceptedEnd?: number;
    /** [from, to] pairs. */
    gaps: Float64Array;
    refused: Float64Array;
    duplicates: number;
    packets: number;
    transitCount: number;
    transitSum: number;
    transitMin: number;
    transitMax: number;
    reg: { n: number; sx: number; sy: number; sxx: number; sxy: number; x0: number };
  }[];
  sentPackets: number[];
  cycles: number;
  inputSpan: { min: number; max: number };
  outputSpan: { min: number; max: number };
  cycleFrames: { min: number; max: number };
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
